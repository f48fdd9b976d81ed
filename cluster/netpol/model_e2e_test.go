package netpol

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The upstream e2e netpol model (test/e2e/network/netpol): namespaces x, y and z,
// pods a, b and c in each (label pod=<name>), every pod serving 80 and 81 over TCP,
// UDP and SCTP with container ports named serve-<port>-<protocol>. Pod x/a is
// 10.244.1.10, x/b 10.244.1.11, y/a 10.244.2.10 and so on; kube-system/coredns
// (k8s-app=kube-dns, 10.244.9.53) serves DNS.

var e2eNamespaces = []string{"x", "y", "z"}

func e2ePod(ns, name string, ip string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"pod": name}},
		Spec:       corev1.PodSpec{NodeName: "node-" + name},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
	}
	var ports []corev1.ContainerPort
	for _, port := range []int32{80, 81} {
		for _, proto := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP} {
			ports = append(ports, corev1.ContainerPort{
				Name: fmt.Sprintf("serve-%d-%s", port, strings.ToLower(string(proto))), ContainerPort: port, Protocol: proto,
			})
		}
	}
	p.Spec.Containers = []corev1.Container{{Name: "cont", Ports: ports}}
	return p
}

func e2eCluster() (Cluster, []string) {
	var c Cluster
	var names []string
	for i, ns := range e2eNamespaces {
		c.Namespaces = append(c.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns, Labels: map[string]string{corev1.LabelMetadataName: ns},
		}})
		for j, name := range []string{"a", "b", "c"} {
			c.Pods = append(c.Pods, e2ePod(ns, name, fmt.Sprintf("10.244.%d.%d", i+1, 10+j)))
			names = append(names, ns+"/"+name)
		}
	}
	c.Namespaces = append(c.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}})
	dns := e2ePod("kube-system", "coredns", "10.244.9.53")
	dns.Labels = map[string]string{"k8s-app": "kube-dns"}
	dns.Spec.Containers[0].Ports = []corev1.ContainerPort{
		{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP},
		{Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP},
	}
	c.Pods = append(c.Pods, dns)
	return c, names
}

// decodePolicies reads YAML documents separated by "---".
func decodePolicies(t *testing.T, docs string) []*networkingv1.NetworkPolicy {
	t.Helper()
	var out []*networkingv1.NetworkPolicy
	for _, d := range strings.Split(docs, "\n---\n") {
		if strings.TrimSpace(d) == "" {
			continue
		}
		p := &networkingv1.NetworkPolicy{}
		if err := yaml.UnmarshalStrict([]byte(d), p); err != nil {
			t.Fatalf("policy %q: %v", d, err)
		}
		out = append(out, p)
	}
	return out
}

func (c Cluster) pod(name string) *corev1.Pod {
	ns, n, _ := strings.Cut(name, "/")
	for _, p := range c.Pods {
		if p.Namespace == ns && p.Name == n {
			return p
		}
	}
	panic("no pod " + name)
}

func (c Cluster) namespace(name string) *corev1.Namespace {
	for _, n := range c.Namespaces {
		if n.Name == name {
			return n
		}
	}
	panic("no namespace " + name)
}

// parseTable reads an expected truth table: a header line, then one line per source
// pod, its name and one cell per destination ("." allowed, "X" blocked), spaces
// ignored.
func parseTable(t *testing.T, s string, pods []string) map[[2]string]bool {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(s), "\n")[1:]
	if len(lines) != len(pods) {
		t.Fatalf("table has %d rows, want %d", len(lines), len(pods))
	}
	out := map[[2]string]bool{}
	for i, l := range lines {
		f := strings.Fields(l)
		cells := strings.Join(f[1:], "")
		if f[0] != pods[i] || len(cells) != len(pods) {
			t.Fatalf("table row %q: want %s and %d cells", l, pods[i], len(pods))
		}
		for j, c := range cells {
			out[[2]string{pods[i], pods[j]}] = c == '.'
		}
	}
	return out
}

type probe struct {
	port  int32
	proto corev1.Protocol
	want  string
}

// allOpen is the table with no policy.
const allOpen = `
    x   y   z
x/a ... ... ...
x/b ... ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`

