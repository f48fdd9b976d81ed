package netpol

import (
	"cmp"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Compile resolves the policies into what each node enforces: one PodRules per pod
// that has an address and is not terminated (hostNetwork pods are their node's
// traffic and get none), sorted by namespace and name, with every list in a fixed
// order so the dataplane can diff two results. ifaceOf names a pod's host-side
// interface. It agrees with Allowed for every flow between pods: a test checks it.
func (c Cluster) Compile(ifaceOf func(*corev1.Pod) string) []PodRules {
	ix := c.index()
	live := livePods(c.Pods)
	ix.liveByNs = map[string][]*corev1.Pod{}
	for _, p := range live {
		ix.liveByNs[p.Namespace] = append(ix.liveByNs[p.Namespace], p)
	}
	ix.peers = map[*networkingv1.NetworkPolicyPeer]peerResult{}
	var out []PodRules
	for _, pod := range live {
		pr := PodRules{
			Namespace: pod.Namespace, Name: pod.Name, Node: pod.Spec.NodeName,
			IP: podIP(pod), Iface: ifaceOf(pod),
		}
		for _, egress := range []bool{false, true} {
			var rules []Rule
			isolated := false
			for _, p := range ix.selecting(pod, egress) {
				isolated = true
				for i, r := range rulesOf(p, egress) {
					rules = append(rules, ix.compileRule(p, i, r, egress, pod, live)...)
				}
			}
			if egress {
				pr.EgressIsolated, pr.Egress = isolated, rules
			} else {
				pr.IngressIsolated, pr.Ingress = isolated, rules
			}
		}
		out = append(out, pr)
	}
	return out
}

// livePods are the pods policies see: an address, not hostNetwork, not finished,
// sorted by namespace and name.
func livePods(pods []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods {
		if p.Spec.HostNetwork || !podIP(p).IsValid() ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *corev1.Pod) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// compileRule resolves rule i of policy p for pod. A rule that can match nothing (its
// peers select no pod, its named ports resolve to no number) is left out: isolation
// does not depend on it. Named ports are resolved on the destination: for ingress on
// pod, for egress on each peer pod, one Rule per number.
func (ix *index) compileRule(p *networkingv1.NetworkPolicy, i int, r rule, egress bool, pod *corev1.Pod, live []*corev1.Pod) []Rule {
	name := p.Namespace + "/" + p.Name
	var peers []Peer
	if len(r.peers) > 0 {
		for j := range r.peers {
			if peer, ok := ix.compilePeer(&r.peers[j], p.Namespace, live); ok {
				peers = append(peers, peer)
			}
		}
		if len(peers) == 0 {
			return nil
		}
	}
	if len(r.ports) == 0 {
		return []Rule{{Policy: name, Index: i, Peers: peers}}
	}
	var numeric []Port
	var named []networkingv1.NetworkPolicyPort
	for _, pp := range r.ports {
		proto := protocolOf(pp)
		switch {
		case pp.Port == nil:
			numeric = append(numeric, Port{Protocol: string(proto)})
		case pp.Port.Type == intstr.Int:
			port := Port{Protocol: string(proto), Port: pp.Port.IntVal}
			if pp.EndPort != nil {
				port.EndPort = *pp.EndPort
			}
			numeric = append(numeric, port)
		case !egress: // resolved on the pod itself
			if n, ok := namedPort(pod, pp.Port.StrVal, proto); ok {
				numeric = append(numeric, Port{Protocol: string(proto), Port: n})
			}
		default:
			named = append(named, pp)
		}
	}
	var out []Rule
	if len(numeric) > 0 {
		out = append(out, Rule{Policy: name, Index: i, Peers: peers, Ports: numeric})
	}
	if len(named) == 0 {
		return out
	}
	// Egress named ports: the destination pods this rule's peers admit, grouped by the
	// number each port name resolves to on them.
	type key struct {
		proto string
		port  int32
	}
	byPort := map[key][]netip.Addr{}
	for _, dst := range live {
		if !ix.peersMatch(r.peers, p.Namespace, PodEndpoint(dst)) {
			continue
		}
		seen := map[key]bool{}
		for _, pp := range named {
			proto := protocolOf(pp)
			if n, ok := namedPort(dst, pp.Port.StrVal, proto); ok && !seen[key{string(proto), n}] {
				seen[key{string(proto), n}] = true
				byPort[key{string(proto), n}] = append(byPort[key{string(proto), n}], podIPs(dst)...)
			}
		}
	}
	keys := make([]key, 0, len(byPort))
	for k := range byPort {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(cmp.Compare(a.proto, b.proto), cmp.Compare(a.port, b.port)) })
	for _, k := range keys {
		ips := byPort[k]
		slices.SortFunc(ips, netip.Addr.Compare)
		out = append(out, Rule{Policy: name, Index: i, Peers: []Peer{{IPs: ips}}, Ports: []Port{{Protocol: k.proto, Port: k.port}}})
	}
	return out
}

// compilePeer resolves one peer: an ipBlock as it is, selectors to the addresses of
// the pods they match now; false when it matches nothing.
func (ix *index) compilePeer(p *networkingv1.NetworkPolicyPeer, policyNs string, live []*corev1.Pod) (Peer, bool) {
	if p.IPBlock != nil {
		b, ok := parseIPBlock(p.IPBlock)
		return Peer{CIDR: b.cidr, Except: b.except}, ok
	}
	// A peer is the same for every pod its policy selects: resolved once per Compile
	// (its IPs are shared, never modified), and only over the namespaces it can match.
	if r, ok := ix.peers[p]; ok && ix.liveByNs != nil {
		return r.peer, r.ok
	}
	candidates := live
	if ix.liveByNs != nil {
		if p.NamespaceSelector == nil {
			candidates = ix.liveByNs[policyNs]
		} else {
			candidates = nil
			sel := ix.selector(p.NamespaceSelector)
			for ns, pods := range ix.liveByNs {
				if sel.Matches(ix.namespaceLabels(ns)) {
					candidates = append(candidates, pods...)
				}
			}
		}
	}
	var ips []netip.Addr
	for _, pod := range candidates {
		if ix.peerMatches(p, policyNs, PodEndpoint(pod)) {
			ips = append(ips, podIPs(pod)...)
		}
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	r := peerResult{Peer{IPs: ips}, len(ips) > 0}
	if ix.peers != nil {
		ix.peers[p] = r
	}
	return r.peer, r.ok
}
