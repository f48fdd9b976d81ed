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

	"podlab.dev/podlab/cluster/netpol/netpoltest"
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

func TestE2EModel(t *testing.T) {
	if len(netpoltest.Scenarios) < 30 {
		t.Fatalf("%d scenarios, the issue asks for at least 30", len(netpoltest.Scenarios))
	}
	for _, sc := range netpoltest.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			c, _ := e2eCluster()
			c.Policies = decodePolicies(t, sc.Policies)
			for _, ch := range sc.Changes {
				switch ch.Kind {
				case "Namespace":
					setLabel(c.namespace(ch.Name).Labels, ch)
				case "Pod":
					setLabel(c.pod(ch.Name).Labels, ch)
				case "NewPod":
					ns, name, _ := strings.Cut(ch.Name, "/")
					c.Pods = append(c.Pods, e2ePod(ns, name, ch.Value))
				}
			}
			var pods []string
			for _, p := range livePods(c.Pods) {
				if p.Namespace != "kube-system" {
					pods = append(pods, p.Namespace+"/"+p.Name)
				}
			}
			rules := c.Compile(func(p *corev1.Pod) string { return "veth-" + p.Name })
			for _, pr := range sc.Probes {
				want, err := netpoltest.ParseTable(pr.Want, pods)
				if err != nil {
					t.Fatal(err)
				}
				model := func(from, to string) bool {
					return c.Allowed(PodEndpoint(c.pod(from)), PodEndpoint(c.pod(to)), pr.Port, pr.Proto).Allowed
				}
				compiled := func(from, to string) bool {
					return evaluate(rules, c.pod(from), c.pod(to), pr.Port, pr.Proto)
				}
				wantTable := Table(pods, func(from, to string) bool { return want[[2]string{from, to}] })
				if got := Table(pods, model); got != wantTable {
					t.Errorf("%s/%d: Allowed gives\n%s\nwant\n%s", pr.Proto, pr.Port, got, wantTable)
				}
				if got := Table(pods, compiled); got != wantTable {
					t.Errorf("%s/%d: Compile's rules give\n%s\nwant\n%s", pr.Proto, pr.Port, got, wantTable)
				}
			}
		})
	}
}

// setLabel makes a Change to labels.
func setLabel(labels map[string]string, ch netpoltest.Change) {
	if ch.Remove {
		delete(labels, ch.Key)
	} else {
		labels[ch.Key] = ch.Value
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
