package netpol

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"

	"podlab.dev/podlab/cluster/netpol/netpoltest"
)

// The rules of SEMANTICS.md section 5 one by one, on the e2e model's pods plus a
// hostNetwork pod, the nodes and an outside host.
func TestAllowedRules(t *testing.T) {
	base, _ := e2eCluster()
	hostPod := e2ePod("x", "host", "192.168.0.1")
	hostPod.Spec.HostNetwork = true
	hostPod.Spec.NodeName = "node-a"
	base.Pods = append(base.Pods, hostPod)
	node := func(name, ip string) Endpoint { return Endpoint{Node: name, IP: netip.MustParseAddr(ip)} }
	outside := Endpoint{IP: netip.MustParseAddr("203.0.113.7")}

	denyAllX := `
metadata: {name: deny-all, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`
	tests := []struct {
		name     string
		policies string
		from, to string // pod names, or node-a, node-b, host, outside
		port     int32
		proto    corev1.Protocol
		want     bool
	}{
		{"a pod reaches itself under deny-all", denyAllX, "x/a", "x/a", 80, "TCP", true},
		{"its own node reaches an isolated pod", denyAllX, "node-a", "x/a", 80, "TCP", true},
		{"an isolated pod reaches its own node", denyAllX, "x/a", "node-a", 10250, "TCP", true},
		{"another node is ordinary traffic", denyAllX, "node-b", "x/a", 80, "TCP", false},
		{"an outside host is ordinary traffic", denyAllX, "outside", "x/a", 80, "TCP", false},
		{"a hostNetwork pod is its node's traffic", denyAllX, "x/host", "x/a", 80, "TCP", true},
		{"a hostNetwork pod on another node is that node's traffic", denyAllX, "x/host", "x/b", 80, "TCP", false},
		{"a hostNetwork pod is never isolated", denyAllX, "y/a", "x/host", 80, "TCP", true},
		{"no policy, no isolation", "", "outside", "y/a", 80, "TCP", true},
		{"a policy selects pods of its own namespace only", `
metadata: {name: deny, namespace: x}
spec: {podSelector: {matchLabels: {pod: a}}, policyTypes: [Ingress]}`, "x/b", "y/a", 80, "TCP", true},
		{"ipBlock matches another node", `
metadata: {name: from-nodes, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 192.168.0.0/24}}]}]`, "node-b", "x/a", 80, "TCP", true},
		{"ipBlock matches a hostNetwork pod by its node's address", `
metadata: {name: from-nodes, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{ipBlock: {cidr: 192.168.0.1/32}}]}]`, "x/host", "x/b", 80, "TCP", true},
		{"selectors never match an outside host", `
metadata: {name: from-all, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {}}]}]`, "outside", "x/a", 80, "TCP", false},
		{"selectors never match a hostNetwork pod", `
metadata: {name: from-x, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress: [{from: [{podSelector: {}}]}]`, "x/host", "x/b", 80, "TCP", false},
		{"empty from allows the outside", `
metadata: {name: any, namespace: x}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 80}]}]`, "outside", "x/a", 80, "TCP", true},
		{"ingress: [] allows nothing", `
metadata: {name: none, namespace: x}
spec: {podSelector: {}, ingress: [], policyTypes: [Ingress]}`, "x/b", "x/a", 80, "TCP", false},
		{"a port entry without port allows every port of its protocol", `
metadata: {name: udp, namespace: x}
spec:
  podSelector: {}
  ingress: [{ports: [{protocol: UDP}]}]`, "y/a", "x/a", 5353, "UDP", true},
		{"a port entry without port does not open another protocol", `
metadata: {name: udp, namespace: x}
spec:
  podSelector: {}
  ingress: [{ports: [{protocol: UDP}]}]`, "y/a", "x/a", 5353, "TCP", false},
		{"endPort is inclusive", `
metadata: {name: range, namespace: x}
spec:
  podSelector: {}
  ingress: [{ports: [{port: 80, endPort: 81}]}]`, "y/a", "x/a", 81, "TCP", true},
		{"a named port egress to an outside address matches nothing", `
metadata: {name: named, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ports: [{port: serve-80-tcp}]}]`, "x/a", "outside", 80, "TCP", false},
		{"a named port egress through an ipBlock is resolved on the pod it reaches", `
metadata: {name: named, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.244.2.0/24}}], ports: [{port: serve-80-tcp}]}]`, "x/a", "y/b", 80, "TCP", true},
		{"egress to DNS only allows DNS", netpoltest.DNSOnlyX, "x/a", "kube-system/coredns", 53, "UDP", true},
		{"egress to DNS only: another port of the DNS pod", netpoltest.DNSOnlyX, "x/a", "kube-system/coredns", 9153, "TCP", false},
		{"a namespace without an object still has its name label", `
metadata: {name: from-ghost, namespace: x}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ghost}}}]}]`, "ghost/p", "x/a", 80, "TCP", true},
		{"an invalid selector selects nothing", `
metadata: {name: bad, namespace: x}
spec:
  podSelector: {matchExpressions: [{key: pod, operator: Near, values: [a]}]}
  policyTypes: [Ingress]`, "y/a", "x/a", 80, "TCP", true},
		{"an empty protocol is TCP", "", "y/a", "x/a", 80, "", true},
	}
	ghost := e2ePod("ghost", "p", "10.244.8.1")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			c.Pods = append(append([]*corev1.Pod(nil), base.Pods...), ghost)
			c.Policies = decodePolicies(t, tt.policies)
			end := func(s string) Endpoint {
				switch s {
				case "node-a":
					return node("node-a", "192.168.0.1")
				case "node-b":
					return node("node-b", "192.168.0.2")
				case "outside":
					return outside
				}
				return PodEndpoint(c.pod(s))
			}
			v := c.Allowed(end(tt.from), end(tt.to), tt.port, tt.proto)
			if v.Allowed != tt.want {
				t.Errorf("Allowed(%s -> %s %s/%d) = %v, want %v\n%s", tt.from, tt.to, tt.proto, tt.port, v.Allowed, tt.want, v)
			}
		})
	}
}

