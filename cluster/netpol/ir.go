// Package netpol enforces networking.k8s.io/v1 NetworkPolicy as a conformant CNI does
// (../shared/SEMANTICS.md section 5). It has two halves that meet in the types below:
//
//   - the model (model.go): from the store's Pods, Namespaces and NetworkPolicies, the
//     reference algorithm's verdict for one flow (Allowed) and, per pod, what its node
//     must enforce (Compile -> PodRules), with selectors and named ports resolved;
//   - the dataplane (nft.go): a node's PodRules as podlab's own nftables table, beside
//     kube-proxy's, rewritten element by element as they change.
//
// The component (component.go) watches the store and hands each node its pods' rules.
package netpol

import "net/netip"

// PodRules is what a node enforces for one of its pods: the pod's address and host-side
// interface, whether each direction is isolated, and when it is, the union of the
// rules that allow traffic in that direction.
type PodRules struct {
	Namespace, Name string
	Node            string
	IP              netip.Addr
	// Iface is the pod's interface in its node (the host side of its veth), by which
	// the node tells the pod's traffic from others.
	Iface string
	// IngressIsolated: some policy selects the pod for Ingress; then only Ingress rules
	// allow traffic to it. Likewise for egress.
	IngressIsolated, EgressIsolated bool
	Ingress, Egress                 []Rule
}

// Rule is one rule of one policy, resolved: traffic matching any peer AND any port is
// allowed. A nil Peers matches every address; a nil Ports every port and protocol.
type Rule struct {
	Policy string // namespace/name
	Index  int    // the rule's index in the policy's ingress or egress list
	Peers  []Peer
	Ports  []Port
}

// Peer is a set of addresses: resolved pods (a podSelector and/or namespaceSelector,
// as the pods' current addresses), or an ipBlock.
type Peer struct {
	IPs    []netip.Addr   // pods the selectors match now
	CIDR   netip.Prefix   // an ipBlock (IPs is then empty)
	Except []netip.Prefix // inside CIDR
}

// Port is one port entry, resolved: Protocol TCP, UDP or SCTP; Port 0 = every port of
// the protocol; EndPort >= Port for a range. A named port is resolved on the
// destination pod: for ingress on the pod itself; for egress on each peer pod, so an
// egress rule with a named port becomes one Rule per resolved number, its Peers the
// pods that have that name (and a named port never matches an ipBlock).
type Port struct {
	Protocol string
	Port     int32
	EndPort  int32
}