// xaIsolated: only x/a itself reaches x/a.
const xaIsolated = `
    x   y   z
x/a ... ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...`

// xaCutOff: x/a reaches only itself.
const xaCutOff = `
    x   y   z
x/a .XX XXX XXX
x/b ... ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`

// xaFromY: x/a is reached by itself and namespace y.
const xaFromY = `
    x   y   z
x/a ... ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...`

// dnsOnlyX lets every pod of x send DNS to kube-system's CoreDNS and nothing else.
const dnsOnlyX = `
metadata: {name: dns-only, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]`

func tcp(port int32, want string) probe  { return probe{port, corev1.ProtocolTCP, want} }
func udp(port int32, want string) probe  { return probe{port, corev1.ProtocolUDP, want} }
func sctp(port int32, want string) probe { return probe{port, corev1.ProtocolSCTP, want} }

var e2eScenarios = []struct {
	name     string
	policies string
	change   func(c *Cluster) // after the policies exist: relabel, create pods
	probes   []probe
}{
	{name: "no policies (or all deleted)", probes: []probe{tcp(80, allOpen), udp(81, allOpen), sctp(80, allOpen)}},
	{name: "default deny ingress", policies: `
metadata: {name: deny-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}`, probes: []probe{tcp(80, `
    x   y   z
x/a .XX ... ...
x/b X.X ... ...
x/c XX. ... ...
y/a XXX ... ...
y/b XXX ... ...
y/c XXX ... ...
z/a XXX ... ...
z/b XXX ... ...
z/c XXX ... ...`)}},
	{name: "default deny egress", policies: `
metadata: {name: deny-egress, namespace: x}
spec: {podSelector: {}, policyTypes: [Egress]}`, probes: []probe{tcp(80, `
    x   y   z
x/a .XX XXX XXX
x/b X.X XXX XXX
x/c XX. XXX XXX
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "default deny all", policies: `
metadata: {name: deny-all, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`, probes: []probe{udp(80, `
    x   y   z
x/a .XX XXX XXX
x/b X.X XXX XXX
x/c XX. XXX XXX
y/a XXX ... ...
y/b XXX ... ...
y/c XXX ... ...
z/a XXX ... ...
z/b XXX ... ...
z/c XXX ... ...`)}},
	{name: "allow from pods of the server's namespace by podSelector", policies: `
metadata: {name: x-a-from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b ... ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...`)}},
	{name: "allow all ingress to a target inside a default deny", policies: `
metadata: {name: deny-ingress, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
metadata: {name: allow-to-a, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{}]`, probes: []probe{tcp(81, `
    x   y   z
x/a .XX ... ...
x/b ..X ... ...
x/c .X. ... ...
y/a .XX ... ...
y/b .XX ... ...
y/c .XX ... ...
z/a .XX ... ...
z/b .XX ... ...
z/c .XX ... ...`)}},
	{name: "allow from pods in all namespaces", policies: `
metadata: {name: from-all-ns, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {}}]}]`, probes: []probe{tcp(80, allOpen)}},
	{name: "allow only from a different namespace", policies: `
metadata: {name: from-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]}]`, probes: []probe{tcp(80, xaFromY)}},
	{name: "podSelector with matchExpressions NotIn (policy namespace only)", policies: `
metadata: {name: not-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchExpressions: [{key: pod, operator: NotIn, values: [b]}]}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b X.. ... ...
x/c ... ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...`)}},
	{name: "namespaceSelector with matchExpressions NotIn", policies: `
metadata: {name: not-x, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "podSelector OR namespaceSelector (two peers)", policies: `
metadata: {name: or, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}
    - podSelector: {matchLabels: {pod: b}}`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b ... ... ...
x/c X.. ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "podSelector AND namespaceSelector (one peer)", policies: `
metadata: {name: and, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}
      podSelector: {matchLabels: {pod: b}}`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b ... ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b ... ... ...
z/c X.. ... ...`)}},
	{name: "multiple pod and namespace values ANDed", policies: `
metadata: {name: and-in, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [x]}]}
      podSelector: {matchExpressions: [{key: pod, operator: In, values: [b, c]}]}`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b ... ... ...
y/c ... ... ...
z/a X.. ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "namespaceSelector {} AND podSelector: a pod label in every namespace", policies: `
metadata: {name: a-anywhere, namespace: x}
spec:
  podSelector: {matchLabels: {pod: b}}
  ingress: [{from: [{namespaceSelector: {}, podSelector: {matchLabels: {pod: a}}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b ... ... ...
x/c .X. ... ...
y/a ... ... ...
y/b .X. ... ...
y/c .X. ... ...
z/a ... ... ...
z/b .X. ... ...
z/c .X. ... ...`)}},
	{name: "ingress from a namespace on port 80 only", policies: `
metadata: {name: y-on-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]
    ports: [{port: 80}]`, probes: []probe{tcp(80, xaFromY), tcp(81, xaIsolated)}},
	{name: "ingress on port 81 (protocol defaults to TCP)", policies: `
metadata: {name: on-81, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: 81}]}]`, probes: []probe{tcp(80, xaIsolated), tcp(81, allOpen), udp(81, xaIsolated)}},
	{name: "several ingress policies: allow-all wins over a port", policies: `
metadata: {name: on-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: 80}]}]
---
metadata: {name: allow-all, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{}]`, probes: []probe{tcp(81, allOpen)}},
	{name: "egress on port 80 only", policies: `
