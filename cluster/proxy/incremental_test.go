package proxy

import (
	"context"
	"fmt"
	"net/netip"

	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/knftables"
)

func webSvc(name, ip string) *v1.Service {
	return makeService("default", name, func(s *v1.Service) {
		s.Spec.ClusterIP = ip
		s.Spec.Ports = []v1.ServicePort{{Name: "http", Port: 80, Protocol: v1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}}
	})
}

func webSlice(name string, ips ...string) *discoveryv1.EndpointSlice {
	var eps []ep
	for _, ip := range ips {
		eps = append(eps, ep{ip: ip, node: "other-node"})
	}
	return makeSlice("default", name, slicePort("http", 8080, v1.ProtocolTCP), eps...)
}

func lastTx(nft *knftables.Fake) string {
	nft.RLock()
	defer nft.RUnlock()
	if nft.LastTransaction == nil {
		return ""
	}
	return nft.LastTransaction.String()
}

func TestIncrementalUpdates(t *testing.T) {
	nft, p := newFakeProxier()
	a, b := webSvc("a", "172.30.0.11"), webSvc("b", "172.30.0.12")
	mustSync(t, p, []*v1.Service{a, b}, []*discoveryv1.EndpointSlice{webSlice("a", "10.0.2.1"), webSlice("b", "10.0.2.2")})
	full := lastTx(nft)
	if !strings.Contains(full, "add table") {
		t.Fatalf("first sync is not a full one:\n%s", full)
	}

	// Nothing changed: no transaction at all.
	mustSync(t, p, []*v1.Service{a, b}, []*discoveryv1.EndpointSlice{webSlice("a", "10.0.2.1"), webSlice("b", "10.0.2.2")})
	if got := lastTx(nft); got != full {
		t.Errorf("an unchanged sync ran a transaction:\n%s", got)
	}

	// Add an endpoint to a: only a's chain and a's counter elements change.
	mustSync(t, p, []*v1.Service{a, b}, []*discoveryv1.EndpointSlice{webSlice("a", "10.0.2.1", "10.0.2.9"), webSlice("b", "10.0.2.2")})
	a2 := "service-SAQX6RRJ-default/a/tcp/http"
	assertTx(t, lastTx(nft), `
add chain ip kube-proxy service-SAQX6RRJ-default/a/tcp/http
flush chain ip kube-proxy service-SAQX6RRJ-default/a/tcp/http
add counter ip kube-proxy endpoint-D3SYFZGI-default/a/tcp/http__10.0.2.9/8080
add element ip kube-proxy endpoint-port-counters { 172.30.0.11 . tcp . 80 . 10.0.2.9 . 8080 : "endpoint-D3SYFZGI-default/a/tcp/http__10.0.2.9/8080" }
add rule ip kube-proxy service-SAQX6RRJ-default/a/tcp/http meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.0.2.1 . 8080 , 1 : 10.0.2.9 . 8080 }
`)
	if strings.Contains(lastTx(nft), "default/b/") {
		t.Errorf("b was rewritten though it did not change")
	}

	// Remove it again: the chain is rewritten, its counter goes.
	mustSync(t, p, []*v1.Service{a, b}, []*discoveryv1.EndpointSlice{webSlice("a", "10.0.2.1"), webSlice("b", "10.0.2.2")})
	assertTx(t, lastTx(nft), `
add chain ip kube-proxy `+a2+`
flush chain ip kube-proxy `+a2+`
add rule ip kube-proxy `+a2+` meta l4proto tcp dnat to 10.0.2.1:8080
delete element ip kube-proxy endpoint-port-counters { 172.30.0.11 . tcp . 80 . 10.0.2.9 . 8080 }
delete counter ip kube-proxy endpoint-D3SYFZGI-default/a/tcp/http__10.0.2.9/8080
`)

	// Delete service a: its elements, chain and counter go, nothing else changes.
	mustSync(t, p, []*v1.Service{b}, []*discoveryv1.EndpointSlice{webSlice("b", "10.0.2.2")})
	assertTx(t, lastTx(nft), `
flush chain ip kube-proxy `+a2+`
delete element ip kube-proxy cluster-ips { 172.30.0.11 }
delete element ip kube-proxy service-ips { 172.30.0.11 . tcp . 80 }
delete element ip kube-proxy endpoint-port-counters { 172.30.0.11 . tcp . 80 . 10.0.2.1 . 8080 }
delete chain ip kube-proxy `+a2+`
delete counter ip kube-proxy endpoint-CGM3F5XZ-default/a/tcp/http__10.0.2.1/8080
`)
	if strings.Contains(nft.Dump(), "default/a/") {
		t.Errorf("service a left objects behind:\n%s", nft.Dump())
	}

	// Endpoints of b all gone: the service chain is deleted, the ClusterIP rejects.
	mustSync(t, p, []*v1.Service{b}, nil)
	tx := lastTx(nft)
	for _, want := range []string{
		"delete chain ip kube-proxy service-", "delete element ip kube-proxy service-ips { 172.30.0.12 . tcp . 80 }",
		`add element ip kube-proxy no-endpoint-services { 172.30.0.12 . tcp . 80 comment "default/b:http" : goto reject-chain }`,
	} {
		if !strings.Contains(tx, want) {
			t.Errorf("transaction lacks %q:\n%s", want, tx)
		}
	}
	if strings.Contains(tx, "flush table") || strings.Contains(tx, "delete table") {
		t.Errorf("incremental sync touched the whole table:\n%s", tx)
	}
}

