package plan

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"podlab.dev/podlab/topology"
)

// Print writes the plan as `deploy --dry-run` shows it: every namespace, link,
// address, route and object, in the order the runtime creates them.
func (p *Plan) Print(w io.Writer) {
	c := p.Cluster
	fmt.Fprintf(w, "lab %s (runtime %s, overlay %s, cni %s)\n", p.Lab, p.Runtime, c.Overlay, c.CNI)
	fmt.Fprintf(w, "  podCIDR %s (/%d per node)  serviceCIDR %s  domain %s  underlay %s  mtu %d\n", c.PodCIDR, c.NodeCIDRMaskSize, c.ServiceCIDR, c.Domain, c.Underlay, c.MTU)
	if up := p.DNSUpstreamAddr(); up != "" {
		fmt.Fprintf(w, "  dns upstream %s\n", up)
	}
	if c.NetworkPolicy.EnforceEstablished {
		fmt.Fprintln(w, "  networkPolicy enforceEstablished: a policy change cuts open connections it denies")
	}
	if c.Ingress.Controller {
		fmt.Fprintln(w, "  ingress controller: up from the start (podlab-ingress/podlab-ingress-controller)")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "namespace %s\n  link %s bridge, up\n\n", p.Underlay.Netns, p.Underlay.Bridge)
	for i := range p.Nodes {
		n := &p.Nodes[i]
		fmt.Fprintf(w, "node %s (%s)  namespace %s\n", n.Name, n.Role, n.Netns)
		fmt.Fprintf(w, "  link %s veth, peer in %s on %s; addr %s\n", Uplink, p.Underlay.Netns, p.Underlay.Bridge, n.IP)
		fmt.Fprintf(w, "  link %s bridge; addr %s/%d; mtu %d\n", PodBridge, n.Gateway, n.PodCIDR.Bits(), n.PodMTU)
		if c.Overlay == topology.OverlayVXLAN {
			fmt.Fprintf(w, "  link %s vxlan id %d dstport %d local %s dev %s nolearning; mac %s; addr %s/32; mtu %d\n",
				VXLANDevice, VXLANVNI, VXLANPort, n.IP.Addr(), Uplink, n.VTEPMAC, n.PodCIDR.Masked().Addr(), n.PodMTU)
		}
		o := p.OverlayFor(n)
		for _, r := range o.Routes {
			onlink := ""
			if r.Onlink {
				onlink = " onlink"
			}
			fmt.Fprintf(w, "  route %s via %s dev %s%s\n", r.Dst, r.Via, r.Dev, onlink)
		}
		for _, nb := range o.Neighbours {
			fmt.Fprintf(w, "  neigh %s lladdr %s dev %s permanent\n", nb.IP, nb.MAC, nb.Dev)
		}
		for _, f := range o.FDB {
			fmt.Fprintf(w, "  fdb %s dev %s dst %s self permanent\n", f.MAC, f.Dev, f.Dst)
		}
		fmt.Fprintf(w, "  route %s dev %s\n", p.ServiceRoute().Dst, p.ServiceRoute().Dev)
		fmt.Fprintf(w, "  sysctl net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1\n")
		fmt.Fprintf(w, "  nft table ip podlab: masquerade %s -> not %s\n", c.PodCIDR, c.PodCIDR)
		fmt.Fprintf(w, "  cni conflist podlab (%s), subnet %s\n\n", c.CNI, n.PodCIDR)
	}
	for _, h := range p.Hosts {
		fmt.Fprintf(w, "host %s  namespace %s\n  link %s veth on %s; addr %s\n", h.Name, h.Netns, Uplink, p.Underlay.Bridge, h.IP)
		for _, r := range p.HostRoutes().Routes {
			fmt.Fprintf(w, "  route %s via %s dev %s\n", r.Dst, r.Via, r.Dev)
		}
		if len(h.Ports) > 0 {
			fmt.Fprintf(w, "  serves %s\n", PortsString(h.Ports))
		}
		if len(h.Zones) > 0 {
			fmt.Fprintf(w, "  serves dns 53,53/udp: zones %s\n", strings.Join(slices.Sorted(maps.Keys(h.Zones)), ", "))
		}
		fmt.Fprintln(w)
	}
	for _, pod := range p.Pods {
		fmt.Fprintf(w, "pod %s/%s on %s  namespace %s\n  cni ADD %s: %s ip %s/%d", pod.Namespace, pod.Name, pod.Node, pod.Netns, PodInterface, pod.ContainerID[:12], pod.IP, p.mustNode(pod.Node).PodCIDR.Bits())
		if len(pod.Ports) > 0 {
			fmt.Fprintf(w, "; serves %s", PortsString(pod.Ports))
		}
		fmt.Fprintln(w)
	}
	if len(p.Objects) > 0 {
		fmt.Fprintln(w, "\nobjects:")
		for _, o := range p.Objects {
			state := "applied"
			if !o.Applied {
				state = "NOT ENFORCED (kept only)"
			}
			name := o.Name
			if o.Namespace != "" {
				name = o.Namespace + "/" + name
			}
			fmt.Fprintf(w, "  %s %s (%s): %s\n", o.Kind, name, o.APIVersion, state)
		}
	}
}

func (p *Plan) mustNode(name string) *Node {
	n, _ := p.Node(name)
	if n == nil {
		return &Node{}
	}
	return n
}

// PortsString renders ports as the lab file writes them: 80, 81/udp, http:8080.
func PortsString(ports []topology.Port) string {
	var parts []string
	for _, pt := range ports {
		s := fmt.Sprint(pt.Port)
		if pt.Protocol != "" && pt.Protocol != "TCP" {
			s += "/" + strings.ToLower(pt.Protocol)
		}
		if pt.Name != "" {
			s = pt.Name + ":" + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}