metadata: {name: out-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{ports: [{port: 80}]}]`, probes: []probe{tcp(80, allOpen), tcp(81, xaCutOff)}},
	{name: "several egress policies: allow-all wins over a port", policies: `
metadata: {name: out-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{ports: [{port: 80}]}]
---
metadata: {name: allow-all-out, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{}]`, probes: []probe{tcp(81, allOpen)}},
	{name: "ingress on one named port", policies: `
metadata: {name: named-81, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: serve-81-tcp}]}]`, probes: []probe{tcp(80, xaIsolated), tcp(81, allOpen)}},
	{name: "ingress from a namespace on one named port", policies: `
metadata: {name: y-named-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]
    ports: [{port: serve-80-tcp, protocol: TCP}]`, probes: []probe{tcp(80, xaFromY), tcp(81, xaIsolated)}},
	{name: "egress on one named port, resolved on each destination", policies: `
metadata: {name: out-named-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{ports: [{port: serve-80-tcp}]}]`, probes: []probe{tcp(80, allOpen), tcp(81, xaCutOff), udp(80, xaCutOff)}},
	{name: "a named port of another protocol matches nothing", policies: `
metadata: {name: udp-name-tcp, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{port: serve-80-udp, protocol: TCP}]}]`, probes: []probe{tcp(80, xaIsolated), udp(80, xaIsolated)}},
	{name: "a UDP rule never opens TCP", policies: `
metadata: {name: udp-81, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{protocol: UDP, port: 81}]}]`, probes: []probe{udp(81, allOpen), tcp(81, xaIsolated)}},
	{name: "an SCTP rule never opens TCP", policies: `
metadata: {name: sctp-80, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{protocol: SCTP, port: 80}]}]`, probes: []probe{sctp(80, allOpen), tcp(80, xaIsolated)}},
	{name: "egress to one pod by ipBlock /32", policies: `
metadata: {name: to-yb, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.244.2.11/32}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a .XX X.X XXX
x/b ... ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "egress to a CIDR except one pod", policies: `
metadata: {name: cidr-except, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 10.244.0.0/16, except: [10.244.2.11/32]}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a ... .X. ...
x/b ... ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "ingress from 0.0.0.0/0 except one pod", policies: `
metadata: {name: all-but-xb, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.244.1.11/32]}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b X.. ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "egress from a namespace to everything except another namespace's subnet", policies: `
metadata: {name: not-to-y, namespace: x}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.244.2.0/24]}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a ... XXX ...
x/b ... XXX ...
x/c ... XXX ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "egress port range 81-82 (endPort)", policies: `
metadata: {name: range, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{ports: [{port: 81, endPort: 82}]}]`, probes: []probe{tcp(81, allOpen), tcp(80, xaCutOff)}},
	{name: "ingress port range 80-81 over UDP", policies: `
