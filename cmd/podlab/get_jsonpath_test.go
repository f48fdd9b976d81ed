package main

import (
	"bytes"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// -o jsonpath= runs the templates kubectl users write.
func TestJSONPath(t *testing.T) {
	a, b := pod("web-1", nil), pod("web-2", nil)
	a.Status.PodIP, b.Status.PodIP = "10.244.1.2", "10.244.2.3"
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       corev1.ServiceSpec{ClusterIP: "10.96.0.10"},
	}
	list := getResult([]any{a, b}, "")
	for _, tc := range []struct {
		tmpl string
		v    any
		want string
	}{
		{"{.items[*].metadata.name}", list, "web-1 web-2"},
		{"{.items[0].status.podIP}", list, "10.244.1.2"},
		{`{range .items[*]}{.metadata.name}{"\n"}{end}`, list, "web-1\nweb-2\n"},
		{"{.spec.clusterIP}", getResult([]any{svc}, "web"), "10.96.0.10"},
		{"{.spec.nothing}", getResult([]any{svc}, "web"), ""},
	} {
		var buf bytes.Buffer
		out, ok := jsonPathTemplate("jsonpath=" + tc.tmpl)
		if !ok {
			t.Fatal("jsonpath= not recognized")
		}
		if err := printJSONPath(&buf, out, tc.v); err != nil {
			t.Fatalf("%s: %v", tc.tmpl, err)
		}
		if buf.String() != tc.want {
			t.Errorf("%s: got %q, want %q", tc.tmpl, buf.String(), tc.want)
		}
	}
	if err := printJSONPath(&bytes.Buffer{}, "{.items[", list); err == nil {
		t.Error("a broken template was accepted")
	}
}