func TestPolicyTypes(t *testing.T) {
	rule := []networkingv1.NetworkPolicyEgressRule{{}}
	tests := []struct {
		spec        networkingv1.NetworkPolicySpec
		ingress, eg bool
	}{
		{networkingv1.NetworkPolicySpec{}, true, false},
		{networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{}}, true, false},
		{networkingv1.NetworkPolicySpec{Egress: rule}, true, true},
		{networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Egress"}}, false, true},
		{networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress"}, Egress: rule}, true, false},
	}
	for i, tt := range tests {
		in, eg := PolicyTypes(&networkingv1.NetworkPolicy{Spec: tt.spec})
		if in != tt.ingress || eg != tt.eg {
			t.Errorf("%d: PolicyTypes = %v, %v, want %v, %v", i, in, eg, tt.ingress, tt.eg)
		}
	}
}

// A verdict names the policies and the rule, as podlab trace prints it.
func TestVerdictText(t *testing.T) {
	c, _ := e2eCluster()
	c.Policies = decodePolicies(t, `
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
metadata: {name: from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: c}}}]}, {from: [{podSelector: {matchLabels: {pod: b}}}], ports: [{port: 80}]}]`)
	tests := []struct {
		from, to string
		port     int32
		want     string
	}{
		{"x/b", "x/a", 80, `allowed
  egress: x/b is not isolated for egress (no policy selects it with Egress in policyTypes)
  ingress: allowed by policy x/from-b, rule 1 (spec.ingress[1])`},
		{"x/b", "x/a", 81, `blocked
  egress: x/b is not isolated for egress (no policy selects it with Egress in policyTypes)
  ingress: default deny: x/a is isolated by policies x/deny, x/from-b; no rule allows TCP/81 from x/b`},
		{"y/a", "x/b", 80, `blocked
  egress: y/a is not isolated for egress (no policy selects it with Egress in policyTypes)
  ingress: default deny: x/b is isolated by policy x/deny; no rule allows TCP/80 from y/a`},
		{"x/a", "x/a", 80, `allowed: a pod may always reach itself`},
	}
	for _, tt := range tests {
		v := c.Allowed(PodEndpoint(c.pod(tt.from)), PodEndpoint(c.pod(tt.to)), tt.port, corev1.ProtocolTCP)
		if got := v.String(); got != tt.want {
			t.Errorf("%s -> %s:%d:\n%s\nwant\n%s", tt.from, tt.to, tt.port, got, tt.want)
		}
	}
	v := c.Allowed(Endpoint{IP: netip.MustParseAddr("203.0.113.7")}, PodEndpoint(c.pod("x/a")), 80, "TCP")
	if v.Egress.String() != "egress: not a pod, no policy applies" || v.Ingress.Policies[0] != "x/deny" {
		t.Errorf("from outside: %s", v)
	}
}

func TestFromStore(t *testing.T) {
	s := store.New()
	c, _ := e2eCluster()
	c.Policies = decodePolicies(t, `
metadata: {name: deny, namespace: x}
spec: {podSelector: {}}`)
	for _, o := range []store.Object{c.Namespaces[0], c.Pods[0], c.Policies[0], &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: "s"}}} {
		if _, err := s.Create(o); err != nil {
			t.Fatal(err)
		}
	}
	got := FromStore(s)
	if len(got.Pods) != 1 || len(got.Namespaces) != 1 || len(got.Policies) != 1 || got.Policies[0].Name != "deny" {
		t.Fatalf("FromStore = %d pods, %d namespaces, %d policies", len(got.Pods), len(got.Namespaces), len(got.Policies))
	}
}

