package services

import (
	"fmt"
	"net/netip"
	"testing"

	"podlab.dev/podlab/topology"
)

// BenchmarkApply10000 applies 10,000 Services (every fourth a NodePort) to a fresh registry.
func BenchmarkApply10000(b *testing.B) {
	svcs := make([]*struct{ ns, name string }, 10000)
	for i := range svcs {
		svcs[i] = &struct{ ns, name string }{fmt.Sprintf("ns%d", i%10), fmt.Sprintf("svc-%d", i)}
	}
	b.ReportAllocs()
	for b.Loop() {
		r := NewRegistry(Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12")})
		for i, s := range svcs {
			in := svc(s.ns, s.name)
			if i%4 == 0 {
				nodePort(in)
			}
			if _, err := r.Apply(in, topology.Pos{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkEndpointSlices1000 computes the slices of a Service selecting 1,000 of 2,000 pods.
func BenchmarkEndpointSlices1000(b *testing.B) {
	s := svc("default", "web")
	s.Spec.Ports[0].Name = "http"
	var pods []Pod
	for i := range 2000 {
		app := "web"
		if i%2 == 1 {
			app = "other"
		}
		pods = append(pods, Pod{Namespace: "default", Name: fmt.Sprintf("web-%d", i), Node: fmt.Sprintf("worker-%d", i%3),
			IP: netip.AddrFrom4([4]byte{10, 244, byte(i / 250), byte(i%250 + 2)}), Labels: map[string]string{"app": app}, Ready: i%10 != 0,
			Ports: []topology.Port{{Name: "http", Port: 8080, Protocol: "TCP"}}})
	}
	if n := len(EndpointSlices(s, pods)); n != 10 {
		b.Fatalf("%d slices, want 10", n)
	}
	b.ReportAllocs()
	for b.Loop() {
		EndpointSlices(s, pods)
	}
}
