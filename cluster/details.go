package cluster

import (
	"context"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"os/exec"
	"podlab.dev/podlab/cluster/api"
	"sort"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab.dev/podlab/deploy"
	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/runtime/netns"
)

// Details reads one pod's, node's or host's network from the kernel: interfaces with
// addresses, routes, neighbours, and per kind the VXLAN forwarding table and nft
// ruleset (node), resolv.conf and CNI result (pod).
func (s *Supervisor) Details(ctx context.Context, kind, namespace, name string) (*api.Details, error) {
	var nsName, resolv string
	var pod *plan.Pod
	var node *plan.Node
	var status []api.Section
	switch strings.ToLower(kind) {
	case "pod":
		o, ok := s.store.Get("Pod", namespace, name)
		if !ok {
			break
		}
		kind = "Pod"
		status = []api.Section{podStatus(o.(*corev1.Pod)), s.objectEvents("Pod", namespace, name)}
		if n, ok := s.plan.Node(o.(*corev1.Pod).Spec.NodeName); ok && o.(*corev1.Pod).Status.PodIP != "" {
			cp := s.planPod(o.(*corev1.Pod))
			pod, nsName = &cp, cp.Netns
			var err error
			if resolv, err = s.resolvConf(o.(*corev1.Pod)); err != nil {
				resolv = err.Error() + "\n"
			}
			cn := *n
			node = &cn
		} else { // Pending: nothing in the kernel yet, the status says why
			return &api.Details{Kind: kind, Namespace: namespace, Name: name, Sections: status}, nil
		}
	case "service", "svc":
		o, ok := s.store.Get("Service", namespace, name)
		if !ok {
			return nil, fmt.Errorf("Service %s/%s: %w", namespace, name, api.ErrNotFound)
		}
		svc := o.(*corev1.Service)
		return &api.Details{Kind: "Service", Namespace: namespace, Name: name,
			Sections: []api.Section{serviceStatus(svc, s.reg.PendingReason(svc)), s.objectEvents("Service", namespace, name)}}, nil
	case "node":
		if n, ok := s.plan.Node(name); ok {
			cn := *n
			node, nsName, kind, namespace = &cn, n.Netns, "Node", ""
		}
	case "host":
		if h, ok := s.plan.Host(name); ok {
			nsName, kind, namespace = h.Netns, "Host", ""
		}
	default:
		return nil, fmt.Errorf("kind %q: expected pod, service, node or host", kind)
	}
	if nsName == "" {
		return nil, fmt.Errorf("%s %s: %w", kind, strings.TrimPrefix(namespace+"/"+name, "/"), api.ErrNotFound)
	}
	d := &api.Details{Kind: kind, Namespace: namespace, Name: name, Sections: status}
	h, done, err := handleIn(nsName)
	if err != nil {
		return nil, err
	}
	defer done()
	d.Sections = append(d.Sections, api.Section{Title: "namespace", Body: netns.Path(nsName) + "\n"})
	d.Sections = append(d.Sections, interfaces(h), routes(h), neighbours(h))
	if kind == "Node" {
		d.Sections = append(d.Sections, fdb(h), nftRuleset(netns.Path(nsName)))
	}
	if pod != nil {
		d.Sections = append(d.Sections, api.Section{Title: "resolv.conf", Body: resolv})
		if node != nil {
			d.Sections = append(d.Sections, s.cniResult(pod, node))
		}
	}
	return d, nil
}

func interfaces(h *netlink.Handle) api.Section {
	var b strings.Builder
	links, err := h.LinkList()
	if err != nil {
		return api.Section{Title: "interfaces", Body: err.Error()}
	}
	sort.Slice(links, func(i, j int) bool { return links[i].Attrs().Index < links[j].Attrs().Index })
	for _, l := range links {
		a := l.Attrs()
		master := ""
		if a.MasterIndex != 0 {
			if m, err := h.LinkByIndex(a.MasterIndex); err == nil {
				master = " master " + m.Attrs().Name
			}
		}
		fmt.Fprintf(&b, "%d: %s %s mtu %d %s %s%s\n", a.Index, a.Name, l.Type(), a.MTU, a.OperState, a.HardwareAddr, master)
		addrs, _ := h.AddrList(l, unix.AF_INET)
		for _, ad := range addrs {
			fmt.Fprintf(&b, "    inet %s\n", ad.IPNet)
		}
		if a.Statistics != nil {
			st := a.Statistics
			fmt.Fprintf(&b, "    rx %d bytes %d packets  tx %d bytes %d packets\n", st.RxBytes, st.RxPackets, st.TxBytes, st.TxPackets)
		}
	}
	return api.Section{Title: "interfaces", Body: b.String()}
}