// Compile's output is what the dataplane diffs: its exact shape matters.
func TestCompile(t *testing.T) {
	pod := func(ns, name, ip string, ports ...corev1.ContainerPort) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
			Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Ports: ports}}},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
		}
	}
	web := func(n int32) corev1.ContainerPort { return corev1.ContainerPort{Name: "web", ContainerPort: n} }
	pending := pod("a", "pending", "")
	pending.Status.Phase = corev1.PodPending
	host := pod("a", "host", "192.168.0.1")
	host.Spec.HostNetwork = true
	done := pod("a", "done", "10.0.0.9")
	done.Status.Phase = corev1.PodSucceeded
	c := Cluster{Pods: []*corev1.Pod{
		pod("b", "web2", "10.0.1.2", web(8081)), pod("a", "client", "10.0.0.1"),
		pod("b", "web1", "10.0.1.1", web(8080)), pending, host, done,
	}}
	c.Policies = decodePolicies(t, `
metadata: {name: client-out, namespace: a}
spec:
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {}}]
    ports: [{port: web}, {port: 53, protocol: UDP}]
  - to: [{podSelector: {matchLabels: {app: nobody}}}]
  - to: [{ipBlock: {cidr: 10.1.0.1/16, except: [10.1.2.0/24]}}]
    ports: [{port: web}]
---
metadata: {name: web-in, namespace: b}
spec:
  podSelector: {}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: a}}, podSelector: {}}]
    ports: [{port: web}]
  - ports: [{port: other}]
---
metadata: {name: web-in-empty, namespace: b}
spec: {podSelector: {matchLabels: {app: web1}}, ingress: [{}]}`)
	got := c.Compile(func(p *corev1.Pod) string { return "v-" + p.Name })
	ip := netip.MustParseAddr
	fromA := []Peer{{IPs: []netip.Addr{ip("10.0.0.1")}}}
	want := []PodRules{
		{Namespace: "a", Name: "client", Node: "n1", IP: ip("10.0.0.1"), Iface: "v-client", EgressIsolated: true, Egress: []Rule{
			{Policy: "a/client-out", Index: 0, Peers: nil, Ports: []Port{{Protocol: "UDP", Port: 53}}},
			{Policy: "a/client-out", Index: 0, Peers: []Peer{{IPs: []netip.Addr{ip("10.0.1.1")}}}, Ports: []Port{{Protocol: "TCP", Port: 8080}}},
			{Policy: "a/client-out", Index: 0, Peers: []Peer{{IPs: []netip.Addr{ip("10.0.1.2")}}}, Ports: []Port{{Protocol: "TCP", Port: 8081}}},
		}},
		{Namespace: "b", Name: "web1", Node: "n1", IP: ip("10.0.1.1"), Iface: "v-web1", IngressIsolated: true, Ingress: []Rule{
			{Policy: "b/web-in", Index: 0, Peers: fromA, Ports: []Port{{Protocol: "TCP", Port: 8080}}},
			{Policy: "b/web-in-empty", Index: 0},
		}},
		{Namespace: "b", Name: "web2", Node: "n1", IP: ip("10.0.1.2"), Iface: "v-web2", IngressIsolated: true, Ingress: []Rule{
			{Policy: "b/web-in", Index: 0, Peers: fromA, Ports: []Port{{Protocol: "TCP", Port: 8081}}},
		}},
	}
	// The client's first rule: namespaceSelector {} resolves to every live pod; its
	// numeric port keeps those peers.
	want[0].Egress[0].Peers = []Peer{{IPs: []netip.Addr{ip("10.0.0.1"), ip("10.0.1.1"), ip("10.0.1.2")}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Compile:\n%s\nwant\n%s", dump(got), dump(want))
	}
	// Deterministic whatever the input order.
	c.Pods[0], c.Pods[2] = c.Pods[2], c.Pods[0]
	c.Policies[0], c.Policies[2] = c.Policies[2], c.Policies[0]
	if again := c.Compile(func(p *corev1.Pod) string { return "v-" + p.Name }); !reflect.DeepEqual(again, got) {
		t.Errorf("Compile depends on input order:\n%s", dump(again))
	}
}

func dump(rs []PodRules) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%s/%s %s %s ingress=%v egress=%v\n", r.Namespace, r.Name, r.IP, r.Iface, r.IngressIsolated, r.EgressIsolated)
		for _, rule := range append(append([]Rule(nil), r.Ingress...), r.Egress...) {
			fmt.Fprintf(&b, "  %s[%d] peers=%v ports=%v\n", rule.Policy, rule.Index, rule.Peers, rule.Ports)
		}
	}
	return b.String()
}

// ipBlocks are read as the API server accepts them.
func TestParseCIDR(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.0/8": "10.0.0.0/8", "10.0.0.1/8": "10.0.0.0/8", "010.000.0.0/08": "10.0.0.0/8",
		"2001:db8::1/64": "2001:db8::/64", "10.1.2.3/32": "10.1.2.3/32", "10.0.0.0/33": "invalid Prefix", "": "invalid Prefix",
	} {
		if got, _ := ParseCIDR(in); got.String() != want {
			t.Errorf("ParseCIDR(%q) = %s, want %s", in, got, want)
		}
	}
}
