package plan

import (
	"fmt"
	"net/netip"

	"podlab.dev/podlab/topology"
)

// Place schedules one more pod into a running lab's plan with the rules deploy used:
// the node it names, else the node whose subnet holds its pinned IP, else the least
// loaded worker matching its nodeSelector; then its pinned IP or the lowest free
// address of that node. It does not add the pod to p.
func (p *Plan) Place(tp topology.Pod) (Pod, error) {
	if _, dup := p.Pod(tp.Namespace, tp.Name); dup {
		return Pod{}, fmt.Errorf("pods %q already exists in namespace %q", tp.Name, tp.Namespace)
	}
	load := map[string]int{}
	used := map[netip.Addr]bool{}
	for _, q := range p.Pods {
		load[q.Node]++
		used[q.IP] = true
	}
	capacity := PodCapacity(p.Cluster.NodeCIDRMaskSize)
	node := tp.Node
	if node == "" && tp.IP.IsValid() {
		for _, n := range p.Nodes {
			if n.PodCIDR.Contains(tp.IP) {
				node = n.Name
			}
		}
		if node == "" {
			return Pod{}, fmt.Errorf("pinned IP %s is in no node's pod subnet", tp.IP)
		}
	}
	if node == "" {
		workers := 0
		for _, n := range p.Nodes {
			if n.Role != topology.RoleControlPlane {
				workers++
			}
		}
		for _, n := range p.Nodes {
			if (workers > 0 && n.Role == topology.RoleControlPlane) || !matches(n.Labels, tp.NodeSelector) || load[n.Name] >= capacity {
				continue
			}
			if node == "" || load[n.Name] < load[node] {
				node = n.Name
			}
		}
		if node == "" {
			return Pod{}, fmt.Errorf("0/%d nodes are available: no node matches nodeSelector %s or has room", len(p.Nodes), selectorString(tp.NodeSelector))
		}
	}
	n, ok := p.Node(node)
	if !ok {
		return Pod{}, fmt.Errorf("node %q does not exist", node)
	}
	if load[node] >= capacity {
		return Pod{}, fmt.Errorf("node %s is full: its subnet %s holds %d pods", node, n.PodCIDR, capacity)
	}
	ip := tp.IP
	switch {
	case ip.IsValid() && !n.PodCIDR.Contains(ip):
		return Pod{}, fmt.Errorf("pinned IP %s is outside node %s's pod subnet %s", ip, node, n.PodCIDR)
	case ip.IsValid() && used[ip]:
		return Pod{}, fmt.Errorf("pinned IP %s is already taken", ip)
	case !ip.IsValid():
		for ip = n.Gateway.Next(); used[ip]; ip = ip.Next() {
		}
		if !n.PodCIDR.Contains(ip) || isBroadcast(n.PodCIDR, ip) {
			return Pod{}, fmt.Errorf("node %s has no free pod address left in %s", node, n.PodCIDR)
		}
	}
	return Pod{
		Namespace: tp.Namespace, Name: tp.Name, Node: node,
		Netns:       PodNetns(p.Lab, tp.Namespace, tp.Name),
		ContainerID: containerID(p.Lab, tp.Namespace, tp.Name),
		IP:          ip, Labels: tp.Labels, Ports: tp.Ports, Image: tp.Image, Owner: tp.Owner,
		SecurityContext: tp.SecurityContext, ContainerSecurity: tp.ContainerSecurity,
	}, nil
}