metadata: {name: range-udp, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{ports: [{protocol: UDP, port: 80, endPort: 81}]}]`, probes: []probe{udp(80, allOpen), udp(81, allOpen), tcp(80, xaIsolated)}},
	{name: "egress to DNS only", policies: dnsOnlyX, probes: []probe{tcp(80, `
    x   y   z
x/a .XX XXX XXX
x/b X.X XXX XXX
x/c XX. XXX XXX
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "egress to one namespace", policies: `
metadata: {name: to-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Egress]
  egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a .XX ... XXX
x/b ... ... ...
x/c ... ... ...
y/a ... ... ...
y/b ... ... ...
y/c ... ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "ingress and egress together", policies: `
metadata: {name: both, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
  egress: [{to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a .XX ... XXX
x/b ... ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...`)}},
	{name: "policyTypes omitted with egress rules: both directions isolated", policies: `
metadata: {name: implicit-both, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  egress: [{to: [{podSelector: {matchLabels: {pod: b}}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a ..X XXX XXX
x/b X.. ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...`)}},
	{name: "policyTypes omitted with egress: [] isolates ingress only", policies: `
metadata: {name: empty-egress, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  egress: []`, probes: []probe{tcp(80, xaIsolated)}},
	{name: "several policies: the union of their rules", policies: `
metadata: {name: from-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: b}}}]}]
---
metadata: {name: from-z, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]}]`, probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b ... ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "default deny ingress in two namespaces", policies: `
metadata: {name: deny, namespace: "y"}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
metadata: {name: deny, namespace: z}
spec: {podSelector: {}, policyTypes: [Ingress]}`, probes: []probe{tcp(80, `
    x   y   z
x/a ... XXX XXX
x/b ... XXX XXX
x/c ... XXX XXX
y/a ... .XX XXX
y/b ... X.X XXX
y/c ... XX. XXX
z/a ... XXX .XX
z/b ... XXX X.X
z/c ... XXX XX.`)}},
	{name: "a namespace relabelled to match", policies: `
metadata: {name: from-updated-ns, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {ns2: updated}}}]}]`,
		change: func(c *Cluster) { c.namespace("y").Labels["ns2"] = "updated" },
		probes: []probe{tcp(80, xaFromY)}},
	{name: "a namespace relabelled away", policies: `
metadata: {name: from-y, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}]}]`,
		change: func(c *Cluster) {
			c.namespace("y").Labels["team"] = "blue"
			c.namespace("z").Labels["team"] = "blue"
			delete(c.namespace("y").Labels, "team")
		},
		probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b X.. ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a ... ... ...
z/b ... ... ...
z/c ... ... ...`)}},
	{name: "a pod relabelled to match a peer", policies: `
metadata: {name: from-updated-pod, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod2: updated}}}]}]`,
		change: func(c *Cluster) { c.pod("x/b").Labels["pod2"] = "updated" },
		probes: []probe{tcp(80, `
    x   y   z
x/a ... ... ...
x/b ... ... ...
x/c X.. ... ...
y/a X.. ... ...
y/b X.. ... ...
y/c X.. ... ...
z/a X.. ... ...
z/b X.. ... ...
z/c X.. ... ...`)}},
	{name: "a pod relabelled into isolation", policies: `
metadata: {name: isolate, namespace: x}
spec:
  podSelector: {matchLabels: {target: isolated}}
  policyTypes: [Ingress]`,
		change: func(c *Cluster) { c.pod("x/a").Labels["target"] = "isolated" },
		probes: []probe{tcp(80, xaIsolated)}},
	{name: "a policy selecting no pod yet changes nothing", policies: `
metadata: {name: isolate, namespace: x}
spec:
  podSelector: {matchLabels: {target: isolated}}
  policyTypes: [Ingress, Egress]`, probes: []probe{tcp(80, allOpen)}},
	{name: "a pod created after the policy", policies: `
metadata: {name: from-d, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress: [{from: [{podSelector: {matchLabels: {pod: d}}}]}]`,
		change: func(c *Cluster) { c.Pods = append(c.Pods, e2ePod("x", "d", "10.244.1.13")) },
		probes: []probe{tcp(80, `
    x    y   z
x/a .... ... ...
x/b X... ... ...
x/c X... ... ...
x/d .... ... ...
y/a X... ... ...
y/b X... ... ...
y/c X... ... ...
z/a X... ... ...
z/b X... ... ...
z/c X... ... ...`)}},
	{name: "a pod created after a default deny is isolated", policies: `
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}`,
		change: func(c *Cluster) { c.Pods = append(c.Pods, e2ePod("x", "d", "10.244.1.13")) },
		probes: []probe{sctp(81, `
    x    y   z
x/a .XXX XXX XXX
x/b X.XX XXX XXX
x/c XX.X XXX XXX
x/d XXX. XXX XXX
y/a XXXX ... ...
y/b XXXX ... ...
y/c XXXX ... ...
z/a XXXX ... ...
z/b XXXX ... ...
z/c XXXX ... ...`)}},
}

