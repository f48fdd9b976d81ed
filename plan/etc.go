package plan

import (
	"fmt"
	"net/netip"
	"strings"

	"podlab.dev/podlab/topology"
)

// DNSAddr is the cluster DNS address: the .10 of the service range, as kubeadm does.
func (p *Plan) DNSAddr() netip.Addr {
	a := p.Cluster.ServiceCIDR.Masked().Addr()
	for range 10 {
		a = a.Next()
	}
	return a
}

// HostsFile is the pod's /etc/hosts as kubelet writes it.
func HostsFile(pod *Pod) string {
	return fmt.Sprintf("# Kubernetes-managed hosts file (podlab).\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n", pod.IP, pod.Name)
}

// RunsOwnImage says whether pod runs the image it names, which then serves its own
// ports, rather than podlab's built-in servers: only in the Docker runtime, and not
// for podlab's own images (podlab/...).
func (p *Plan) RunsOwnImage(pod *Pod) bool {
	return p.Runtime == "docker" && pod.Image != "" && !strings.HasPrefix(pod.Image, "podlab/")
}

// resolveUpstream sets DNSUpstream from the lab's cluster.dns, once every machine has
// its address: a host by name, or an address, which must not be a node's or a host's
// that serves no DNS (nothing would answer there, and every query would wait).
func (p *Plan) resolveUpstream(d topology.ClusterDNS) *topology.Error {
	const field = "cluster.dns.upstream"
	if d.UpstreamHost != "" {
		h, ok := p.Host(d.UpstreamHost)
		if !ok {
			return posError(d.Pos, field, "no host named %q", d.UpstreamHost)
		}
		p.DNSUpstream = netip.AddrPortFrom(h.IP.Addr(), 53)
		return nil
	}
	up := d.UpstreamAddr
	if !up.IsValid() {
		return nil
	}
	for _, n := range p.Nodes {
		if n.IP.Addr() == up.Addr() {
			e := posError(d.Pos, field, "%s is node %s's address: nodes serve no DNS", up.Addr(), n.Name)
			e.Hint = "name a host that serves DNS zones (hosts[].dns.zones)"
			return e
		}
	}
	for _, h := range p.Hosts {
		if h.IP.Addr() == up.Addr() && len(h.Zones) == 0 {
			e := posError(d.Pos, field, "%s is host %s's address, which serves no DNS", up.Addr(), h.Name)
			e.Hint = "give the host DNS zones (hosts[].dns.zones), or name another"
			return e
		}
		if h.IP.Addr() == up.Addr() && up.Port() != 53 {
			e := posError(d.Pos, field, "host %s's DNS server answers on port 53, not %d", h.Name, up.Port())
			e.Hint = "write " + h.Name + " or " + up.Addr().String()
			return e
		}
	}
	p.DNSUpstream = up
	return nil
}

// DNSUpstreamAddr is DNSUpstream as the cluster DNS takes it ("172.30.0.100:53"), or ""
// when the lab names none.
func (p *Plan) DNSUpstreamAddr() string {
	if !p.DNSUpstream.IsValid() {
		return ""
	}
	return p.DNSUpstream.String()
}

// NodeResolvConf is a node's /etc/resolv.conf, which pods with dnsPolicy Default
// inherit: the lab's upstream, the only DNS server a machine of the lab can reach.
// resolv.conf cannot name a port, so an upstream off 53 is only a comment, as is none:
// with no nameserver line, lookups fail at once on the node's loopback.
func (p *Plan) NodeResolvConf() string {
	switch {
	case !p.DNSUpstream.IsValid():
		return "# podlab: the lab names no DNS upstream (cluster.dns.upstream): names outside the cluster do not resolve\n"
	case p.DNSUpstream.Port() != 53:
		return fmt.Sprintf("# podlab: the lab's DNS upstream %s is not on port 53, which resolv.conf cannot name\n", p.DNSUpstream)
	}
	return fmt.Sprintf("nameserver %s\n", p.DNSUpstream.Addr())
}
