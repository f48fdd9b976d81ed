package services

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/topology"
)

// applyErr applies s and returns its errors as "field: msg" lines; it fails if s is accepted.
func applyErr(t *testing.T, r *Registry, s *v1.Service) []string {
	t.Helper()
	_, err := r.Apply(s, topology.Pos{})
	if err == nil {
		t.Fatalf("Apply %s/%s: accepted, want an error", s.Namespace, s.Name)
	}
	return messages(t, err)
}

func wantMsgs(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}

func TestClusterIPAllocation(t *testing.T) {
	r := NewRegistry(testConfig())
	// Dynamic allocation starts at the upper band: the static band of a /12 is the first
	// 256 addresses (10.96.0.1-10.96.1.0).
	for i, want := range []string{"10.96.1.1", "10.96.1.2", "10.96.1.3"} {
		if got := mustApply(t, r, svc("default", fmt.Sprintf("s%d", i))).Spec.ClusterIP; got != want {
			t.Errorf("s%d: clusterIP %s, want %s", i, got, want)
		}
	}
	// Explicit addresses in the static band are honoured.
	if got := mustApply(t, r, svc("default", "pinned", clusterIP("10.96.0.50"))).Spec.ClusterIP; got != "10.96.0.50" {
		t.Errorf("pinned: %s", got)
	}
	wantMsgs(t, applyErr(t, r, svc("default", "clash", clusterIP("10.96.0.50"))),
		`spec.clusterIP: Invalid value: "10.96.0.50": provided IP is already allocated`)
	wantMsgs(t, applyErr(t, r, svc("default", "outside", clusterIP("10.0.0.1"))),
		`spec.clusterIP: Invalid value: "10.0.0.1": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12`)
	wantMsgs(t, applyErr(t, r, svc("default", "network", clusterIP("10.96.0.0"))),
		`spec.clusterIP: Invalid value: "10.96.0.0": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12`)
	wantMsgs(t, applyErr(t, r, svc("default", "broadcast", clusterIP("10.111.255.255"))),
		`spec.clusterIP: Invalid value: "10.111.255.255": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12`)

	// The hint names the holder.
	_, err := r.Apply(svc("default", "clash", clusterIP("10.96.1.2")), topology.Pos{File: "svc.yaml", Line: 4})
	if want := "svc.yaml:4: spec.clusterIP: Invalid value: \"10.96.1.2\": provided IP is already allocated\n  hint: Service default/s1 has it"; !strings.HasPrefix(fmt.Sprint(err), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}

	// Release on delete, and reuse: the lowest free address of the upper band.
	if _, err := r.Delete("default", "s1"); err != nil {
		t.Fatal(err)
	}
	if got := mustApply(t, r, svc("default", "again")).Spec.ClusterIP; got != "10.96.1.2" {
		t.Errorf("after delete: %s, want the freed 10.96.1.2", got)
	}
	if got := mustApply(t, r, svc("default", "clash", clusterIP("10.96.0.60"))).Spec.ClusterIP; got != "10.96.0.60" {
		t.Errorf("explicit after failures: %s", got)
	}
}

func TestClusterIPBands(t *testing.T) {
	tests := []struct {
		cidr  string
		first []string
	}{
		{"10.96.0.0/24", []string{"10.96.0.17", "10.96.0.18"}}, // static band .1-.16
		{"10.96.0.0/16", []string{"10.96.1.1", "10.96.1.2"}},   // static band capped at 256
		{"10.96.0.0/20", []string{"10.96.1.1"}},                // 4096/16 = 256
		{"10.96.0.0/22", []string{"10.96.0.65"}},               // 1024/16 = 64
		{"10.96.0.0/28", []string{"10.96.0.1", "10.96.0.2"}},   // no static band for 16 addresses
	}
	for _, tt := range tests {
		r := NewRegistry(Config{ServiceCIDR: netip.MustParsePrefix(tt.cidr)})
		for i, want := range tt.first {
			if got := mustApply(t, r, svc("default", fmt.Sprintf("s%d", i))).Spec.ClusterIP; got != want {
				t.Errorf("%s: service %d got %s, want %s", tt.cidr, i, got, want)
			}
		}
	}
}