func TestE2EModel(t *testing.T) {
	if len(e2eScenarios) < 30 {
		t.Fatalf("%d scenarios, the issue asks for at least 30", len(e2eScenarios))
	}
	for _, sc := range e2eScenarios {
		t.Run(sc.name, func(t *testing.T) {
			c, _ := e2eCluster()
			c.Policies = decodePolicies(t, sc.policies)
			if sc.change != nil {
				sc.change(&c)
			}
			var pods []string
			for _, p := range livePods(c.Pods) {
				if p.Namespace != "kube-system" {
					pods = append(pods, p.Namespace+"/"+p.Name)
				}
			}
			rules := c.Compile(func(p *corev1.Pod) string { return "veth-" + p.Name })
			for _, pr := range sc.probes {
				want := parseTable(t, pr.want, pods)
				model := func(from, to string) bool {
					return c.Allowed(PodEndpoint(c.pod(from)), PodEndpoint(c.pod(to)), pr.port, pr.proto).Allowed
				}
				compiled := func(from, to string) bool {
					return evaluate(rules, c.pod(from), c.pod(to), pr.port, pr.proto)
				}
				wantTable := Table(pods, func(from, to string) bool { return want[[2]string{from, to}] })
				if got := Table(pods, model); got != wantTable {
					t.Errorf("%s/%d: Allowed gives\n%s\nwant\n%s", pr.proto, pr.port, got, wantTable)
				}
				if got := Table(pods, compiled); got != wantTable {
					t.Errorf("%s/%d: Compile's rules give\n%s\nwant\n%s", pr.proto, pr.port, got, wantTable)
				}
			}
		})
	}
}

// evaluate judges a flow between two pods on compiled rules, as a dataplane would:
// the source's egress rules, then the destination's ingress rules.
func evaluate(rules []PodRules, from, to *corev1.Pod, port int32, proto corev1.Protocol) bool {
	if from == to {
		return true
	}
	var src, dst *PodRules
	for i := range rules {
		switch {
		case rules[i].Namespace == from.Namespace && rules[i].Name == from.Name:
			src = &rules[i]
		case rules[i].Namespace == to.Namespace && rules[i].Name == to.Name:
			dst = &rules[i]
		}
	}
	if src.EgressIsolated && !rulesAllow(src.Egress, dst.IP, port, proto) {
		return false
	}
	return !dst.IngressIsolated || rulesAllow(dst.Ingress, src.IP, port, proto)
}

func rulesAllow(rules []Rule, peer netip.Addr, port int32, proto corev1.Protocol) bool {
	for _, r := range rules {
		if peersAllow(r.Peers, peer) && portsAllow(r.Ports, port, proto) {
			return true
		}
	}
	return false
}

func peersAllow(peers []Peer, a netip.Addr) bool {
	if peers == nil {
		return true
	}
	for _, p := range peers {
		for _, ip := range p.IPs {
			if ip == a {
				return true
			}
		}
		if p.CIDR.IsValid() && (ipBlock{p.CIDR, p.Except}).contains(a) {
			return true
		}
	}
	return false
}

func portsAllow(ports []Port, port int32, proto corev1.Protocol) bool {
	if ports == nil {
		return true
	}
	for _, p := range ports {
		if p.Protocol != string(proto) {
			continue
		}
		hi := max(p.Port, p.EndPort)
		if p.Port == 0 || (p.Port <= port && port <= hi) {
			return true
		}
	}
	return false
}
