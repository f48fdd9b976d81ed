package main

import (
	"bytes"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab.dev/podlab/topology"
)

func pod(name string, l map[string]string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: l},
	}
}

func names(objs []runtime.Object) string {
	var b bytes.Buffer
	printNames(&b, objs)
	return strings.TrimSpace(b.String())
}

// -l keeps what kubectl's selector grammar matches.
func TestSelectLabels(t *testing.T) {
	objs := []runtime.Object{
		pod("web-1", map[string]string{"app": "web", "tier": "front"}),
		pod("db-1", map[string]string{"app": "db"}),
		pod("bare", nil),
	}
	for _, tc := range []struct{ sel, want string }{
		{"", "pod/web-1\npod/db-1\npod/bare"},
		{"app=web", "pod/web-1"},
		{"app in (web,db)", "pod/web-1\npod/db-1"},
		{"app,tier!=front", "pod/db-1"},
		{"!app", "pod/bare"},
		{"app=nothing", ""},
	} {
		sel, err := labels.Parse(tc.sel)
		if err != nil {
			t.Fatalf("%q: %v", tc.sel, err)
		}
		if got := names(selectLabels(objs, sel)); got != tc.want {
			t.Errorf("-l %q: got %q, want %q", tc.sel, got, tc.want)
		}
	}
}

// -o name is kind[.group]/name, as kubectl prints it.
func TestPrintNames(t *testing.T) {
	ic := &networkingv1.IngressClass{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "IngressClass"},
		ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
	}
	got := names([]runtime.Object{pod("web-1", nil), ic})
	if want := "pod/web-1\ningressclass.networking.k8s.io/nginx"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// --show-labels adds kubectl's LABELS column last, after the wide ones; cluster-scoped
// kinds get no NAMESPACE column even with -A.
func TestPrintObjectsColumns(t *testing.T) {
	objs := []runtime.Object{pod("web-1", map[string]string{"tier": "front", "app": "web"}), pod("bare", nil)}
	var b bytes.Buffer
	if err := printObjects(&b, "Pod", objs, tableOptions{wide: true, labels: true}, nil); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if !strings.HasSuffix(strings.TrimSpace(lines[0]), "READINESS GATES   LABELS") ||
		!strings.HasSuffix(lines[1], "app=web,tier=front") || !strings.HasSuffix(lines[2], "<none>") {
		t.Errorf("--show-labels -o wide:\n%s", b.String())
	}
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"}}
	b.Reset()
	if err := printObjects(&b, "IngressClass", []runtime.Object{ic}, tableOptions{allNS: true}, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "NAMESPACE") || !strings.HasPrefix(b.String(), "NAME") {
		t.Errorf("IngressClass with -A has a NAMESPACE column:\n%s", b.String())
	}
	if !allClusterScoped([]string{"IngressClass", "Node"}) || allClusterScoped([]string{"Node", "Pod"}) {
		t.Error("allClusterScoped")
	}
}

// Every resource name get accepts for a cluster-scoped kind is known as one to the
// lab file's decoder, so get lists it without -A.
func TestClusterScopedResources(t *testing.T) {
	for _, r := range []string{"ingressclass", "ns", "no", "sc", "pv", "pc", "clusterrole", "gatewayclass", "gatewayclasses", "gc"} {
		k, ok := resources[r]
		if !ok {
			t.Errorf("get %s: unknown resource", r)
			continue
		}
		if !topology.ClusterScoped(k) {
			t.Errorf("%s (%s) is not cluster-scoped", r, k)
		}
	}
}