// assertTx compares a transaction with the expected operations, ignoring order.
func assertTx(t *testing.T, got, want string) {
	t.Helper()
	assertRuleset(t, want, got, false)
}

// TestAffinityUpdate: changing the timeout recreates the sets behind flushed chains.
func TestAffinityUpdate(t *testing.T) {
	nft, p := newFakeProxier()
	svc := func(timeout int32) *v1.Service {
		s := webSvc("a", "172.30.0.11")
		s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
		s.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: &timeout}}
		return s
	}
	slices := []*discoveryv1.EndpointSlice{webSlice("a", "10.0.2.1", "10.0.2.2")}
	mustSync(t, p, []*v1.Service{svc(100)}, slices)
	mustSync(t, p, []*v1.Service{svc(200)}, slices)
	if !strings.Contains(nft.Dump(), "timeout 200s") || strings.Contains(nft.Dump(), "timeout 100s") {
		t.Errorf("timeout not updated:\n%s", nft.Dump())
	}
	// Dropping affinity removes endpoint chains and sets.
	mustSync(t, p, []*v1.Service{webSvc("a", "172.30.0.11")}, slices)
	if d := nft.Dump(); strings.Contains(d, "affinity-") || strings.Contains(d, "chain ip kube-proxy endpoint-") {
		t.Errorf("affinity objects left behind:\n%s", d)
	}
}

// TestFullResyncAfterFailure: a failed transaction makes the next sync a full
// one that reads the table back, and the result equals a fresh proxier's.
func TestFullResyncAfterFailure(t *testing.T) {
	nft, p := newFakeProxier()
	svcs := []*v1.Service{webSvc("a", "172.30.0.11"), webSvc("b", "172.30.0.12")}
	slices := []*discoveryv1.EndpointSlice{webSlice("a", "10.0.2.1"), webSlice("b", "10.0.2.2")}
	mustSync(t, p, svcs, slices)
	// Someone deletes a chain behind our back; the next partial sync fails.
	tx := nft.NewTransaction()
	tx.Flush(&knftables.Chain{Name: "service-SAQX6RRJ-default/a/tcp/http"})
	tx.Delete(&knftables.Element{Map: serviceIPsMap, Key: []string{"172.30.0.11", "tcp", "80"}})
	tx.Delete(&knftables.Chain{Name: "service-SAQX6RRJ-default/a/tcp/http"})
	if err := nft.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	if err := p.Sync(context.Background(), svcs[1:], slices[1:]); err == nil {
		t.Fatal("sync deleting a missing chain succeeded")
	}
	mustSync(t, p, svcs, slices)
	nft2, p2 := newFakeProxier()
	mustSync(t, p2, svcs, slices)
	assertRuleset(t, nft2.Dump(), nft.Dump(), false)
}

