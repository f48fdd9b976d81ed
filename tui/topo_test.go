package tui

import (
	"strings"
	"testing"
)

// :topo showed no Services: they come below the tree with their cluster, external
// and LoadBalancer addresses, and enter opens one's details.
func TestTopoServices(t *testing.T) {
	hs := newHarness(t, 3, 200, 60)
	hs.keys(":topo<enter>")
	wantOnScreen(t, hs.screen(),
		"services 10.96.0.0/12 (kube-proxy on every node)",
		"svc shop/api-lb  LoadBalancer 10.96.0.40  LB 172.30.0.200  80:31080/TCP",
		"svc default/web  ClusterIP 10.96.0.20  external 172.30.0.250",
		"svc default/db  ExternalName → db.example.com")
	hs.keys("/api-lb<enter>")
	for range 10 {
		if tg, ok := hs.a.selected(); ok && tg.Kind == kindService {
			break
		}
		hs.keys("<down>")
	}
	if tg, ok := hs.a.selected(); !ok || tg != (target{kindService, "shop", "api-lb"}) {
		t.Fatalf("selected %v %v, want the Service shop/api-lb", tg, ok)
	}
	hs.keys("<enter>")
	if s := hs.screen(); !strings.Contains(s, "load balancer ingress") {
		t.Errorf("enter on a Service should open its details:\n%s", s)
	}
}

// wantOnScreen reports each of want that screen s lacks.
func wantOnScreen(t *testing.T, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("want %q on the screen:\n%s", w, s)
		}
	}
}
