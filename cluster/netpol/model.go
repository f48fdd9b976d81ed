package netpol

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	netutils "k8s.io/utils/net"

	"podlab.dev/podlab/cluster/store"
)

// Cluster is what NetworkPolicy depends on: the pods, the namespaces and the policies,
// as the store holds them at one moment. It is pure data; the model never touches the
// kernel.
type Cluster struct {
	Pods       []*corev1.Pod
	Namespaces []*corev1.Namespace
	Policies   []*networkingv1.NetworkPolicy
}

// FromStore reads the objects the model depends on.
func FromStore(r store.Reader) Cluster {
	var c Cluster
	for _, o := range r.List("Pod", "") {
		if p, ok := o.(*corev1.Pod); ok {
			c.Pods = append(c.Pods, p)
		}
	}
	for _, o := range r.List("Namespace", "") {
		if n, ok := o.(*corev1.Namespace); ok {
			c.Namespaces = append(c.Namespaces, n)
		}
	}
	for _, o := range r.List("NetworkPolicy", "") {
		if p, ok := o.(*networkingv1.NetworkPolicy); ok {
			c.Policies = append(c.Policies, p)
		}
	}
	return c
}

// Endpoint is one end of a flow: a pod (Pod set; IP defaults to its status.podIP), or
// an address that is no pod: a node (Node set), a lab host or the outside world.
type Endpoint struct {
	Pod  *corev1.Pod
	IP   netip.Addr
	Node string
}

// PodEndpoint is the endpoint of a pod at its status.podIP.
func PodEndpoint(p *corev1.Pod) Endpoint {
	return Endpoint{Pod: p, IP: podIP(p), Node: p.Spec.NodeName}
}

// isPod says whether policies see e as a pod: a hostNetwork pod is its node's traffic.
func (e Endpoint) isPod() bool { return e.Pod != nil && !e.Pod.Spec.HostNetwork }

// node is the node e is or runs on ("" for hosts and the outside).
func (e Endpoint) node() string {
	if e.Pod != nil {
		return e.Pod.Spec.NodeName
	}
	return e.Node
}

func (e Endpoint) addr() netip.Addr {
	if !e.IP.IsValid() && e.Pod != nil {
		return podIP(e.Pod)
	}
	return e.IP
}

func (e Endpoint) String() string {
	switch {
	case e.isPod():
		return e.Pod.Namespace + "/" + e.Pod.Name
	case e.Pod != nil:
		return fmt.Sprintf("%s/%s (hostNetwork on node %s)", e.Pod.Namespace, e.Pod.Name, e.Pod.Spec.NodeName)
	case e.Node != "":
		return fmt.Sprintf("node %s (%s)", e.Node, e.IP)
	}
	return e.IP.String()
}

// Verdict is the model's answer for one flow, with what a trace prints: for each
// direction the policies that isolate the pod, and the rule that allowed the flow or
// the fact that none did.
type Verdict struct {
	Allowed bool
	// Always is set when no policy is consulted: a pod reaching itself, or a pod and
	// its own node.
	Always          string
	Egress, Ingress Decision
}

// Decision is one direction's half of a verdict: egress of the source, ingress of the
// destination.
type Decision struct {
	Direction string // "egress" or "ingress"
	Pod       string // namespace/name of the pod judged; "" when that end is no pod
	Isolated  bool
	Policies  []string // namespace/name of the policies isolating Pod in this direction, sorted
	Allowed   bool
	Policy    string // the first policy (in Policies' order) with a rule that allows the flow
	Rule      int    // that rule's index in the policy's ingress or egress list
	flow      string // "TCP/80 to y/b", for the message
}

func (d Decision) String() string {
	switch {
	case d.Pod == "":
		return d.Direction + ": not a pod, no policy applies"
	case !d.Isolated:
		return fmt.Sprintf("%s: %s is not isolated for %s (no policy selects it with %s in policyTypes)",
			d.Direction, d.Pod, d.Direction, titleDirection(d.Direction))
	case d.Allowed:
		return fmt.Sprintf("%s: allowed by policy %s, rule %d (spec.%s[%d])", d.Direction, d.Policy, d.Rule, d.Direction, d.Rule)
	}
	return fmt.Sprintf("%s: default deny: %s is isolated by %s %s; no rule allows %s",
		d.Direction, d.Pod, plural(len(d.Policies), "policy", "policies"), strings.Join(d.Policies, ", "), d.flow)
}

func (v Verdict) String() string {
	word := "blocked"
	if v.Allowed {
		word = "allowed"
	}
	if v.Always != "" {
		return word + ": " + v.Always
	}
	return word + "\n  " + v.Egress.String() + "\n  " + v.Ingress.String()
}