func TestCounters(t *testing.T) {
	nft, p := newFakeProxier()
	mustSync(t, p, []*v1.Service{webSvc("a", "172.30.0.11")}, []*discoveryv1.EndpointSlice{webSlice("a", "10.0.2.1", "10.0.2.2")})
	// The Fake never counts; set figures as the kernel would.
	nft.Lock()
	for name, c := range nft.Table.Counters {
		c.Packets, c.Bytes = knftables.PtrTo[uint64](2), knftables.PtrTo[uint64](120)
		if strings.Contains(name, "10.0.2.2") {
			c.Packets, c.Bytes = knftables.PtrTo[uint64](3), knftables.PtrTo[uint64](180)
		}
	}
	nft.Unlock()
	got, err := p.Counters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Counter{
		"default/a:http":               {5, 300},
		"default/a:http@10.0.2.1:8080": {2, 120},
		"default/a:http@10.0.2.2:8080": {3, 180},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Counters = %v, want %v", got, want)
	}
}

// TestCountedUnderItsService: Services that share endpoints share the node's IP
// too, so only the original destination port tells their NodePorts apart; each
// connection must count under the Service port it was addressed to (issue 14:
// NodePort requests were counted under a LoadBalancer Service).
func TestCountedUnderItsService(t *testing.T) {
	port := func(name string, port, nodePort int32) v1.ServicePort {
		return v1.ServicePort{Name: name, Port: port, NodePort: nodePort, Protocol: v1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}
	}
	lb := makeService("default", "lb", func(s *v1.Service) {
		s.Spec.Type = v1.ServiceTypeLoadBalancer
		s.Spec.ClusterIP = "172.30.0.21"
		s.Spec.Ports = []v1.ServicePort{port("http", 80, 30081)}
		s.Status.LoadBalancer.Ingress = []v1.LoadBalancerIngress{{IP: "198.51.100.1"}}
	})
	np := makeService("default", "np", func(s *v1.Service) {
		s.Spec.Type = v1.ServiceTypeNodePort
		s.Spec.ClusterIP = "172.30.0.22"
		s.Spec.Ports = []v1.ServicePort{port("http", 80, 30080)}
	})
	two := makeService("default", "two", func(s *v1.Service) {
		s.Spec.ClusterIP = "172.30.0.23"
		s.Spec.Ports = []v1.ServicePort{port("a", 80, 0), port("b", 81, 0)}
	})
	p8080 := slicePort("http", 8080, v1.ProtocolTCP)
	pod := ep{ip: "10.0.2.2", node: "other-node"}
	twoSlice := makeSlice("default", "two", append(slicePort("a", 8080, v1.ProtocolTCP), slicePort("b", 8080, v1.ProtocolTCP)...), pod)
	nft, p := newFakeProxier()
	mustSync(t, p, []*v1.Service{lb, np, two},
		[]*discoveryv1.EndpointSlice{makeSlice("default", "lb", p8080, pod), makeSlice("default", "np", p8080, pod), twoSlice})
	for _, c := range []struct {
		dst   string
		port  int
		owner string // "ns/name/proto/port" in the counter's name
	}{
		{testNodeIP, 30080, "default/np/tcp/http"},
		{testNodeIP, 30081, "default/lb/tcp/http"},
		{"198.51.100.1", 80, "default/lb/tcp/http"},
		{"172.30.0.21", 80, "default/lb/tcp/http"},
		{"172.30.0.22", 80, "default/np/tcp/http"},
		{"172.30.0.23", 80, "default/two/tcp/a"},
		{"172.30.0.23", 81, "default/two/tcp/b"},
	} {
		got := trace(t, nft, outside, c.dst, "tcp", c.port)
		if got.dnat != "10.0.2.2:8080" {
			t.Fatalf("tcp %s:%d: DNAT to %q, want 10.0.2.2:8080", c.dst, c.port, got.dnat)
		}
		if !strings.Contains(got.counter, "-"+c.owner+"__") {
			t.Errorf("tcp %s:%d counted in %q, want the counter of %s", c.dst, c.port, got.counter, c.owner)
		}
	}
}