func TestClusterIPExhaustionAndDNSAddress(t *testing.T) {
	r := NewRegistry(Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/28")}) // 14 usable, .10 kept
	var got []string
	for i := range 13 {
		got = append(got, mustApply(t, r, svc("default", fmt.Sprintf("s%d", i))).Spec.ClusterIP)
	}
	if slices.Contains(got, "10.96.0.10") {
		t.Errorf("dynamic allocation handed out the DNS address: %v", got)
	}
	if got[12] != "10.96.0.14" {
		t.Errorf("last address %s, want 10.96.0.14", got[12])
	}
	wantMsgs(t, applyErr(t, r, svc("default", "one-more")),
		`spec.clusterIP: Internal error: failed to allocate a serviceIP: range is full`)
	wantMsgs(t, applyErr(t, r, svc("default", "thief", clusterIP("10.96.0.10"))),
		`spec.clusterIP: Invalid value: "10.96.0.10": provided IP is reserved for cluster DNS (Service kube-system/kube-dns)`)
	dns := mustApply(t, r, svc("kube-system", "kube-dns", clusterIP("10.96.0.10"), ports(named("dns", 53, intstr.IntOrString{}, v1.ProtocolUDP), named("dns-tcp", 53, intstr.IntOrString{}, v1.ProtocolTCP))))
	if dns.Spec.ClusterIP != "10.96.0.10" {
		t.Errorf("kube-dns got %s", dns.Spec.ClusterIP)
	}
	// Freed addresses come back.
	if _, err := r.Delete("default", "s3"); err != nil {
		t.Fatal(err)
	}
	if got := mustApply(t, r, svc("default", "one-more")).Spec.ClusterIP; got != "10.96.0.4" {
		t.Errorf("after delete got %s, want 10.96.0.4", got)
	}
}

func TestDeterminism(t *testing.T) {
	run := func() []string {
		r := NewRegistry(Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"), LoadBalancerPool: []netip.Prefix{netip.MustParsePrefix("172.30.0.240/28")}})
		var out []string
		for i := range 50 {
			var m func(*v1.Service)
			switch i % 3 {
			case 0:
				m = nodePort
			case 1:
				m = loadBalancer
			default:
				m = func(*v1.Service) {}
			}
			s := mustApply(t, r, svc(fmt.Sprintf("ns%d", i%4), fmt.Sprintf("s%d", i), m))
			if i%7 == 0 {
				if _, err := r.Delete(s.Namespace, s.Name); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, s := range r.List() {
			line := fmt.Sprintf("%s/%s %s %s", s.Namespace, s.Name, s.Spec.ClusterIP, s.UID)
			for _, p := range s.Spec.Ports {
				line += fmt.Sprintf(" %d", p.NodePort)
			}
			for _, in := range s.Status.LoadBalancer.Ingress {
				line += " " + in.IP
			}
			out = append(out, line)
		}
		return out
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Errorf("two runs differ:\n%q\n%q", a, b)
	}
	if !slices.IsSortedFunc(a, strings.Compare) {
		t.Errorf("List is not sorted by namespace/name: %q", a)
	}
}

func TestNodePorts(t *testing.T) {
	r := NewRegistry(testConfig())
	a := mustApply(t, r, svc("default", "a", nodePort))
	b := mustApply(t, r, svc("default", "b", nodePort))
	if a.Spec.Ports[0].NodePort != 30086 || b.Spec.Ports[0].NodePort != 30087 {
		t.Errorf("dynamic node ports %d, %d; want 30086, 30087 (the static band is 30000-30085)", a.Spec.Ports[0].NodePort, b.Spec.Ports[0].NodePort)
	}
	if a.Spec.ClusterIP == "" {
		t.Errorf("a NodePort Service needs a ClusterIP too")
	}
	if got := mustApply(t, r, svc("default", "pinned", nodePort, withNodePort(0, 30008))).Spec.Ports[0].NodePort; got != 30008 {
		t.Errorf("explicit node port: %d", got)
	}
	wantMsgs(t, applyErr(t, r, svc("default", "low", nodePort, withNodePort(0, 80))),
		`spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767`)
	wantMsgs(t, applyErr(t, r, svc("default", "clash", nodePort, withNodePort(0, 30008))),
		`spec.ports[0].nodePort: Invalid value: 30008: provided port is already allocated`)
	wantMsgs(t, applyErr(t, r, svc("default", "clash", nodePort, withNodePort(0, 30086))),
		`spec.ports[0].nodePort: Invalid value: 30086: provided port is already allocated`)

	// TCP and UDP on the same port share one node port; other ports get their own.
	dns := mustApply(t, r, svc("default", "dns", nodePort, ports(
		named("dns", 53, intstr.IntOrString{}, v1.ProtocolUDP), named("dns-tcp", 53, intstr.IntOrString{}, v1.ProtocolTCP), named("metrics", 9153, intstr.IntOrString{}, ""))))
	if p := dns.Spec.Ports; p[0].NodePort != 30088 || p[1].NodePort != 30088 || p[2].NodePort != 30089 {
		t.Errorf("node ports %d %d %d, want 30088 30088 30089", p[0].NodePort, p[1].NodePort, p[2].NodePort)
	}
	// The same node port on two different ports is taken twice: refused as upstream.
	wantMsgs(t, applyErr(t, r, svc("default", "twice", nodePort, ports(named("a", 80, intstr.IntOrString{}, v1.ProtocolTCP), named("b", 81, intstr.IntOrString{}, v1.ProtocolUDP)),
		withNodePort(0, 30100), withNodePort(1, 30100))),
		`spec.ports[1].nodePort: Invalid value: 30100: provided port is already allocated`)

	// A LoadBalancer with eTP=Local gets a health-check node port; one without node ports gets none.
	lb := mustApply(t, r, svc("default", "lb", loadBalancer, func(s *v1.Service) { s.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal }))
	if lb.Spec.Ports[0].NodePort != 30090 || lb.Spec.HealthCheckNodePort != 30091 {
		t.Errorf("lb node port %d, health check %d; want 30090, 30091", lb.Spec.Ports[0].NodePort, lb.Spec.HealthCheckNodePort)
	}
	bare := mustApply(t, r, svc("default", "bare", loadBalancer, func(s *v1.Service) { s.Spec.AllocateLoadBalancerNodePorts = ptr(false) }))
	if bare.Spec.Ports[0].NodePort != 0 {
		t.Errorf("allocateLoadBalancerNodePorts=false got node port %d", bare.Spec.Ports[0].NodePort)
	}

	// Release on delete.
	if _, err := r.Delete("default", "pinned"); err != nil {
		t.Fatal(err)
	}
	mustApply(t, r, svc("default", "clash", nodePort, withNodePort(0, 30008)))
}

func TestNodePortExhaustion(t *testing.T) {
	r := NewRegistry(Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/24"), NodePortRange: [2]int{31000, 31003}})
	var got []int32
	for i := range 4 {
		got = append(got, mustApply(t, r, svc("default", fmt.Sprintf("s%d", i), nodePort)).Spec.Ports[0].NodePort)
	}
	if !slices.Equal(got, []int32{31000, 31001, 31002, 31003}) {
		t.Errorf("node ports %v", got)
	}
	wantMsgs(t, applyErr(t, r, svc("default", "full", nodePort)),
		`spec.ports[0].nodePort: Internal error: failed to allocate a nodePort: range is full`)
	wantMsgs(t, applyErr(t, r, svc("default", "low", nodePort, withNodePort(0, 30000))),
		`spec.ports[0].nodePort: Invalid value: 30000: provided port is not in the valid range. The range of valid ports is 31000-31003`)
	// The failed Service took nothing: its ClusterIP is free for the next one.
	if ip := mustApply(t, r, svc("default", "cip")).Spec.ClusterIP; ip != "10.96.0.21" {
		t.Errorf("ClusterIP after failed applies: %s, want 10.96.0.21", ip)
	}
}

func TestReplace(t *testing.T) {
	r := NewRegistry(testConfig())
	orig := mustApply(t, r, svc("shop", "api", nodePort, ports(named("http", 80, intstr.FromString("http"), ""), named("admin", 81, intstr.IntOrString{}, ""))))
	ip, np0, np1 := orig.Spec.ClusterIP, orig.Spec.Ports[0].NodePort, orig.Spec.Ports[1].NodePort

	// Applying the same manifest again keeps every allocation, the UID and the creation time.
	again := mustApply(t, r, svc("shop", "api", nodePort, ports(named("http", 80, intstr.FromString("http"), ""), named("admin", 81, intstr.IntOrString{}, ""))))
	if again.Spec.ClusterIP != ip || again.Spec.Ports[0].NodePort != np0 || again.Spec.Ports[1].NodePort != np1 {
		t.Errorf("replace moved allocations: %s %d %d -> %s %d %d", ip, np0, np1, again.Spec.ClusterIP, again.Spec.Ports[0].NodePort, again.Spec.Ports[1].NodePort)
	}
	if again.UID != orig.UID || !again.CreationTimestamp.Equal(&orig.CreationTimestamp) || again.ResourceVersion == orig.ResourceVersion {
		t.Errorf("metadata: uid %s->%s rv %s->%s", orig.UID, again.UID, orig.ResourceVersion, again.ResourceVersion)
	}
	if got := mustApply(t, r, svc("shop", "api", nodePort, clusterIP(ip), ports(named("http", 80, intstr.FromString("http"), ""), named("admin", 81, intstr.IntOrString{}, "")))); got.Spec.ClusterIP != ip {
		t.Errorf("same explicit clusterIP: %s", got.Spec.ClusterIP)
	}

	// clusterIP is immutable; the failed replace changes nothing.
	before, _ := r.Get("shop", "api")
	wantMsgs(t, applyErr(t, r, svc("shop", "api", nodePort, clusterIP("10.96.0.99"))),
		`spec.clusterIP: Invalid value: "10.96.0.99": field is immutable`)
	wantMsgs(t, applyErr(t, r, svc("shop", "api", nodePort, clusterIP("None"))),
		`spec.clusterIP: Invalid value: "None": field is immutable`,
		`spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`)
	if cur, _ := r.Get("shop", "api"); !equal(cur, before) {
		t.Errorf("failed replace changed the stored object: %+v", cur.Spec)
	}

	// A failed replace keeps the old node ports held.
	mustApply(t, r, svc("default", "other", nodePort, withNodePort(0, 30500)))
	wantMsgs(t, applyErr(t, r, svc("shop", "api", nodePort, ports(named("http", 80, intstr.IntOrString{}, "")), withNodePort(0, 30500))),
		`spec.ports[0].nodePort: Invalid value: 30500: provided port is already allocated`)
	wantMsgs(t, applyErr(t, r, svc("default", "thief", nodePort, withNodePort(0, np1))),
		fmt.Sprintf(`spec.ports[0].nodePort: Invalid value: %d: provided port is already allocated`, np1))

	// Dropping a port frees its node port; NodePort -> ClusterIP frees them all and keeps the IP.
	mustApply(t, r, svc("shop", "api", nodePort, ports(named("http", 80, intstr.IntOrString{}, ""))))
	mustApply(t, r, svc("default", "thief", nodePort, withNodePort(0, np1)))
	cip := mustApply(t, r, svc("shop", "api", ports(named("http", 80, intstr.IntOrString{}, ""))))
	if cip.Spec.ClusterIP != ip || cip.Spec.Ports[0].NodePort != 0 {
		t.Errorf("to ClusterIP: %s %d", cip.Spec.ClusterIP, cip.Spec.Ports[0].NodePort)
	}
	mustApply(t, r, svc("default", "thief2", nodePort, withNodePort(0, np0)))

	// ClusterIP -> ExternalName frees the address; back to ClusterIP takes a new one.
	mustApply(t, r, svc("shop", "api", func(s *v1.Service) {
		s.Spec.Type, s.Spec.ExternalName, s.Spec.Selector = v1.ServiceTypeExternalName, "api.example.com", nil
	}))
	if got := mustApply(t, r, svc("default", "takes-it", clusterIP(ip))).Spec.ClusterIP; got != ip {
		t.Errorf("freed address not reusable: %s", got)
	}
	if back := mustApply(t, r, svc("shop", "api")); back.Spec.ClusterIP == "" || back.Spec.ClusterIP == ip {
		t.Errorf("ExternalName -> ClusterIP: %q", back.Spec.ClusterIP)
	}
}

func TestLoadBalancerPool(t *testing.T) {
	pool := []netip.Prefix{netip.MustParsePrefix("172.30.0.240/31"), netip.MustParsePrefix("172.30.0.250/32")}
	r := NewRegistry(Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"), LoadBalancerPool: pool})
	ingress := func(s *v1.Service) string {
		if len(s.Status.LoadBalancer.Ingress) == 0 {
			return "<pending>"
		}
		in := s.Status.LoadBalancer.Ingress[0]
		if in.IPMode == nil || *in.IPMode != v1.LoadBalancerIPModeVIP {
			return in.IP + " without ipMode VIP"
		}
		return in.IP
	}
	a := mustApply(t, r, svc("default", "a", loadBalancer))
	b := mustApply(t, r, svc("default", "b", loadBalancer))
	c := mustApply(t, r, svc("default", "c", loadBalancer))
	d := mustApply(t, r, svc("default", "d", loadBalancer))
	for _, c := range []struct{ got, want string }{
		{ingress(a), "172.30.0.240"}, {ingress(b), "172.30.0.241"}, {ingress(c), "172.30.0.250"}, {ingress(d), "<pending>"},
	} {
		if c.got != c.want {
			t.Errorf("ingress %s, want %s", c.got, c.want)
		}
	}
	if d.Spec.ClusterIP == "" || d.Spec.Ports[0].NodePort == 0 {
		t.Errorf("a pending LoadBalancer still gets its ClusterIP and NodePort: %+v", d.Spec)
	}
	// Client-supplied status is ignored.
	e := svc("default", "e", loadBalancer)
	e.Status.LoadBalancer.Ingress = []v1.LoadBalancerIngress{{IP: "1.2.3.4"}}
	if got := ingress(mustApply(t, r, e)); got != "<pending>" {
		t.Errorf("client status kept: %s", got)
	}

	// Replacing keeps the IP; deleting hands it to the oldest pending Service.
	if got := ingress(mustApply(t, r, svc("default", "b", loadBalancer))); got != "172.30.0.241" {
		t.Errorf("replace moved the IP: %s", got)
	}
	dBefore, _ := r.Get("default", "d")
	if _, err := r.Delete("default", "b"); err != nil {
		t.Fatal(err)
	}
	dAfter, _ := r.Get("default", "d")
	if ingress(dAfter) != "172.30.0.241" || dAfter.ResourceVersion == dBefore.ResourceVersion {
		t.Errorf("pending d after delete: %s (rv %s -> %s)", ingress(dAfter), dBefore.ResourceVersion, dAfter.ResourceVersion)
	}
	// LoadBalancer -> ClusterIP frees the IP for the next pending one.
	mustApply(t, r, svc("default", "a"))
	if got, _ := r.Get("default", "e"); ingress(got) != "172.30.0.240" {
		t.Errorf("pending e after a became ClusterIP: %s", ingress(got))
	}

	// Asking for an address: MetalLB's annotation or spec.loadBalancerIP.
	mustApply(t, r, svc("default", "a", loadBalancer)) // pending again: pool is full
	wantMsgs(t, applyErr(t, r, svc("default", "f", loadBalancer, func(s *v1.Service) { s.Spec.LoadBalancerIP = "172.30.0.250" })),
		`spec.loadBalancerIP: Invalid value: "172.30.0.250": provided IP is already allocated`)
	wantMsgs(t, applyErr(t, r, svc("default", "f", loadBalancer, func(s *v1.Service) {
		s.Annotations = map[string]string{"metallb.io/loadBalancerIPs": "192.168.1.1"}
	})), `metadata.annotations[metallb.io/loadBalancerIPs]: Invalid value: "192.168.1.1": is not in any LoadBalancer pool (172.30.0.240/31, 172.30.0.250/32)`)
	if _, err := r.Delete("default", "c"); err != nil { // frees .250, which pending a takes
		t.Fatal(err)
	}
	if got, _ := r.Get("default", "a"); ingress(got) != "172.30.0.250" {
		t.Errorf("pending a: %s", ingress(got))
	}
	if _, err := r.Delete("default", "a"); err != nil {
		t.Fatal(err)
	}
	f := mustApply(t, r, svc("default", "f", loadBalancer, func(s *v1.Service) {
		s.Annotations = map[string]string{"metallb.io/loadBalancerIPs": "172.30.0.250"}
	}))
	if ingress(f) != "172.30.0.250" {
		t.Errorf("requested IP: %s", ingress(f))
	}

	// Another class is another controller's business: pending.
	g := mustApply(t, r, svc("default", "g", loadBalancer, func(s *v1.Service) { s.Spec.LoadBalancerClass = ptr("example.com/other") }))
	if ingress(g) != "<pending>" {
		t.Errorf("foreign class got %s", ingress(g))
	}

	// No pool: pending, like a cluster without a LoadBalancer controller.
	none := NewRegistry(testConfig())
	if got := ingress(mustApply(t, none, svc("default", "lb", loadBalancer))); got != "<pending>" {
		t.Errorf("without pool: %s", got)
	}
}

func TestDeleteAndGet(t *testing.T) {
	r := NewRegistry(testConfig())
	if _, err := r.Delete("default", "nope"); !errors.Is(err, ErrNotFound) || err.Error() != "service default/nope: not found" {
		t.Errorf("Delete missing: %v", err)
	}
	mustApply(t, r, svc("", "web"))
	got, ok := r.Get("", "web")
	if !ok || got.Namespace != "default" {
		t.Fatalf("Get: %v %v", got, ok)
	}
	got.Spec.ClusterIP = "mutated"
	if again, _ := r.Get("default", "web"); again.Spec.ClusterIP == "mutated" {
		t.Errorf("Get returned the stored object, not a copy")
	}
	del, err := r.Delete("", "web")
	if err != nil || del.Name != "web" {
		t.Errorf("Delete: %v %v", del, err)
	}
	if _, ok := r.Get("default", "web"); ok {
		t.Errorf("still there after Delete")
	}
}

func TestErrorHelpers(t *testing.T) {
	r := NewRegistry(testConfig())
	_, err := r.Apply(svc("default", "web", ports(v1.ServicePort{Port: 80}, v1.ServicePort{Name: "b", Port: 81})), topology.Pos{File: "lab.yaml", Line: 12, Col: 5})
	want := "lab.yaml:12:5: manifests[3] (Service default/web): spec.ports[0].name: Required value\n  hint: a Service with more than one port must name each of them, e.g. name: http"
	if got := WithLabel(err, "manifests[3] (Service default/web)").Error(); got != want {
		t.Errorf("WithLabel:\n got %q\nwant %q", got, want)
	}
	var es topology.Errors
	if !errors.As(WithLabel(err, "x"), &es) {
		t.Errorf("WithLabel lost the type")
	}
	if got := At(ValidateEndpoints(&v1.Endpoints{}), topology.Pos{File: "ep.yaml", Line: 2}).Error(); !strings.HasPrefix(got, "ep.yaml:2: metadata.name: Required value") {
		t.Errorf("At: %q", got)
	}
}

// TestPendingReason: a LoadBalancer left pending says why and how to fix it (issue 14).
func TestPendingReason(t *testing.T) {
	noPool := NewRegistry(Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12")})
	if got := noPool.PendingReason(mustApply(t, noPool, svc("default", "lb", loadBalancer))); got != "no loadBalancerPool in the lab file: add cluster.loadBalancerPool (e.g. 172.30.0.240/28)" {
		t.Errorf("without a pool: %q", got)
	}
	full := NewRegistry(Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"), LoadBalancerPool: []netip.Prefix{netip.MustParsePrefix("172.30.0.240/32")}})
	if got := full.PendingReason(mustApply(t, full, svc("default", "a", loadBalancer))); got != "" {
		t.Errorf("with an address: %q", got)
	}
	if got := full.PendingReason(mustApply(t, full, svc("default", "b", loadBalancer))); !strings.Contains(got, "every address of the loadBalancerPool (172.30.0.240/32) is in use") {
		t.Errorf("pool exhausted: %q", got)
	}
	for _, s := range []*v1.Service{svc("default", "c", nodePort), svc("default", "d", loadBalancer, func(s *v1.Service) { s.Spec.LoadBalancerClass = new("example.com/lb") })} {
		if got := noPool.PendingReason(mustApply(t, noPool, s)); got != "" {
			t.Errorf("%s (not podlab's to give): %q", s.Name, got)
		}
	}
}
