package proxy

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/knftables"
)

var update = flag.Bool("update", false, "rewrite the golden rulesets in testdata/")

var (
	yes = knftables.PtrTo(true)
	no  = knftables.PtrTo(false)
)

// check is one traced packet and what must happen to it.
type check struct {
	src, dst, proto string
	port            int
	verdict         string   // ACCEPT, DROP, REJECT
	dnatOneOf       []string // "" entries not allowed; empty: no DNAT
	masquerade      bool
	pick0           bool // only with numgen choosing index 0
}

type scenario struct {
	name   string
	svcs   []*v1.Service
	slices []*discoveryv1.EndpointSlice
	checks []check
}

const (
	podLocal  = "10.0.1.5"    // a pod on this node
	podRemote = "10.0.2.5"    // a pod on another node
	outside   = "203.0.113.9" // a client outside the cluster
)

func scenarios() []scenario {
	p80 := slicePort("http", 8080, v1.ProtocolTCP)
	web := func(f func(*v1.Service)) *v1.Service {
		return makeService("default", "web", func(s *v1.Service) {
			s.Spec.ClusterIP = "172.30.0.10"
			s.Spec.Ports = []v1.ServicePort{{Name: "http", Port: 80, Protocol: v1.ProtocolTCP, TargetPort: intstr.FromString("http")}}
			if f != nil {
				f(s)
			}
		})
	}
	twoEPs := makeSlice("default", "web", p80, ep{ip: "10.0.1.2", node: testNodeName}, ep{ip: "10.0.2.2", node: "other-node"})
	remoteOnly := makeSlice("default", "web", p80, ep{ip: "10.0.2.2", node: "other-node"})
	nodePort := func(s *v1.Service) {
		s.Spec.Type = v1.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = 30080
	}
	both := []string{"10.0.1.2:8080", "10.0.2.2:8080"}
	return []scenario{{
		name:   "clusterip-two-endpoints",
		svcs:   []*v1.Service{web(nil)},
		slices: []*discoveryv1.EndpointSlice{twoEPs},
		checks: []check{
			{src: podRemote, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: both},
			{src: testNodeIP, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: both, masquerade: true},
			{src: outside, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: both, masquerade: true},
			{src: "10.0.1.2", dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: []string{"10.0.1.2:8080"}, masquerade: true, pick0: true}, // hairpin
			{src: podRemote, dst: "172.30.0.10", proto: "tcp", port: 81, verdict: "REJECT"},                                                                       // undefined port
			{src: podRemote, dst: "172.30.0.99", proto: "tcp", port: 80, verdict: "DROP"},                                                                         // unallocated IP
			{src: podRemote, dst: "172.30.0.10", proto: "udp", port: 80, verdict: "REJECT"},
		},
	}, {
		name:   "nodeport",
		svcs:   []*v1.Service{web(nodePort)},
		slices: []*discoveryv1.EndpointSlice{twoEPs},
		checks: []check{
			{src: outside, dst: testNodeIP, proto: "tcp", port: 30080, verdict: "ACCEPT", dnatOneOf: both, masquerade: true},
			{src: podRemote, dst: testNodeIP, proto: "tcp", port: 30080, verdict: "ACCEPT", dnatOneOf: both, masquerade: true},
			{src: outside, dst: "192.168.0.3", proto: "tcp", port: 30080, verdict: "ACCEPT"}, // not this node's IP: untouched
		},
	}, {
		name: "loadbalancer",
		svcs: []*v1.Service{web(func(s *v1.Service) {
			nodePort(s)
			s.Spec.Type = v1.ServiceTypeLoadBalancer
			s.Status.LoadBalancer.Ingress = []v1.LoadBalancerIngress{{IP: "198.51.100.1"}, {IP: "198.51.100.2", IPMode: knftables.PtrTo(v1.LoadBalancerIPModeProxy)}}
		})},
		slices: []*discoveryv1.EndpointSlice{twoEPs},
		checks: []check{
			{src: outside, dst: "198.51.100.1", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: both, masquerade: true},
			{src: outside, dst: "198.51.100.2", proto: "tcp", port: 80, verdict: "ACCEPT"}, // ipMode Proxy: left alone
		},
	}, {
		name:   "externalips",
		svcs:   []*v1.Service{web(func(s *v1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.50"} })},
		slices: []*discoveryv1.EndpointSlice{twoEPs},
		checks: []check{
			{src: outside, dst: "192.0.2.50", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: both, masquerade: true},
		},
	}, {
		name: "clientip-affinity",
		svcs: []*v1.Service{web(func(s *v1.Service) {
			s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: knftables.PtrTo[int32](600)}}
		})},
		slices: []*discoveryv1.EndpointSlice{twoEPs},
		checks: []check{
			{src: podRemote, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: both},
		},
	}, {
		name:   "etp-local-with-local-endpoint",
		svcs:   []*v1.Service{web(func(s *v1.Service) { nodePort(s); s.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal })},
		slices: []*discoveryv1.EndpointSlice{twoEPs},
		checks: []check{
			{src: outside, dst: testNodeIP, proto: "tcp", port: 30080, verdict: "ACCEPT", dnatOneOf: []string{"10.0.1.2:8080"}}, // client IP kept
			{src: podRemote, dst: testNodeIP, proto: "tcp", port: 30080, verdict: "ACCEPT", dnatOneOf: both},                    // short-circuit
			{src: testNodeIP, dst: testNodeIP, proto: "tcp", port: 30080, verdict: "ACCEPT", dnatOneOf: both, masquerade: true},
		},
	}, {
		name:   "etp-local-without-local-endpoint",
		svcs:   []*v1.Service{web(func(s *v1.Service) { nodePort(s); s.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal })},
		slices: []*discoveryv1.EndpointSlice{remoteOnly},
		checks: []check{
			{src: outside, dst: testNodeIP, proto: "tcp", port: 30080, verdict: "DROP"},
			{src: podRemote, dst: testNodeIP, proto: "tcp", port: 30080, verdict: "ACCEPT", dnatOneOf: []string{"10.0.2.2:8080"}},
			{src: podRemote, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: []string{"10.0.2.2:8080"}},
		},
	}, {
		name: "itp-local-with-local-endpoint",
		svcs: []*v1.Service{web(func(s *v1.Service) {
			s.Spec.InternalTrafficPolicy = knftables.PtrTo(v1.ServiceInternalTrafficPolicyLocal)
		})},
		slices: []*discoveryv1.EndpointSlice{twoEPs},
		checks: []check{
			{src: podLocal, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: []string{"10.0.1.2:8080"}},
		},
	}, {
		name: "itp-local-without-local-endpoint",
		svcs: []*v1.Service{web(func(s *v1.Service) {
			s.Spec.InternalTrafficPolicy = knftables.PtrTo(v1.ServiceInternalTrafficPolicyLocal)
		})},
		slices: []*discoveryv1.EndpointSlice{remoteOnly},
		checks: []check{
			{src: podLocal, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "DROP"},
		},
	}, {
		name:   "no-endpoints",
		svcs:   []*v1.Service{web(nodePort)},
		slices: []*discoveryv1.EndpointSlice{makeSlice("default", "web", p80, ep{ip: "10.0.1.2", node: testNodeName, ready: no, serving: no})},
		checks: []check{
			{src: podRemote, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "REJECT"},
			{src: outside, dst: testNodeIP, proto: "tcp", port: 30080, verdict: "REJECT"},
		},
	}, {
		name: "headless-and-externalname",
		svcs: []*v1.Service{
			web(func(s *v1.Service) { s.Spec.ClusterIP = v1.ClusterIPNone }),
			makeService("default", "ext", func(s *v1.Service) {
				s.Spec.Type = v1.ServiceTypeExternalName
				s.Spec.ExternalName = "example.com"
			}),
		},
		slices: []*discoveryv1.EndpointSlice{twoEPs},
	}, {
		name: "udp-and-sctp",
		svcs: []*v1.Service{makeService("default", "multi", func(s *v1.Service) {
			s.Spec.ClusterIP = "172.30.0.20"
			s.Spec.Ports = []v1.ServicePort{
				{Name: "dns", Port: 53, Protocol: v1.ProtocolUDP, TargetPort: intstr.FromInt32(5353)},
				{Name: "sig", Port: 3868, Protocol: v1.ProtocolSCTP, TargetPort: intstr.FromInt32(3868)},
			}
		})},
		slices: []*discoveryv1.EndpointSlice{makeSlice("default", "multi", []discoveryv1.EndpointPort{
			{Name: knftables.PtrTo("dns"), Port: knftables.PtrTo[int32](5353), Protocol: knftables.PtrTo(v1.ProtocolUDP)},
			{Name: knftables.PtrTo("sig"), Port: knftables.PtrTo[int32](3868), Protocol: knftables.PtrTo(v1.ProtocolSCTP)},
		}, ep{ip: "10.0.2.7", node: "other-node"})},
		checks: []check{
			{src: podRemote, dst: "172.30.0.20", proto: "udp", port: 53, verdict: "ACCEPT", dnatOneOf: []string{"10.0.2.7:5353"}},
			{src: podRemote, dst: "172.30.0.20", proto: "sctp", port: 3868, verdict: "ACCEPT", dnatOneOf: []string{"10.0.2.7:3868"}},
			{src: podRemote, dst: "172.30.0.20", proto: "tcp", port: 53, verdict: "REJECT"},
		},
	}, {
		// Named targetPort: pods resolve "http" to different numbers, so the
		// endpoints come in two slices with different ports.
		name: "named-target-port",
		svcs: []*v1.Service{web(nil)},
		slices: []*discoveryv1.EndpointSlice{
			makeSlice("default", "web", p80, ep{ip: "10.0.1.2", node: testNodeName}),
			makeSlice("default", "web", slicePort("http", 9090, v1.ProtocolTCP), ep{ip: "10.0.2.2", node: "other-node"}),
			makeSlice("default", "web", slicePort("metrics", 9100, v1.ProtocolTCP), ep{ip: "10.0.2.3", node: "other-node"}),
		},
		checks: []check{
			{src: podRemote, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: []string{"10.0.1.2:8080", "10.0.2.2:9090"}},
		},
	}, {
		name: "terminating-fallback",
		svcs: []*v1.Service{web(nil)},
		slices: []*discoveryv1.EndpointSlice{makeSlice("default", "web", p80,
			ep{ip: "10.0.1.2", node: testNodeName, ready: no, serving: yes, terminating: yes},
			ep{ip: "10.0.2.2", node: "other-node", ready: no, serving: no, terminating: yes}, // not serving: never used
		)},
		checks: []check{
			{src: podRemote, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: []string{"10.0.1.2:8080"}},
		},
	}, {
		name: "terminating-ignored-when-ready-exists",
		svcs: []*v1.Service{web(nil)},
		slices: []*discoveryv1.EndpointSlice{makeSlice("default", "web", p80,
			ep{ip: "10.0.1.2", node: testNodeName, ready: no, serving: yes, terminating: yes},
			ep{ip: "10.0.2.2", node: "other-node"},
		)},
		checks: []check{
			{src: podRemote, dst: "172.30.0.10", proto: "tcp", port: 80, verdict: "ACCEPT", dnatOneOf: []string{"10.0.2.2:8080"}},
		},
	}}
}

// TestScenarios runs each scenario in both layouts: upstream's (the golden files)
// and a large table's, where Service chains pick an endpoint with one rule each
// (pickByRules): the same packets reach the same endpoints.
func TestScenarios(t *testing.T) {
	for _, rules := range []bool{false, true} {
		for _, sc := range scenarios() {
			name := sc.name
			if rules {
				name += "/rules"
			}
			t.Run(name, func(t *testing.T) { runScenario(t, sc, rules) })
		}
	}
}

func runScenario(t *testing.T, sc scenario, rules bool) {
	nft, p := newFakeProxier()
	picks := 2
	if rules {
		p.ruleChoiceAbove, picks = 0, 4
	}
	mustSync(t, p, sc.svcs, sc.slices)
	if !rules {
		golden(t, sc.name, nft.Dump())
	} else if strings.Contains(nft.Dump(), " map { ") || strings.Contains(nft.Dump(), "vmap { ") {
		t.Errorf("a numgen map in the large layout:\n%s", nft.Dump())
	}
	for _, c := range sc.checks {
		for pick := 0; pick < picks && !(c.pick0 && pick > 0); pick++ {
			tr := &tracer{t: t, nft: nft, nodeIPs: map[string]bool{testNodeIP: true}, affinityHit: map[string]bool{}, pick: pick}
			got := tr.run(c.src, c.dst, c.proto, c.port)
			desc := c.proto + " " + c.src + " -> " + c.dst
			if got.verdict != c.verdict || got.masquerade != c.masquerade {
				t.Errorf("%s:%d (pick %d): got %+v, want verdict %s masquerade %v", desc, c.port, pick, got, c.verdict, c.masquerade)
			}
			if (got.dnat == "") != (len(c.dnatOneOf) == 0) || (got.dnat != "" && !oneOf(got.dnat, c.dnatOneOf)) {
				t.Errorf("%s:%d (pick %d): DNAT to %q, want one of %v", desc, c.port, pick, got.dnat, c.dnatOneOf)
			}
		}
	}
}

func oneOf(s string, list []string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
}

// golden compares a dump with testdata/<name>.nft (order-insensitive); -update
// rewrites the file.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".nft")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	assertRuleset(t, string(want), got, false)
}

