package cluster

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/topology"
)

// TestPendingLoadBalancerSaysWhy: a LoadBalancer Service in a lab without
// cluster.loadBalancerPool gets a Warning event and a describe that say why it is
// pending and how to fix it (issue 14).
func TestPendingLoadBalancerSaysWhy(t *testing.T) {
	s := newSupervisor(t)
	r := s.admitAndStore(topology.Object{APIVersion: "v1", Kind: "Service", Namespace: "default", Name: "lb",
		Raw: []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"lb"},"spec":{"type":"LoadBalancer","selector":{"app":"web-1"},"ports":[{"port":80}]}}`)})
	if r.Error != "" {
		t.Fatal(r.Error)
	}
	const hint = "no loadBalancerPool in the lab file: add cluster.loadBalancerPool (e.g. 172.30.0.240/28)"
	var warned bool
	for _, o := range s.kubeEvents("default") {
		var ev corev1.Event
		if err := json.Unmarshal(o.Object, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.InvolvedObject.Kind == "Service" && ev.InvolvedObject.Name == "lb" {
			warned = ev.Type == corev1.EventTypeWarning && ev.Reason == "AllocationFailed" && strings.Contains(ev.Message, hint)
		}
	}
	if !warned {
		t.Errorf("no Warning AllocationFailed event for default/lb saying %q", hint)
	}
	d, err := s.Details(context.Background(), "svc", "default", "lb")
	if err != nil {
		t.Fatal(err)
	}
	var body string
	for _, sec := range d.Sections {
		body += "== " + sec.Title + " ==\n" + sec.Body
	}
	for _, want := range []string{"Type:                     LoadBalancer", "LoadBalancer Ingress:     <pending>: " + hint, "AllocationFailed"} {
		if !strings.Contains(body, want) {
			t.Errorf("describe svc lacks %q:\n%s", want, body)
		}
	}
}