// TestLegacyCountersMapDropped: a table adopted from a podlab whose counter map had
// no original port loses that map, or its elements would keep counters busy.
func TestLegacyCountersMapDropped(t *testing.T) {
	nft, p := newFakeProxier()
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Add(&knftables.Counter{Name: "endpoint-OLD-default/a/tcp/http__10.0.2.1/8080"})
	tx.Add(&knftables.Map{Name: legacyCountersMap, Type: "ipv4_addr . inet_proto . ipv4_addr . inet_service : counter"})
	tx.Add(&knftables.Element{Map: legacyCountersMap, Key: []string{"172.30.0.11", "tcp", "10.0.2.1", "8080"},
		Value: []string{`"endpoint-OLD-default/a/tcp/http__10.0.2.1/8080"`}})
	if err := nft.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	mustSync(t, p, []*v1.Service{webSvc("a", "172.30.0.11")}, []*discoveryv1.EndpointSlice{webSlice("a", "10.0.2.1")})
	if nft.Table.Maps[legacyCountersMap] != nil || nft.Table.Counters["endpoint-OLD-default/a/tcp/http__10.0.2.1/8080"] != nil {
		t.Errorf("the legacy map or its counter survived the sync:\n%s", nft.Dump())
	}
}

// bigCluster is n ClusterIP Services with 3 endpoints each, in 10.96.0.0/12.
func bigCluster(n int) ([]*v1.Service, []*discoveryv1.EndpointSlice) {
	svcs := make([]*v1.Service, n)
	slices := make([]*discoveryv1.EndpointSlice, n)
	for i := range n {
		ip := netip.AddrFrom4([4]byte{10, byte(96 + i>>16), byte(i >> 8), byte(i)})
		name := fmt.Sprintf("svc-%d", i)
		svcs[i] = webSvc(name, ip.String())
		var ips []string
		for e := range 3 {
			ips = append(ips, netip.AddrFrom4([4]byte{10, byte(e), byte(i >> 8), byte(i)}).String())
		}
		slices[i] = webSlice(name, ips...)
	}
	return svcs, slices
}

var bigNode = Node{Name: testNodeName, IPs: testNode.IPs, ClusterCIDR: netip.MustParsePrefix("10.0.0.0/14"),
	ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12")}

// renderNFT is a knftables.Interface that renders each transaction to nft's
// input text, as the real one does before running nft, and then forgets it: the
// cost of the proxier itself, without the Fake's linear-search element store
// (quadratic over a 10k-Service sync) or the kernel.
type renderNFT struct{ *knftables.Fake }

func (r renderNFT) Run(_ context.Context, tx *knftables.Transaction) error {
	_ = tx.String()
	return nil
}

func BenchmarkFullSync10k(b *testing.B) {
	svcs, slices := bigCluster(10000)
	for b.Loop() {
		p := New(renderNFT{knftables.NewFake(knftables.IPv4Family, tableName)}, bigNode)
		if err := p.Sync(context.Background(), svcs, slices); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFullSyncFake is the same into knftables' Fake, at sizes where its
// quadratic element store still finishes.
func BenchmarkFullSyncFake(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			svcs, slices := bigCluster(n)
			for b.Loop() {
				p := New(knftables.NewFake(knftables.IPv4Family, tableName), bigNode)
				if err := p.Sync(context.Background(), svcs, slices); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkOneChange10k(b *testing.B) {
	svcs, slices := bigCluster(10000)
	p := New(renderNFT{knftables.NewFake(knftables.IPv4Family, tableName)}, bigNode)
	if err := p.Sync(context.Background(), svcs, slices); err != nil {
		b.Fatal(err)
	}
	alt := [2]*discoveryv1.EndpointSlice{slices[42], webSlice("svc-42", "10.0.0.42", "10.0.1.42", "10.0.9.9")}
	i := 0
	for b.Loop() {
		i++
		slices[42] = alt[i%2]
		if err := p.Sync(context.Background(), svcs, slices); err != nil {
			b.Fatal(err)
		}
	}
}

// encodeNFT renders each transaction and encodes it as Netlink would send it.
type encodeNFT struct{ knftables.Interface }

func (e encodeNFT) Run(_ context.Context, tx *knftables.Transaction) error {
	_, _, err := encodeBatch(tx.String())
	if err != nil && !strings.Contains(tx.String(), "add table") {
		return err
	}
	return nil
}

// BenchmarkFullSync10kEncoded is BenchmarkFullSync10k with the netlink encoding: the
// Go share of a full sync through Netlink.
func BenchmarkFullSync10kEncoded(b *testing.B) {
	svcs, slices := bigCluster(10000)
	for b.Loop() {
		p := New(encodeNFT{knftables.NewFake(knftables.IPv4Family, tableName)}, bigNode)
		if err := p.Sync(context.Background(), svcs, slices); err != nil {
			b.Fatal(err)
		}
	}
}
