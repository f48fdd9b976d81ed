package cluster

import (
	"net"
	"net/netip"
	"os"
	"strconv"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/topology"
)

// livePods are the store's scheduled pods in the plan's terms, for the kernel
// inspection (counters, details, broken containers) that finds pods by namespace.
func (s *Supervisor) livePods() []plan.Pod {
	objs := s.store.List("Pod", "")
	out := make([]plan.Pod, 0, len(objs))
	for _, o := range objs {
		p := o.(*corev1.Pod)
		out = append(out, s.planPod(p))
	}
	return out
}

func (s *Supervisor) planPod(p *corev1.Pod) plan.Pod {
	ip, _ := netip.ParseAddr(p.Status.PodIP)
	pp := plan.Pod{Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName, IP: ip, Labels: p.Labels,
		Netns: plan.PodNetns(s.plan.Lab, p.Namespace, p.Name), ContainerID: plan.ContainerID(s.plan.Lab, p.Namespace, p.Name)}
	for _, c := range p.Spec.Containers {
		if pp.Image == "" {
			pp.Image = c.Image
		}
		for _, pt := range c.Ports {
			proto := string(pt.Protocol)
			if proto == "" {
				proto = "TCP"
			}
			pp.Ports = append(pp.Ports, topology.Port{Name: pt.Name, Port: int(pt.ContainerPort), Protocol: proto})
		}
	}
	for _, r := range p.OwnerReferences {
		if r.Controller != nil && *r.Controller {
			pp.Owner = r.Kind + "/" + r.Name
		}
	}
	return pp
}

// State returns the live state: the plan's nodes and hosts, the store's pods and
// objects, with their readiness.
func (s *Supervisor) State() *api.LabState {
	p := *s.plan
	p.Pods = nil
	p.Objects = nil
	st := api.StateFromPlan(&p, nil, api.SupervisorState{PID: os.Getpid(), Running: true, Started: s.started})
	labels := map[string]map[string]string{}
	for _, o := range s.store.List("Node", "") {
		labels[o.GetName()] = o.GetLabels()
	}
	perNode := map[string]int{}
	for _, o := range s.store.List("Pod", "") {
		pod := o.(*corev1.Pod)
		pp := s.planPod(pod)
		ps := api.PodState{Namespace: pp.Namespace, Name: pp.Name, Node: pp.Node, IP: pp.IP, Ports: plan.PortsString(pp.Ports),
			Labels: pp.Labels, Owner: pp.Owner, Image: pp.Image, Netns: pp.Netns}
		ps.Ready, ps.Reason = podReadiness(pod)
		if pp.Node == "" {
			ps.Netns = ""
		} else {
			perNode[pp.Node]++
		}
		st.Pods = append(st.Pods, ps)
	}
	for i := range st.Nodes {
		st.Nodes[i].Pods = perNode[st.Nodes[i].Name]
		if l, ok := labels[st.Nodes[i].Name]; ok {
			st.Nodes[i].Labels = l
		}
	}
	for _, k := range s.store.Kinds() {
		if k == "Pod" || k == "Node" || k == "Namespace" {
			continue
		}
		for _, o := range s.store.List(k, "") {
			gvk := o.GetObjectKind().GroupVersionKind()
			st.Objects = append(st.Objects, api.ObjectState{APIVersion: gvk.GroupVersion().String(), Kind: k, Namespace: o.GetNamespace(), Name: o.GetName(), Applied: applied(k)})
		}
	}
	s.markBroken(st)
	return st
}

// podReadiness is a pod's Ready condition and, when not ready, why, in kubectl's words.
func podReadiness(p *corev1.Pod) (bool, string) {
	if p.DeletionTimestamp != nil {
		return false, "Terminating"
	}
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" {
			return false, w.Reason + ": " + w.Message
		}
		if t := cs.State.Terminated; t != nil {
			return false, t.Reason + " (exit code " + strconv.Itoa(int(t.ExitCode)) + ")"
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			return false, "Pending: " + c.Message
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			if c.Status == corev1.ConditionTrue {
				return true, ""
			}
			if c.Message != "" {
				return false, c.Message
			}
		}
	}
	switch {
	case p.Spec.NodeName == "":
		return false, "Pending: waiting for the scheduler"
	case p.Status.PodIP == "":
		return false, "ContainerCreating"
	}
	return false, "not checked yet"
}

// announce adds or removes a LoadBalancer IP on a node's uplink (a /32 without a
// prefix route), for the speaker.
func (s *Supervisor) announce(node string, ip netip.Addr, add bool) error {
	n, ok := s.plan.Node(node)
	if !ok {
		return os.ErrNotExist
	}
	h, done, err := handleIn(n.Netns)
	if err != nil {
		return err
	}
	defer done()
	l, err := h.LinkByName(plan.Uplink)
	if err != nil {
		return err
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(32, 32)}, Flags: 0x200 /* IFA_F_NOPREFIXROUTE */, Label: plan.Uplink}
	if add {
		return h.AddrReplace(l, a)
	}
	return h.AddrDel(l, a)
}
