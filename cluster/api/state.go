// Package cluster is a lab's supervisor: one process per lab that runs the lab's
// long-lived parts (the built-in servers of every pod and host, readiness checks, and
// later the cluster components) and serves the lab's live state and event stream on a
// unix socket. `inspect`, `events` and the TUI read only this API, so they agree. It
// never creates or removes namespaces or links: deploy does, before starting it.
package api

import (
	"net/netip"
	"time"

	"podlab.dev/podlab/plan"
)

// LabState is the live state of a lab as the API serves it.
type LabState struct {
	Lab         string          `json:"lab"`
	File        string          `json:"file"`
	Runtime     string          `json:"runtime"`
	Overlay     string          `json:"overlay"`
	CNI         string          `json:"cni"`
	PodCIDR     netip.Prefix    `json:"podCIDR"`
	ServiceCIDR netip.Prefix    `json:"serviceCIDR"`
	Underlay    netip.Prefix    `json:"underlay"`
	Domain      string          `json:"domain"`
	Supervisor  SupervisorState `json:"supervisor"`
	Nodes       []NodeState     `json:"nodes"`
	Hosts       []HostState     `json:"hosts"`
	Pods        []PodState      `json:"pods"`
	Objects     []ObjectState   `json:"objects"`
}

// SupervisorState says whether the lab's supervisor runs.
type SupervisorState struct {
	PID     int       `json:"pid"`
	Running bool      `json:"running"`
	Started time.Time `json:"started,omitzero"`
	Message string    `json:"message,omitempty"`
}

// NodeState is one node.
type NodeState struct {
	Name    string            `json:"name"`
	Role    string            `json:"role"`
	IP      netip.Addr        `json:"ip"`
	PodCIDR netip.Prefix      `json:"podCIDR"`
	Netns   string            `json:"netns"`
	Labels  map[string]string `json:"labels"`
	Pods    int               `json:"pods"`
	Broken  string            `json:"broken,omitempty"`
}

// HostState is one host.
type HostState struct {
	Name   string     `json:"name"`
	IP     netip.Addr `json:"ip"`
	Netns  string     `json:"netns"`
	Ports  string     `json:"ports,omitempty"`
	Broken string     `json:"broken,omitempty"`
}

// PodState is one pod.
type PodState struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Node      string            `json:"node"`
	IP        netip.Addr        `json:"ip"`
	Ready     bool              `json:"ready"`
	Reason    string            `json:"reason,omitempty"`
	Ports     string            `json:"ports,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Owner     string            `json:"owner,omitempty"`
	Image     string            `json:"image,omitempty"`
	Netns     string            `json:"netns"`
	Broken    string            `json:"broken,omitempty"`
}

// ObjectState is one manifest object and whether this version applies it.
type ObjectState struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	Applied    bool   `json:"applied"`
}

// StateFromPlan renders the plan with the given readiness. With no supervisor running,
// ready is nil and every pod shows as not ready with the reason.
func StateFromPlan(p *plan.Plan, ready map[string]Readiness, sup SupervisorState) *LabState {
	s := &LabState{
		Lab: p.Lab, File: p.File, Runtime: p.Runtime, Overlay: p.Cluster.Overlay, CNI: p.Cluster.CNI,
		PodCIDR: p.Cluster.PodCIDR, ServiceCIDR: p.Cluster.ServiceCIDR, Underlay: p.Cluster.Underlay,
		Domain: p.Cluster.Domain, Supervisor: sup,
		Nodes: []NodeState{}, Hosts: []HostState{}, Pods: []PodState{}, Objects: []ObjectState{},
	}
	perNode := map[string]int{}
	for _, pod := range p.Pods {
		perNode[pod.Node]++
		r, ok := ready[pod.Key()]
		if !ok {
			r.Reason = "supervisor not running"
			if sup.Running {
				r.Reason = "not checked yet"
			}
		}
		s.Pods = append(s.Pods, PodState{
			Namespace: pod.Namespace, Name: pod.Name, Node: pod.Node, IP: pod.IP, Ready: r.Ready, Reason: r.Reason,
			Ports: plan.PortsString(pod.Ports), Labels: pod.Labels, Owner: pod.Owner, Image: pod.Image, Netns: pod.Netns,
		})
	}
	for _, n := range p.Nodes {
		s.Nodes = append(s.Nodes, NodeState{Name: n.Name, Role: n.Role, IP: n.IP.Addr(), PodCIDR: n.PodCIDR, Netns: n.Netns, Labels: n.Labels, Pods: perNode[n.Name]})
	}
	for _, h := range p.Hosts {
		s.Hosts = append(s.Hosts, HostState{Name: h.Name, IP: h.IP.Addr(), Netns: h.Netns, Ports: plan.PortsString(h.Ports)})
	}
	for _, o := range p.Objects {
		s.Objects = append(s.Objects, ObjectState{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Applied: o.Applied})
	}
	return s
}

// ReadyCount returns how many pods are ready.
func (s *LabState) ReadyCount() int {
	n := 0
	for _, p := range s.Pods {
		if p.Ready {
			n++
		}
	}
	return n
}