func titleDirection(d string) string {
	if d == "egress" {
		return "Egress"
	}
	return "Ingress"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Allowed is the reference algorithm of SEMANTICS.md section 5: the flow needs the
// source's egress and the destination's ingress to allow it. proto "" is TCP.
func (c Cluster) Allowed(from, to Endpoint, port int32, proto corev1.Protocol) Verdict {
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	v := Verdict{Egress: Decision{Direction: "egress"}, Ingress: Decision{Direction: "ingress"}}
	switch {
	case from.isPod() && to.isPod() && from.Pod.Namespace == to.Pod.Namespace && from.Pod.Name == to.Pod.Name:
		v.Always = "a pod may always reach itself"
	case from.isPod() && !to.isPod() && to.node() != "" && to.node() == from.node(),
		to.isPod() && !from.isPod() && from.node() != "" && from.node() == to.node():
		v.Always = "traffic between a pod and its own node is always allowed"
	}
	if v.Always != "" {
		v.Allowed = true
		return v
	}
	ix := c.index()
	v.Egress = ix.decide(true, from, to, port, proto)
	v.Ingress = ix.decide(false, to, from, port, proto)
	v.Allowed = v.Egress.Allowed && v.Ingress.Allowed
	return v
}

// decide judges one direction for pod self: egress (self is the source, peer the
// destination) or ingress (self is the destination).
func (ix *index) decide(egress bool, self, peer Endpoint, port int32, proto corev1.Protocol) Decision {
	d := Decision{Direction: "ingress", Allowed: true}
	dst := self
	if egress {
		d.Direction, dst = "egress", peer
	}
	if !self.isPod() {
		return d
	}
	d.Pod = self.String()
	d.flow = fmt.Sprintf("%s/%d from %s", proto, port, peer)
	if egress {
		d.flow = fmt.Sprintf("%s/%d to %s", proto, port, peer)
	}
	d.Allowed = false
	for _, p := range ix.selecting(self.Pod, egress) {
		d.Isolated = true
		d.Policies = append(d.Policies, p.Namespace+"/"+p.Name)
		if d.Policy != "" {
			continue
		}
		for i, r := range rulesOf(p, egress) {
			if ix.peersMatch(r.peers, p.Namespace, peer) && portsMatch(r.ports, dst, port, proto) {
				d.Allowed, d.Policy, d.Rule = true, p.Namespace+"/"+p.Name, i
				break
			}
		}
	}
	if !d.Isolated {
		d.Allowed = true
	}
	return d
}

// rule is an ingress or an egress rule: its peers (from or to) and ports.
type rule struct {
	peers []networkingv1.NetworkPolicyPeer
	ports []networkingv1.NetworkPolicyPort
}

func rulesOf(p *networkingv1.NetworkPolicy, egress bool) []rule {
	var out []rule
	if egress {
		for _, r := range p.Spec.Egress {
			out = append(out, rule{r.To, r.Ports})
		}
		return out
	}
	for _, r := range p.Spec.Ingress {
		out = append(out, rule{r.From, r.Ports})
	}
	return out
}

// PolicyTypes is the policy's effective policyTypes: the field when set, else Ingress,
// plus Egress only when spec.egress is non-empty (the API server's defaulting).
func PolicyTypes(p *networkingv1.NetworkPolicy) (ingress, egress bool) {
	if len(p.Spec.PolicyTypes) == 0 {
		return true, len(p.Spec.Egress) > 0
	}
	for _, t := range p.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			ingress = true
		case networkingv1.PolicyTypeEgress:
			egress = true
		}
	}
	return ingress, egress
}

// index is a Cluster prepared for many questions: selectors parsed once, namespace
// labels by name, policies sorted.
type index struct {
	c         Cluster
	nsLabels  map[string]labels.Set
	policies  []*networkingv1.NetworkPolicy // sorted by namespace/name
	byNs      map[string][]*networkingv1.NetworkPolicy
	selectors map[*metav1.LabelSelector]labels.Selector
	// For Compile: the live pods by namespace, and each selector peer resolved once.
	liveByNs map[string][]*corev1.Pod
	peers    map[*networkingv1.NetworkPolicyPeer]peerResult
}

type peerResult struct {
	peer Peer
	ok   bool
}

