// Package labtest holds the small planned lab the cluster packages' tests share.
package labtest

import (
	"net/netip"

	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/topology"
)

// Plan is a small lab for tests: three nodes (pods on two), a host with ports and
// three pods; each test adds the objects it needs.
func Plan(lab string) *plan.Plan {
	node := func(name, role, ip, cidr string) plan.Node {
		return plan.Node{
			Name: name, Role: role, Netns: plan.NodeNetns(lab, name), IP: netip.MustParsePrefix(ip),
			PodCIDR: netip.MustParsePrefix(cidr), Labels: map[string]string{"kubernetes.io/hostname": name},
		}
	}
	pod := func(ns, name, node, ip string, ports ...topology.Port) plan.Pod {
		return plan.Pod{
			Namespace: ns, Name: name, Node: node, Netns: plan.PodNetns(lab, ns, name),
			IP: netip.MustParseAddr(ip), Labels: map[string]string{"app": name}, Ports: ports,
		}
	}
	return &plan.Plan{
		Lab: lab, File: "/labs/" + lab + ".yaml", Runtime: "netns",
		Cluster: topology.Cluster{
			PodCIDR: netip.MustParsePrefix("10.244.0.0/16"), ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"),
			Underlay: netip.MustParsePrefix("172.30.0.0/24"), Domain: "cluster.local", Overlay: "vxlan", CNI: "podlab", MTU: 1500,
			NodeCIDRMaskSize: 24,
		},
		Nodes: []plan.Node{
			node("cp", "control-plane", "172.30.0.10/24", "10.244.0.0/24"),
			node("w1", "worker", "172.30.0.11/24", "10.244.1.0/24"),
			node("w2", "worker", "172.30.0.12/24", "10.244.2.0/24"),
		},
		Hosts: []plan.Host{{Name: "client", Netns: plan.HostNetns(lab, "client"), IP: netip.MustParsePrefix("172.30.0.100/24"),
			Ports: []topology.Port{{Port: 8080, Protocol: "TCP"}, {Port: 53, Protocol: "UDP"}}}},
		Pods: []plan.Pod{
			pod("default", "web-1", "w1", "10.244.1.2", topology.Port{Port: 80, Protocol: "TCP"}, topology.Port{Port: 81, Protocol: "UDP"}),
			pod("default", "web-2", "w2", "10.244.2.2", topology.Port{Name: "http", Port: 8080, Protocol: "TCP"}),
			pod("shop", "api", "w1", "10.244.1.3"),
		},
	}
}