func routes(h *netlink.Handle) api.Section {
	rs, err := h.RouteList(nil, unix.AF_INET)
	if err != nil {
		return api.Section{Title: "routes", Body: err.Error()}
	}
	var b strings.Builder
	for _, r := range rs {
		dst := "default"
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones > 0 || !r.Dst.IP.IsUnspecified() {
				dst = r.Dst.String()
			}
		}
		dev := ""
		if l, err := h.LinkByIndex(r.LinkIndex); err == nil {
			dev = " dev " + l.Attrs().Name
		}
		via := ""
		if r.Gw != nil {
			via = " via " + r.Gw.String()
		}
		onlink := ""
		if r.Flags&int(netlink.FLAG_ONLINK) != 0 {
			onlink = " onlink"
		}
		fmt.Fprintf(&b, "%s%s%s%s\n", dst, via, dev, onlink)
	}
	return api.Section{Title: "routes", Body: b.String()}
}

func neighbours(h *netlink.Handle) api.Section {
	ns, err := h.NeighList(0, unix.AF_INET)
	if err != nil {
		return api.Section{Title: "neighbours", Body: err.Error()}
	}
	var b strings.Builder
	for _, n := range ns {
		dev := ""
		if l, err := h.LinkByIndex(n.LinkIndex); err == nil {
			dev = l.Attrs().Name
		}
		fmt.Fprintf(&b, "%s dev %s lladdr %s %s\n", n.IP, dev, n.HardwareAddr, neighState(n.State))
	}
	return api.Section{Title: "neighbours", Body: b.String()}
}

func fdb(h *netlink.Handle) api.Section {
	l, err := h.LinkByName(plan.VXLANDevice)
	if err != nil {
		return api.Section{Title: "vxlan fdb", Body: "no " + plan.VXLANDevice + " (host-gw overlay)\n"}
	}
	ns, err := h.NeighList(l.Attrs().Index, unix.AF_BRIDGE)
	if err != nil {
		return api.Section{Title: "vxlan fdb", Body: err.Error()}
	}
	var b strings.Builder
	for _, n := range ns {
		fmt.Fprintf(&b, "%s dev %s dst %s %s\n", n.HardwareAddr, plan.VXLANDevice, n.IP, neighState(n.State))
	}
	return api.Section{Title: "vxlan fdb", Body: b.String()}
}

func neighState(s int) string {
	for _, st := range []struct {
		bit  int
		name string
	}{{netlink.NUD_PERMANENT, "PERMANENT"}, {netlink.NUD_REACHABLE, "REACHABLE"}, {netlink.NUD_STALE, "STALE"}, {netlink.NUD_DELAY, "DELAY"}, {netlink.NUD_PROBE, "PROBE"}, {netlink.NUD_FAILED, "FAILED"}, {netlink.NUD_INCOMPLETE, "INCOMPLETE"}, {netlink.NUD_NOARP, "NOARP"}} {
		if s&st.bit != 0 {
			return st.name
		}
	}
	return fmt.Sprintf("state %#x", s)
}

// nftRuleset runs `nft list ruleset` inside the namespace: on demand, one process.
func nftRuleset(path string) api.Section {
	var out []byte
	err := nsutil.Do(path, func() error {
		var err error
		out, err = exec.Command("nft", "list", "ruleset").CombinedOutput()
		return err
	})
	if err != nil {
		return api.Section{Title: "nft ruleset", Body: fmt.Sprintf("%v: %s", err, out)}
	}
	return api.Section{Title: "nft ruleset", Body: string(out)}
}

func (s *Supervisor) cniResult(pod *plan.Pod, node *plan.Node) api.Section {
	nn, err := deploy.NodeNetwork(s.plan, node, s.dir, netns.Path(node.Netns))
	if err != nil {
		return api.Section{Title: "CNI result", Body: err.Error()}
	}
	res, err := nn.CachedResult(deploy.Attachment(pod, netns.Path(pod.Netns)))
	if err != nil {
		return api.Section{Title: "CNI result", Body: err.Error()}
	}
	return api.Section{Title: "CNI result (libcni cache)", Body: string(res.Raw) + "\n"}
}

