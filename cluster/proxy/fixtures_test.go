package proxy

import (
	"context"
	"net/netip"
	"sort"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/knftables"
)

// The node of upstream's proxier_test.go, so its golden rulesets apply unchanged.
const (
	testNodeName = "test-node"
	testNodeIP   = "192.168.0.2"
)

var testNode = Node{
	Name:        testNodeName,
	IPs:         []netip.Addr{netip.MustParseAddr(testNodeIP)},
	ClusterCIDR: netip.MustParsePrefix("10.0.0.0/8"),
	ServiceCIDR: netip.MustParsePrefix("172.30.0.0/16"),
}

func newFakeProxier() (*knftables.Fake, *Proxier) {
	nft := knftables.NewFake(knftables.IPv4Family, tableName)
	return nft, New(nft, testNode)
}

func mustSync(t testing.TB, p *Proxier, svcs []*v1.Service, slices []*discoveryv1.EndpointSlice) {
	t.Helper()
	if err := p.Sync(context.Background(), svcs, slices); err != nil {
		t.Fatalf("Sync: %v", err)
	}
}

func makeService(ns, name string, f func(*v1.Service)) *v1.Service {
	svc := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1.ServiceSpec{Type: v1.ServiceTypeClusterIP},
	}
	f(svc)
	return svc
}

func tcpPort(name string, port, nodePort int32) v1.ServicePort {
	return v1.ServicePort{Name: name, Port: port, Protocol: v1.ProtocolTCP, NodePort: nodePort, TargetPort: intstr.FromInt32(port)}
}

type ep struct {
	ip   string
	node string
	// nil conditions mean ready, as in the API
	ready, serving, terminating *bool
}

func makeSlice(ns, svc string, ports []discoveryv1.EndpointPort, eps ...ep) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: svc + "-abcde",
			Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       ports,
	}
	for _, e := range eps {
		d := discoveryv1.Endpoint{Addresses: []string{e.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: e.ready, Serving: e.serving, Terminating: e.terminating}}
		if e.node != "" {
			d.NodeName = knftables.PtrTo(e.node)
		}
		s.Endpoints = append(s.Endpoints, d)
	}
	return s
}

func slicePort(name string, port int32, proto v1.Protocol) []discoveryv1.EndpointPort {
	return []discoveryv1.EndpointPort{{Name: knftables.PtrTo(name), Port: knftables.PtrTo(port), Protocol: knftables.PtrTo(proto)}}
}

// normalize turns a dump or an expected ruleset into sorted lines, without blank
// lines and "#" comments, so the order of a transaction does not matter.
func normalize(s string, dropCounting bool) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		if dropCounting && isCountingLine(l) {
			continue
		}
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// isCountingLine recognizes podlab's per-endpoint accounting, absent upstream.
func isCountingLine(l string) bool {
	return strings.Contains(l, endpointCountersMap) || strings.Contains(l, countEndpointsChain) ||
		strings.HasPrefix(l, "add counter ")
}

func assertRuleset(t *testing.T, want, got string, dropCounting bool) {
	t.Helper()
	w, g := normalize(want, dropCounting), normalize(got, dropCounting)
	wm, gm := map[string]int{}, map[string]int{}
	for _, l := range w {
		wm[l]++
	}
	for _, l := range g {
		gm[l]++
	}
	var diff []string
	for _, l := range w {
		if gm[l] == 0 {
			diff = append(diff, "- "+l)
		} else {
			gm[l]--
		}
	}
	for _, l := range g {
		if wm[l] == 0 {
			diff = append(diff, "+ "+l)
		} else {
			wm[l]--
		}
	}
	if len(diff) > 0 {
		t.Errorf("ruleset differs (- want, + got):\n%s\n\nfull result:\n%s", strings.Join(diff, "\n"), got)
	}
}