func (c Cluster) index() *index {
	ix := &index{c: c, nsLabels: map[string]labels.Set{}, selectors: map[*metav1.LabelSelector]labels.Selector{}}
	for _, n := range c.Namespaces {
		ix.nsLabels[n.Name] = nsLabels(n.Name, n.Labels)
	}
	ix.policies = slices.Clone(c.Policies)
	slices.SortFunc(ix.policies, func(a, b *networkingv1.NetworkPolicy) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	ix.byNs = map[string][]*networkingv1.NetworkPolicy{}
	for _, p := range ix.policies {
		ix.byNs[p.Namespace] = append(ix.byNs[p.Namespace], p)
	}
	return ix
}

// nsLabels is a namespace's labels with kubernetes.io/metadata.name, which the API
// server sets on every namespace (also on one the store has no object for).
func nsLabels(name string, l map[string]string) labels.Set {
	out := labels.Set{corev1.LabelMetadataName: name}
	for k, v := range l {
		if k != corev1.LabelMetadataName {
			out[k] = v
		}
	}
	return out
}

func (ix *index) namespaceLabels(ns string) labels.Set {
	if l, ok := ix.nsLabels[ns]; ok {
		return l
	}
	return nsLabels(ns, nil)
}

// selector parses s once; an invalid selector (validation rejects them) selects nothing.
func (ix *index) selector(s *metav1.LabelSelector) labels.Selector {
	if sel, ok := ix.selectors[s]; ok {
		return sel
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		sel = labels.Nothing()
	}
	ix.selectors[s] = sel
	return sel
}

// selecting lists the policies that select pod for the direction, sorted.
func (ix *index) selecting(pod *corev1.Pod, egress bool) []*networkingv1.NetworkPolicy {
	var out []*networkingv1.NetworkPolicy
	for _, p := range ix.byNs[pod.Namespace] { // a policy selects pods of its namespace only
		in, eg := PolicyTypes(p)
		if (egress && !eg) || (!egress && !in) {
			continue
		}
		if ix.selector(&p.Spec.PodSelector).Matches(labels.Set(pod.Labels)) {
			out = append(out, p)
		}
	}
	return out
}

// peersMatch: an empty list matches everything; else any entry does.
func (ix *index) peersMatch(peers []networkingv1.NetworkPolicyPeer, policyNs string, e Endpoint) bool {
	if len(peers) == 0 {
		return true
	}
	for i := range peers {
		if ix.peerMatches(&peers[i], policyNs, e) {
			return true
		}
	}
	return false
}

func (ix *index) peerMatches(p *networkingv1.NetworkPolicyPeer, policyNs string, e Endpoint) bool {
	if p.IPBlock != nil {
		b, ok := parseIPBlock(p.IPBlock)
		return ok && b.contains(e.addr())
	}
	if !e.isPod() {
		return false // selectors match pods only
	}
	if p.NamespaceSelector == nil {
		if e.Pod.Namespace != policyNs {
			return false
		}
	} else if !ix.selector(p.NamespaceSelector).Matches(ix.namespaceLabels(e.Pod.Namespace)) {
		return false
	}
	return p.PodSelector == nil || ix.selector(p.PodSelector).Matches(labels.Set(e.Pod.Labels))
}

// portsMatch: an empty list matches everything; a named port is looked up on dst.
func portsMatch(ports []networkingv1.NetworkPolicyPort, dst Endpoint, port int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		if protocolOf(p) != proto {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.Int:
			lo, hi := p.Port.IntVal, p.Port.IntVal
			if p.EndPort != nil {
				hi = *p.EndPort
			}
			if lo <= port && port <= hi {
				return true
			}
		default:
			if dst.isPod() {
				if n, ok := namedPort(dst.Pod, p.Port.StrVal, proto); ok && n == port {
					return true
				}
			}
		}
	}
	return false
}

func protocolOf(p networkingv1.NetworkPolicyPort) corev1.Protocol {
	if p.Protocol == nil || *p.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return *p.Protocol
}

// namedPort finds the pod's container port with that name and protocol.
func namedPort(pod *corev1.Pod, name string, proto corev1.Protocol) (int32, bool) {
	for _, c := range pod.Spec.Containers {
		for _, cp := range c.Ports {
			p := cp.Protocol
			if p == "" {
				p = corev1.ProtocolTCP
			}
			if cp.Name == name && p == proto {
				return cp.ContainerPort, true
			}
		}
	}
	return 0, false
}

// ipBlock is a parsed ipBlock peer.
type ipBlock struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

func (b ipBlock) contains(a netip.Addr) bool {
	if !a.IsValid() || !b.cidr.Contains(a) {
		return false
	}
	for _, e := range b.except {
		if e.Contains(a) {
			return false
		}
	}
	return true
}

func parseIPBlock(b *networkingv1.IPBlock) (ipBlock, bool) {
	cidr, ok := ParseCIDR(b.CIDR)
	if !ok {
		return ipBlock{}, false
	}
	out := ipBlock{cidr: cidr}
	for _, s := range b.Except {
		if e, ok := ParseCIDR(s); ok {
			out.except = append(out.except, e)
		}
	}
	return out, true
}

// ParseCIDR reads a CIDR as the API server accepts it in an ipBlock (with
// k8s.io/utils/net's sloppy parser): an address with bits beyond the prefix length
// stands for its network ("10.0.0.1/8" is 10.0.0.0/8), and leading zeros are decimal.
func ParseCIDR(s string) (netip.Prefix, bool) {
	_, n, err := netutils.ParseCIDRSloppy(s)
	if err != nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	if len(n.IP) == net.IPv6len && len(n.Mask) == net.IPv4len {
		a = a.Unmap()
	}
	return netip.PrefixFrom(a, ones), ok
}

func podIP(p *corev1.Pod) netip.Addr {
	a, _ := netip.ParseAddr(p.Status.PodIP)
	return a
}

// podIPs is every address of the pod (status.podIPs, else status.podIP).
func podIPs(p *corev1.Pod) []netip.Addr {
	var out []netip.Addr
	for _, s := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(s.IP); err == nil {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		if a := podIP(p); a.IsValid() {
			out = append(out, a)
		}
	}
	return out
}
