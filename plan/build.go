package plan

import (
	"fmt"
	"net/netip"

	"podlab.dev/podlab/topology"
)

// First underlay offsets: nodes from .10 up, hosts from .100 up (or right after the
// last node when there are more than 90 nodes), so lesson texts can quote them.
const (
	nodeOffset = 10
	hostOffset = 100
)

// Build plans a validated lab. Errors are *topology.Errors pointing at the lab file.
func Build(lab *topology.Lab) (*Plan, error) {
	c := lab.Cluster
	p := &Plan{
		Lab:        lab.Name,
		File:       lab.File,
		Runtime:    lab.Runtime,
		Cluster:    c,
		Underlay:   Underlay{Netns: UnderlayNetns(lab.Name), Bridge: UnderlayBridge, Subnet: c.Underlay},
		Namespaces: lab.Namespaces, Warnings: lab.Warnings,
		Objects: lab.Objects,
	}
	var errs topology.Errors
	podMTU := c.MTU
	if c.Overlay == topology.OverlayVXLAN {
		podMTU -= VXLANOverhead
	}

	// Underlay addresses: pins first, then the rest in order, skipping pins.
	taken := map[netip.Addr]bool{}
	for _, n := range lab.Nodes {
		if n.IP.IsValid() {
			taken[n.IP] = true
		}
	}
	for _, h := range lab.Hosts {
		if h.IP.IsValid() {
			taken[h.IP] = true
		}
	}
	for _, pool := range c.LoadBalancerPool { // nodes and hosts never get a pool address
		for a := pool.Masked().Addr(); pool.Contains(a); a = a.Next() {
			taken[a] = true
		}
	}
	next := func(off int) (netip.Addr, int, error) {
		for ; ; off++ {
			a, ok := nthAddr(c.Underlay, off)
			if !ok || !c.Underlay.Contains(a) || isBroadcast(c.Underlay, a) {
				return netip.Addr{}, off, fmt.Errorf("underlay %s has no free address left", c.Underlay)
			}
			if !taken[a] {
				taken[a] = true
				return a, off + 1, nil
			}
		}
	}
	off := nodeOffset
	for i, n := range lab.Nodes {
		ip := n.IP
		if !ip.IsValid() {
			var err error
			if ip, off, err = next(off); err != nil {
				errs = append(errs, posError(n.Pos, fmt.Sprintf("nodes[%d]", i), "%v", err))
				continue
			}
		}
		// topology gives node i the i-th subnet (and checked they suffice); a Lab built
		// by hand may leave it out.
		sub := n.PodCIDR
		if !sub.IsValid() {
			var ok bool
			if sub, ok = subnet(c.PodCIDR, c.NodeCIDRMaskSize, i); !ok {
				errs = append(errs, posError(n.Pos, fmt.Sprintf("nodes[%d]", i), "podCIDR %s has no /%d subnet left for node %q", c.PodCIDR, c.NodeCIDRMaskSize, n.Name))
				continue
			}
		}
		labels := map[string]string{topology.LabelHostname: n.Name, topology.LabelOS: "linux"}
		if n.Role == topology.RoleControlPlane {
			labels[topology.LabelControlPlane] = ""
		}
		for k, v := range n.Labels {
			labels[k] = v
		}
		p.Nodes = append(p.Nodes, Node{
			Name: n.Name, Role: n.Role, Labels: labels,
			Netns:   NodeNetns(lab.Name, n.Name),
			IP:      netip.PrefixFrom(ip, c.Underlay.Bits()),
			PodCIDR: sub, Gateway: sub.Addr().Next(),
			VTEPMAC: vtepMAC(lab.Name, n.Name),
			PodMTU:  podMTU,
		})
	}
	off = max(off, hostOffset)
	for i, h := range lab.Hosts {
		ip := h.IP
		if !ip.IsValid() {
			var err error
			if ip, off, err = next(off); err != nil {
				errs = append(errs, posError(h.Pos, fmt.Sprintf("hosts[%d]", i), "%v", err))
				continue
			}
		}
		p.Hosts = append(p.Hosts, Host{Name: h.Name, Labels: h.Labels, Netns: HostNetns(lab.Name, h.Name), IP: netip.PrefixFrom(ip, c.Underlay.Bits()), Ports: h.Ports, Zones: h.Zones})
	}
	if len(errs) == 0 {
		if err := p.resolveUpstream(c.DNS); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	pods, perrs := schedule(lab, p.Nodes)
	if len(perrs) > 0 {
		return nil, perrs
	}
	p.Pods = pods
	// Each pod adds its own neighbour entry plus the gateway's; each node one per peer
	// and per pod; the underlay one per node and host.
	p.Neighbours = 2*len(p.Pods) + len(p.Nodes)*(len(p.Nodes)+len(p.Hosts)) + len(p.Hosts)*len(p.Nodes)
	return p, nil
}

// subnet returns the i-th /bits subnet of cidr.
func subnet(cidr netip.Prefix, bits, i int) (netip.Prefix, bool) {
	if bits < cidr.Bits() || bits > 32 || i >= 1<<(bits-cidr.Bits()) {
		return netip.Prefix{}, false
	}
	a := cidr.Masked().Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += uint32(i) << (32 - bits)
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits), true
}

// nthAddr returns the address at offset n inside prefix.
func nthAddr(p netip.Prefix, n int) (netip.Addr, bool) {
	a := p.Masked().Addr().As4()
	v := uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])
	v += uint64(n)
	if v > 0xffffffff {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

func isBroadcast(p netip.Prefix, a netip.Addr) bool {
	last, _ := nthAddr(p, 1<<(32-p.Bits())-1)
	return a == last
}

// PodCapacity is how many pod addresses a node subnet of this size holds (.2 up to the
// last but one; .0 is the network, .1 the gateway), capped by the bridge's 1,023 ports.
func PodCapacity(bits int) int {
	return min(1<<(32-bits)-3, 1023)
}
