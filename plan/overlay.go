package plan

import (
	"net/netip"

	"podlab.dev/podlab/topology"
)

// Route is one route in a node's namespace.
type Route struct {
	Dst    netip.Prefix `json:"dst"`
	Via    netip.Addr   `json:"via"`
	Dev    string       `json:"dev"`
	Onlink bool         `json:"onlink,omitempty"`
}

// Neighbour is a permanent ARP entry.
type Neighbour struct {
	IP  netip.Addr `json:"ip"`
	MAC string     `json:"mac"`
	Dev string     `json:"dev"`
}

// FDB is a permanent VXLAN forwarding entry: frames for MAC go to Dst.
type FDB struct {
	MAC string     `json:"mac"`
	Dst netip.Addr `json:"dst"`
	Dev string     `json:"dev"`
}

// Overlay is what one node needs to reach every other node's pods, exactly what
// flannel installs: per remote node one route, and for vxlan one permanent
// neighbour and one permanent FDB entry.
type Overlay struct {
	Routes     []Route     `json:"routes"`
	Neighbours []Neighbour `json:"neighbours,omitempty"`
	FDB        []FDB       `json:"fdb,omitempty"`
}

// OverlayFor computes node's overlay entries towards every other node.
func (p *Plan) OverlayFor(node *Node) Overlay {
	var o Overlay
	for i := range p.Nodes {
		peer := &p.Nodes[i]
		if peer.Name == node.Name {
			continue
		}
		switch p.Cluster.Overlay {
		case topology.OverlayHostGW:
			o.Routes = append(o.Routes, Route{Dst: peer.PodCIDR, Via: peer.IP.Addr(), Dev: Uplink})
		default:
			gw := peer.PodCIDR.Masked().Addr() // flannel routes via the peer subnet's .0
			o.Routes = append(o.Routes, Route{Dst: peer.PodCIDR, Via: gw, Dev: VXLANDevice, Onlink: true})
			o.Neighbours = append(o.Neighbours, Neighbour{IP: gw, MAC: peer.VTEPMAC, Dev: VXLANDevice})
			o.FDB = append(o.FDB, FDB{MAC: peer.VTEPMAC, Dst: peer.IP.Addr(), Dev: VXLANDevice})
		}
	}
	return o
}

// HostRoutes are a host's routes into the cluster: each node's pod subnet via that
// node's underlay address, as a lab's router would have, so a client outside the
// cluster reaches pod IPs directly.
func (p *Plan) HostRoutes() Overlay {
	var o Overlay
	for _, n := range p.Nodes {
		o.Routes = append(o.Routes, Route{Dst: n.PodCIDR, Via: n.IP.Addr(), Dev: Uplink})
	}
	return o
}

// ServiceRoute sends a node's own traffic for the service range out of its uplink, so
// that a ClusterIP has a route before kube-proxy's output hook rewrites it (a packet
// without a route never reaches netfilter), as a node's default route does in a cluster.
func (p *Plan) ServiceRoute() Route {
	return Route{Dst: p.Cluster.ServiceCIDR, Dev: Uplink}
}
