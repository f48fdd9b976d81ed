package plan

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"podlab.dev/podlab/topology"
)

// schedule places every pod on a node and gives it an address, deterministically.
// A pod's node is, in order: the one it names; the one whose subnet holds its pinned
// IP; the least loaded node matching its nodeSelector, preferring workers (the
// control plane is tainted in a real cluster) and, on ties, the node written first.
// Addresses: pinned ones first, then each pod in file order takes the lowest free
// address of its node's subnet from .2 up.
func schedule(lab *topology.Lab, nodes []Node) ([]Pod, topology.Errors) {
	var errs topology.Errors
	load := make(map[string]int, len(nodes))
	byName := make(map[string]*Node, len(nodes))
	for i := range nodes {
		byName[nodes[i].Name] = &nodes[i]
	}
	workers := 0
	for _, n := range nodes {
		if n.Role != topology.RoleControlPlane {
			workers++
		}
	}
	capacity := PodCapacity(lab.Cluster.NodeCIDRMaskSize)
	out := make([]Pod, 0, len(lab.Pods))
	field := func(i int) string { return fmt.Sprintf("pods[%d] (%s/%s)", i, lab.Pods[i].Namespace, lab.Pods[i].Name) }

	for i, tp := range lab.Pods {
		node := tp.Node
		if node == "" && tp.IP.IsValid() {
			for _, n := range nodes {
				if n.PodCIDR.Contains(tp.IP) {
					node = n.Name
				}
			}
			if node == "" {
				errs = append(errs, posError(tp.Pos, field(i), "pinned IP %s is in no node's pod subnet", tp.IP))
				continue
			}
		}
		if node == "" {
			best := ""
			for _, n := range nodes {
				if workers > 0 && n.Role == topology.RoleControlPlane {
					continue
				}
				if !matches(n.Labels, tp.NodeSelector) || load[n.Name] >= capacity {
					continue
				}
				if best == "" || load[n.Name] < load[best] {
					best = n.Name
				}
			}
			if best == "" {
				e := posError(tp.Pos, field(i), "no node can take this pod")
				if len(tp.NodeSelector) > 0 {
					e.Msg = fmt.Sprintf("0/%d nodes are available: no node matches nodeSelector %s or has room", len(nodes), selectorString(tp.NodeSelector))
					e.Hint = "label a node in the lab file (nodes[].labels) or change spec.nodeSelector"
				} else {
					e.Hint = fmt.Sprintf("each node holds %d pods with nodeCIDRMaskSize %d: add nodes or lower nodeCIDRMaskSize", capacity, lab.Cluster.NodeCIDRMaskSize)
				}
				errs = append(errs, e)
				continue
			}
			node = best
		}
		n, ok := byName[node]
		if !ok {
			errs = append(errs, posError(tp.Pos, field(i), "node %q does not exist", node))
			continue
		}
		if tp.IP.IsValid() && !n.PodCIDR.Contains(tp.IP) {
			e := posError(tp.Pos, field(i), "pinned IP %s is outside node %s's pod subnet %s", tp.IP, node, n.PodCIDR)
			e.Hint = fmt.Sprintf("pick an address in %s or drop the node", n.PodCIDR)
			errs = append(errs, e)
			continue
		}
		load[node]++
		if load[node] > capacity {
			e := posError(tp.Pos, field(i), "node %s is full: its subnet %s holds %d pods", node, n.PodCIDR, capacity)
			e.Hint = "spread pods over more nodes or lower cluster.nodeCIDRMaskSize"
			errs = append(errs, e)
			continue
		}
		out = append(out, Pod{
			Namespace: tp.Namespace, Name: tp.Name, Node: node,
			Netns:       PodNetns(lab.Name, tp.Namespace, tp.Name),
			ContainerID: containerID(lab.Name, tp.Namespace, tp.Name),
			IP:          tp.IP, Labels: tp.Labels, Ports: tp.Ports, Image: tp.Image, Owner: tp.Owner,
			SecurityContext: tp.SecurityContext, ContainerSecurity: tp.ContainerSecurity,
		})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	used := map[netip.Addr]bool{}
	for _, p := range out {
		if p.IP.IsValid() {
			used[p.IP] = true
		}
	}
	cursor := map[string]netip.Addr{}
	for i := range out {
		if out[i].IP.IsValid() {
			continue
		}
		n := byName[out[i].Node]
		a, ok := cursor[n.Name]
		if !ok {
			a = n.Gateway
		}
		for a = a.Next(); used[a]; a = a.Next() {
		}
		if !n.PodCIDR.Contains(a) || isBroadcast(n.PodCIDR, a) {
			errs = append(errs, posError(lab.Pods[i].Pos, field(i), "node %s has no free pod address left in %s", n.Name, n.PodCIDR))
			continue
		}
		used[a] = true
		cursor[n.Name] = a
		out[i].IP = a
	}
	return out, errs
}

func matches(labels, selector map[string]string) bool {
	for k, v := range selector {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

func selectorString(sel map[string]string) string {
	keys := make([]string, 0, len(sel))
	for k := range sel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+sel[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