// podStatus is what kubectl describe says of a pod's state: phase, node, address,
// conditions with their reasons, and each container's state and restarts.
func podStatus(p *corev1.Pod) api.Section {
	var b strings.Builder
	fmt.Fprintf(&b, "phase      %s\n", p.Status.Phase)
	if p.DeletionTimestamp != nil {
		fmt.Fprintf(&b, "deleting   since %s\n", p.DeletionTimestamp.Format(time.RFC3339))
	}
	node := p.Spec.NodeName
	if node == "" {
		node = "<none> (not scheduled)"
	}
	fmt.Fprintf(&b, "node       %s\nip         %s\n", node, orNone(p.Status.PodIP))
	for _, r := range p.OwnerReferences {
		fmt.Fprintf(&b, "owner      %s/%s\n", r.Kind, r.Name)
	}
	b.WriteString("conditions\n")
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(&b, "  %-26s %-5s %s %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	for _, cs := range p.Status.ContainerStatuses {
		fmt.Fprintf(&b, "container %s (%s): ready %v, restarts %d\n", cs.Name, cs.Image, cs.Ready, cs.RestartCount)
		fmt.Fprintf(&b, "  state       %s\n", containerState(cs.State))
		if t := cs.LastTerminationState.Terminated; t != nil {
			fmt.Fprintf(&b, "  last state  %s\n", containerState(cs.LastTerminationState))
		}
	}
	for _, c := range p.Spec.Containers {
		for _, pr := range []struct {
			kind string
			p    *corev1.Probe
		}{{"readiness", c.ReadinessProbe}, {"liveness", c.LivenessProbe}, {"startup", c.StartupProbe}} {
			if pr.p != nil {
				fmt.Fprintf(&b, "  %s probe: %s delay=%ds timeout=%ds period=%ds #success=%d #failure=%d\n", pr.kind, probeAction(pr.p),
					pr.p.InitialDelaySeconds, max(pr.p.TimeoutSeconds, 1), max(pr.p.PeriodSeconds, 10), max(pr.p.SuccessThreshold, 1), max(pr.p.FailureThreshold, 3))
			}
		}
	}
	return api.Section{Title: "status", Body: b.String()}
}

// serviceStatus is describe's view of a Service's addresses; a pending LoadBalancer
// says why (pending is the reason).
func serviceStatus(svc *corev1.Service, pending string) api.Section {
	var b strings.Builder
	typ := svc.Spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	fmt.Fprintf(&b, "Type:                     %s\n", typ)
	fmt.Fprintf(&b, "IP:                       %s\n", orNone(svc.Spec.ClusterIP))
	for _, p := range svc.Spec.Ports {
		fmt.Fprintf(&b, "Port:                     %s %d/%s -> %s", orNone(p.Name), p.Port, p.Protocol, p.TargetPort.String())
		if p.NodePort != 0 {
			fmt.Fprintf(&b, ", NodePort %d", p.NodePort)
		}
		b.WriteString("\n")
	}
	if typ == corev1.ServiceTypeLoadBalancer {
		var ips []string
		for _, in := range svc.Status.LoadBalancer.Ingress {
			ips = append(ips, in.IP+in.Hostname)
		}
		switch {
		case len(ips) > 0:
			fmt.Fprintf(&b, "LoadBalancer Ingress:     %s\n", strings.Join(ips, ", "))
		case pending != "":
			fmt.Fprintf(&b, "LoadBalancer Ingress:     <pending>: %s\n", pending)
		default:
			b.WriteString("LoadBalancer Ingress:     <pending>\n")
		}
	}
	return api.Section{Title: "status", Body: b.String()}
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func containerState(st corev1.ContainerState) string {
	switch {
	case st.Running != nil:
		return "Running since " + st.Running.StartedAt.Format(time.RFC3339)
	case st.Waiting != nil:
		return strings.TrimSpace("Waiting: " + st.Waiting.Reason + " " + st.Waiting.Message)
	case st.Terminated != nil:
		return fmt.Sprintf("Terminated: %s, exit code %d", st.Terminated.Reason, st.Terminated.ExitCode)
	}
	return "unknown"
}

func probeAction(p *corev1.Probe) string {
	switch {
	case p.HTTPGet != nil:
		return fmt.Sprintf("http-get :%s%s", p.HTTPGet.Port.String(), p.HTTPGet.Path)
	case p.TCPSocket != nil:
		return "tcp-socket :" + p.TCPSocket.Port.String()
	case p.Exec != nil:
		return "exec " + strings.Join(p.Exec.Command, " ")
	case p.GRPC != nil:
		return fmt.Sprintf("grpc :%d", p.GRPC.Port)
	}
	return "?"
}

// objectEvents lists the lab's events about one object, as describe's Events.
func (s *Supervisor) objectEvents(kind, namespace, name string) api.Section {
	past, ch := s.events.subscribe()
	s.events.unsubscribe(ch)
	var b strings.Builder
	n := 0
	for _, e := range past {
		if e.Kind == kind && e.Namespace == namespace && e.Name == name {
			fmt.Fprintf(&b, "%s  %-18s %s\n", e.Time.Format("15:04:05.000"), e.Type, e.Message)
			n++
		}
	}
	if n == 0 {
		b.WriteString("<none>\n")
	}
	return api.Section{Title: "events", Body: b.String()}
}
