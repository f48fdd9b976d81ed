package netpol

import (
	"net/netip"
	"testing"
)

// Any change a node must enforce changes its fingerprint; the same rules give the same.
func TestHashRules(t *testing.T) {
	base := func() []PodRules {
		return []PodRules{{Namespace: "x", Name: "a", IP: netip.MustParseAddr("10.244.1.2"), IngressIsolated: true,
			Ingress: []Rule{{Policy: "x/p", Index: 0, Peers: []Peer{{IPs: []netip.Addr{netip.MustParseAddr("10.244.2.3")}},
				{CIDR: netip.MustParsePrefix("10.0.0.0/8"), Except: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}},
				Ports: []Port{{Protocol: "TCP", Port: 80, EndPort: 90}}}}}}
	}
	h := hashRules(base())
	if hashRules(base()) != h {
		t.Fatal("the same rules hash differently")
	}
	for name, change := range map[string]func(r []PodRules){
		"peer IP":    func(r []PodRules) { r[0].Ingress[0].Peers[0].IPs[0] = netip.MustParseAddr("10.244.2.4") },
		"except":     func(r []PodRules) { r[0].Ingress[0].Peers[1].Except = nil },
		"end port":   func(r []PodRules) { r[0].Ingress[0].Ports[0].EndPort = 91 },
		"protocol":   func(r []PodRules) { r[0].Ingress[0].Ports[0].Protocol = "UDP" },
		"isolation":  func(r []PodRules) { r[0].EgressIsolated = true },
		"rule index": func(r []PodRules) { r[0].Ingress[0].Index = 1 },
		"pod IP":     func(r []PodRules) { r[0].IP = netip.MustParseAddr("10.244.1.9") },
	} {
		r := base()
		change(r)
		if hashRules(r) == h {
			t.Errorf("%s changed, the hash did not", name)
		}
	}
}
