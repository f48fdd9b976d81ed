package topology

import (
	"fmt"
	"math/bits"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Labels every node carries, as the kubelet sets them.
const (
	LabelHostname     = "kubernetes.io/hostname"
	LabelOS           = "kubernetes.io/os"
	LabelControlPlane = "node-role.kubernetes.io/control-plane"
)

const nodesExample = "nodes:\n  - name: control-plane\n    role: control-plane\n  - name: worker-1"

func (b *labBuilder) nodes() {
	d, lab := b.d, b.lab
	if !d.has("nodes") {
		d.add("nodes", nodesExample, "required: a lab needs at least one node")
		return
	}
	if len(b.raw.Nodes) == 0 {
		d.add("nodes", nodesExample, "a lab needs at least one node")
		return
	}
	names := map[string]string{} // name -> path where first declared
	for i, rn := range b.raw.Nodes {
		path := fmt.Sprintf("nodes[%d]", i)
		b.machineName(path, rn.Name, "node", names)
		n := Node{Name: rn.Name, Labels: map[string]string{}, Pos: d.at(path)}
		n.Role = b.enumField(path+".role", rn.Role, RoleWorker, []string{RoleControlPlane, RoleWorker})
		d.checkLabels(path+".labels", rn.Labels)
		for k, v := range rn.Labels {
			n.Labels[k] = v
		}
		n.Labels[LabelHostname], n.Labels[LabelOS] = n.Name, "linux"
		if n.Role == RoleControlPlane {
			n.Labels[LabelControlPlane] = ""
		}
		n.IP = b.underlayIP(path+".ip", rn.IP)
		lab.Nodes = append(lab.Nodes, n)
	}
	b.nodeSubnets()
}

func (b *labBuilder) hosts() {
	d, lab := b.d, b.lab
	names := map[string]string{}
	for i, n := range lab.Nodes {
		if _, dup := names[n.Name]; !dup {
			names[n.Name] = fmt.Sprintf("nodes[%d]", i)
		}
	}
	for i, rh := range b.raw.Hosts {
		path := fmt.Sprintf("hosts[%d]", i)
		b.machineName(path, rh.Name, "host", names)
		d.checkLabels(path+".labels", rh.Labels)
		h := Host{Name: rh.Name, Labels: rh.Labels, Pos: d.at(path)}
		h.IP = b.underlayIP(path+".ip", rh.IP)
		h.Ports = parsePorts(d.file, d.idx, path+".ports", d.e)
		lab.Hosts = append(lab.Hosts, h)
	}
	b.underlayRoom()
}

// machineName checks a node or host name: both become network namespaces on one
// underlay, so they share one set of names.
func (b *labBuilder) machineName(path, name, what string, names map[string]string) {
	d := b.d
	switch first, dup := names[name]; {
	case name == "":
		d.add(path+".name", "", "required")
	case len(validation.IsDNS1123Label(name)) > 0:
		d.add(path+".name", "", "invalid %s name %q: %s", what, name, strings.Join(validation.IsDNS1123Label(name), "; "))
	case dup && strings.HasPrefix(first, what):
		d.add(path+".name", "", "duplicate %s name %q (first at %s)", what, name, where(d.at(first)))
	case dup:
		d.add(path+".name", "nodes and hosts share one set of names: each is a machine on the underlay",
			"%q is already the name of a node (%s)", name, where(d.at(first)))
	default:
		names[name] = path
	}
}

// underlayIP parses a pinned node or host address and checks it is usable and unique.
func (b *labBuilder) underlayIP(path, s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	ip, ok := b.d.parseIP(path, s)
	if !ok || !b.cidr {
		return ip
	}
	u := b.lab.Cluster.Underlay
	switch {
	case !u.Contains(ip):
		b.d.add(path, fmt.Sprintf("pick an address in %s, e.g. %s", u, addrAt(u, 10)), "%s is outside the underlay %s", ip, u)
	case ip == u.Addr() || ip == lastAddr(u):
		b.d.add(path, "", "%s is the underlay's network or broadcast address", ip)
	case ip == addrAt(u, 1):
		b.d.add(path, "", "%s is reserved for the underlay gateway", ip)
	default:
		if b.pins == nil {
			b.pins = map[netip.Addr]string{}
		}
		if first, dup := b.pins[ip]; dup {
			b.d.add(path, "", "%s is already pinned by %s (%s)", ip, first, where(b.d.at(first)))
			break
		}
		b.pins[ip] = path
	}
	return ip
}

// underlayRoom checks every node and host gets an underlay address: the network,
// gateway (.1) and broadcast addresses are taken.
func (b *labBuilder) underlayRoom() {
	if !b.cidr {
		return
	}
	u := b.lab.Cluster.Underlay
	room := 0
	if u.Bits() <= 30 {
		room = 1<<(32-u.Bits()) - 3
	}
	nodes, hosts := len(b.lab.Nodes), len(b.lab.Hosts)
	if nodes+hosts > room {
		b.d.add("cluster.underlay", "use a larger underlay, e.g. 172.30.0.0/24",
			"%s has %s for nodes and hosts, but the lab has %s and %s", u, addresses(room), plural(nodes, "node"), plural(hosts, "host"))
	}
}

// nodeSubnets gives node i the i-th nodeCIDRMaskSize subnet of the podCIDR; the plan
// package follows this assignment.
func (b *labBuilder) nodeSubnets() {
	if !b.cidr {
		return
	}
	c := &b.lab.Cluster
	subnetBits := c.NodeCIDRMaskSize - c.PodCIDR.Bits()
	total := 1 << subnetBits
	n := len(b.lab.Nodes)
	if n > total {
		need := bits.Len(uint(n - 1))
		var fixes []string
		if c.NodeCIDRMaskSize-need >= 8 {
			fixes = append(fixes, fmt.Sprintf("a larger podCIDR (e.g. %s)", netip.PrefixFrom(c.PodCIDR.Addr(), c.NodeCIDRMaskSize-need).Masked()))
		}
		if c.PodCIDR.Bits()+need <= maxNodeCIDRMaskSize {
			fixes = append(fixes, fmt.Sprintf("a larger nodeCIDRMaskSize for smaller node subnets (e.g. %d)", c.PodCIDR.Bits()+need))
		}
		hint := ""
		if len(fixes) > 0 {
			hint = "use " + strings.Join(fixes, " or ")
		}
		b.d.add("nodes", hint, "%d nodes, but podCIDR %s split into /%d node subnets gives only %d",
			n, c.PodCIDR, c.NodeCIDRMaskSize, total)
		b.cidr = false
		return
	}
	size := uint64(1) << (32 - c.NodeCIDRMaskSize)
	for i := range b.lab.Nodes {
		b.lab.Nodes[i].PodCIDR = netip.PrefixFrom(addrAt(c.PodCIDR, uint64(i)*size), c.NodeCIDRMaskSize)
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func addresses(n int) string {
	if n == 1 {
		return "1 address"
	}
	return fmt.Sprintf("%d addresses", n)
}