// baseRules is upstream's baseRules (proxier_test.go, v1.37.2) for this node.
const baseRules = `
add table ip kube-proxy { comment "rules for kube-proxy" ; }

add set ip kube-proxy cluster-ips { type ipv4_addr ; comment "Active ClusterIPs" ; }
add set ip kube-proxy nodeport-ips { type ipv4_addr ; comment "IPs that accept NodePort traffic" ; }
add set ip kube-proxy hairpin-connections { type ipv4_addr . ipv4_addr . inet_proto . inet_service ; comment "service hairpin connections" ; }

add map ip kube-proxy firewall-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }
add map ip kube-proxy no-endpoint-nodeports { type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }
add map ip kube-proxy no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }
add map ip kube-proxy service-nodeports { type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }

add chain ip kube-proxy cluster-ips-check
add chain ip kube-proxy filter-prerouting-pre-dnat { type filter hook prerouting priority -110 ; }
add chain ip kube-proxy filter-output-pre-dnat { type filter hook output priority -110 ; }
add chain ip kube-proxy filter-forward { type filter hook forward priority 0 ; }
add chain ip kube-proxy filter-input { type filter hook input priority 0 ; }
add chain ip kube-proxy filter-output { type filter hook output priority 0 ; }
add chain ip kube-proxy firewall-check
add chain ip kube-proxy masquerading
add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }
add chain ip kube-proxy nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip kube-proxy nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip kube-proxy nodeport-endpoints-check
add chain ip kube-proxy reject-chain { comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }
add chain ip kube-proxy services
add chain ip kube-proxy service-endpoints-check

add rule ip kube-proxy cluster-ips-check ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"
add rule ip kube-proxy cluster-ips-check ip daddr { 172.30.0.0/16 } drop comment "Drop traffic to unallocated ClusterIPs"
add rule ip kube-proxy filter-prerouting-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-forward ct state new jump service-endpoints-check
add rule ip kube-proxy filter-forward ct state new jump cluster-ips-check
add rule ip kube-proxy filter-input ct state new jump nodeport-endpoints-check
add rule ip kube-proxy filter-input ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output ct state new jump service-endpoints-check
add rule ip kube-proxy filter-output-pre-dnat ct state new jump firewall-check
add rule ip kube-proxy filter-output ct state new jump cluster-ips-check
add rule ip kube-proxy firewall-check ip daddr . meta l4proto . th dport vmap @firewall-ips
add rule ip kube-proxy masquerading mark and 0x4000 != 0 mark set mark xor 0x4000 masquerade fully-random
add rule ip kube-proxy masquerading ct status dnat ip saddr . ip daddr . meta l4proto . th dport @hairpin-connections masquerade fully-random
add rule ip kube-proxy nat-output jump services
add rule ip kube-proxy nat-postrouting jump masquerading
add rule ip kube-proxy nat-prerouting jump services
add rule ip kube-proxy nodeport-endpoints-check ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports
add rule ip kube-proxy reject-chain reject
add rule ip kube-proxy services ip daddr @cluster-ips ip saddr != 10.0.0.0/8 mark set mark or 0x4000 comment "masquerade clusterIP traffic from outside cluster"
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports

add element ip kube-proxy nodeport-ips { 192.168.0.2 }
add rule ip kube-proxy service-endpoints-check ip daddr . meta l4proto . th dport vmap @no-endpoint-services
`

// countingRules is podlab's fixed addition to baseRules.
const countingRules = `
add map ip kube-proxy endpoint-port-counters { type ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service : counter ; comment "podlab: per-endpoint packet and byte counters" ; }
add chain ip kube-proxy count-endpoints
add rule ip kube-proxy count-endpoints meta l4proto tcp counter name ct original ip daddr . meta l4proto . ct original proto-dst . ip daddr . th dport map @endpoint-port-counters
add rule ip kube-proxy count-endpoints meta l4proto udp counter name ct original ip daddr . meta l4proto . ct original proto-dst . ip daddr . th dport map @endpoint-port-counters
add rule ip kube-proxy count-endpoints meta l4proto sctp counter name ct original ip daddr . meta l4proto . ct original proto-dst . ip daddr . th dport map @endpoint-port-counters
add rule ip kube-proxy filter-input ct status dnat ct direction original jump count-endpoints
add rule ip kube-proxy filter-forward ct status dnat ct direction original jump count-endpoints
add rule ip kube-proxy filter-output ct status dnat ct direction original jump count-endpoints
`

// listCounter counts how often the proxier reads the table back.
type listCounter struct {
	*knftables.Fake
	lists int
}

func (l *listCounter) List(ctx context.Context, kind string) ([]string, error) {
	l.lists++
	return l.Fake.List(ctx, kind)
}

func (l *listCounter) ListElements(ctx context.Context, kind, name string) ([]*knftables.Element, error) {
	l.lists++
	return l.Fake.ListElements(ctx, kind, name)
}

// A proxier told that its table is new writes it without reading anything back (each
// read is an nft process); without that, or after a failed sync, it reads it back.
func TestAssumeNewSkipsReadingBack(t *testing.T) {
	svc := makeService("ns", "web", func(s *v1.Service) {
		s.Spec.ClusterIP = "172.30.0.41"
		s.Spec.Ports = []v1.ServicePort{tcpPort("p80", 80, 0)}
	})
	for _, assume := range []bool{true, false} {
		nft := &listCounter{Fake: knftables.NewFake(knftables.IPv4Family, tableName)}
		p := New(nft, testNode)
		if assume {
			p.AssumeNew()
		}
		mustSync(t, p, []*v1.Service{svc}, nil)
		if assume && nft.lists != 0 || !assume && nft.lists == 0 {
			t.Errorf("AssumeNew %v: the first sync read the table back %d times", assume, nft.lists)
		}
		want := knftables.NewFake(knftables.IPv4Family, tableName)
		mustSync(t, New(want, testNode), []*v1.Service{svc}, nil)
		if got, w := nft.Dump(), want.Dump(); got != w {
			t.Errorf("AssumeNew %v: table differs from a normal first sync:\n%s\nwant:\n%s", assume, got, w)
		}
	}
}