// TestHeadlessAndExternalNameProgramNothing: nothing beyond the fixed table.
func TestHeadlessAndExternalNameProgramNothing(t *testing.T) {
	nft, p := newFakeProxier()
	sc := scenarios()
	for _, s := range sc {
		if s.name == "headless-and-externalname" {
			mustSync(t, p, s.svcs, s.slices)
		}
	}
	assertRuleset(t, baseRules+countingRules, nft.Dump(), false)
	if strings.Contains(nft.Dump(), "web") {
		t.Errorf("headless Service programmed:\n%s", nft.Dump())
	}
}

// pickOneIn's rules give each of n endpoints exactly 1/n of the connections: rule i
// is reached by what the rules before it left and takes 1/m of that.
func TestPickByRulesIsUniform(t *testing.T) {
	for n := 1; n <= 12; n++ {
		left := 1.0
		for i := range n {
			m := 1
			if w := strings.Fields(pickOneIn(n - i)); len(w) > 0 {
				if len(w) != 5 || w[0] != "numgen" || w[4] != "0" {
					t.Fatalf("pickOneIn(%d) = %q", n-i, pickOneIn(n-i))
				}
				m, _ = strconv.Atoi(w[3])
			}
			share := left / float64(m)
			if math.Abs(share-1/float64(n)) > 1e-12 {
				t.Errorf("%d endpoints: rule %d takes %.4f, want %.4f", n, i, share, 1/float64(n))
			}
			left -= share
		}
		if math.Abs(left) > 1e-12 {
			t.Errorf("%d endpoints: %.4f of the connections pick nothing", n, left)
		}
	}
}
