package cluster

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/netpol"
	"podlab.dev/podlab/netprobe"
)

// netpolTraceRoutes serves `podlab trace` and the TUI's :netpol view: the model's
// explanation of one flow, and the counters of the nodes' NetworkPolicy tables.
func (s *Supervisor) netpolTraceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+api.PathNetpolCounters, func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.NetpolCounters(r.Context()), nil)
	})
	mux.HandleFunc("POST "+api.PathNetpolTrace, func(w http.ResponseWriter, r *http.Request) {
		var q api.TraceQuery
		if !decode(w, r, &q, "netpol trace: expected a JSON {from, to, port, protocol}") {
			return
		}
		v, err := s.NetpolTrace(q)
		reply(w, v, err)
	})
}

// nodeCounters reads the counters of every node whose NetworkPolicy table is open.
func (s *Supervisor) nodeCounters(ctx context.Context) (map[string]map[string]netpol.Counter, error) {
	if s.netpol == nil {
		return nil, nil
	}
	return s.netpol.Counters(ctx)
}

// NetpolCounters is the counters of every node, and their sums per policy and pod.
func (s *Supervisor) NetpolCounters(ctx context.Context) api.NetpolCounters {
	raw, err := s.nodeCounters(ctx)
	out := api.NetpolCounters{Nodes: map[string]map[string]api.PacketCount{}}
	if err != nil {
		out.Error = err.Error()
	}
	for node, cs := range raw {
		m := make(map[string]api.PacketCount, len(cs))
		for k, c := range cs {
			m[k] = api.PacketCount{Packets: c.Packets, Bytes: c.Bytes}
		}
		out.Nodes[node] = m
	}
	model := netpol.FromStore(s.store)
	out.Policies, out.Pods = summarize(model, out.Nodes)
	return out
}

// summarize sums the counters per policy and per isolated pod and direction.
func summarize(model netpol.Cluster, nodes map[string]map[string]api.PacketCount) ([]api.PolicyCount, []api.PodDropCount) {
	all := map[string]api.PacketCount{} // key -> count over every node (each key lives on one node)
	for _, cs := range nodes {
		for k, c := range cs {
			a := all[k]
			a.Packets += c.Packets
			a.Bytes += c.Bytes
			all[k] = a
		}
	}
	byPolicy := map[string]*api.PolicyCount{}
	for _, p := range model.Policies {
		key := p.Namespace + "/" + p.Name
		in, eg := netpol.PolicyTypes(p)
		byPolicy[key] = &api.PolicyCount{Policy: key, Types: policyTypes(in, eg)}
	}
	for k, c := range all {
		dir, rest, ok := strings.Cut(strings.TrimPrefix(k, "allow/"), "/")
		if !strings.HasPrefix(k, "allow/") || !ok || (dir != "ingress" && dir != "egress") {
			continue
		}
		if i := strings.LastIndex(rest, "/"); i > 0 && byPolicy[rest[:i]] != nil {
			byPolicy[rest[:i]].Allowed += c.Packets
		}
	}
	var pods []api.PodDropCount
	seen := map[string]bool{} // policy + pod: a pod isolated both ways counts once towards Isolates
	for _, iso := range model.Isolations() {
		key := iso.Pod.Namespace + "/" + iso.Pod.Name
		d := all["drop/"+iso.Direction+"/"+key].Packets
		pods = append(pods, api.PodDropCount{Pod: key, Node: iso.Pod.Spec.NodeName, Direction: iso.Direction, Dropped: d, Policies: iso.Policies})
		for _, pol := range iso.Policies {
			if pc := byPolicy[pol]; pc != nil {
				pc.Dropped += d
				if !seen[pol+" "+key] {
					seen[pol+" "+key] = true
					pc.Isolates++
				}
			}
		}
	}
	slices.SortFunc(pods, func(a, b api.PodDropCount) int {
		return cmp.Or(cmp.Compare(a.Pod, b.Pod), cmp.Compare(b.Direction, a.Direction))
	})
	var policies []api.PolicyCount
	for _, k := range slices.Sorted(maps.Keys(byPolicy)) {
		policies = append(policies, *byPolicy[k])
	}
	return policies, pods
}

func policyTypes(in, eg bool) string {
	switch {
	case in && eg:
		return "Ingress,Egress"
	case eg:
		return "Egress"
	}
	return "Ingress"
}

// NetpolTrace explains one flow with the model: for a Service, at each ready backend
// after the DNAT kube-proxy would do (at the backend's target port).
func (s *Supervisor) NetpolTrace(q api.TraceQuery) (*api.TraceVerdict, error) {
	proto := corev1.Protocol(cmp.Or(q.Protocol, "TCP"))
	from, err := s.podEndpoint(q.From)
	if err != nil {
		return nil, err
	}
	out := &api.TraceVerdict{TraceQuery: q, FromNode: from.Node, FromIP: from.IP.String()}
	out.Protocol = string(proto)
	model := netpol.FromStore(s.store)
	judge := func(to netpol.Endpoint, name string, port int32) {
		v := model.Allowed(from, to, port, proto)
		out.Targets = append(out.Targets, api.TraceTarget{To: name, Node: endpointNode(to), Address: netip.AddrPortFrom(to.IP, uint16(port)).String(),
			Allowed: v.Allowed, Always: v.Always, Egress: traceDecision(v.Egress), Ingress: traceDecision(v.Ingress), Reason: v.String()})
	}
	t, err := netprobe.ParseTarget(q.To)
	if err != nil {
		return nil, err
	}
	if t.Kind == netprobe.ToIP {
		if pod := s.podAt(t.IP); pod != nil {
			t = netprobe.Target{Kind: netprobe.ToPod, Namespace: pod.Namespace, Name: pod.Name}
		} else if svc := s.serviceAt(t.IP); svc != nil {
			t = netprobe.Target{Kind: netprobe.ToService, Namespace: svc.Namespace, Name: svc.Name}
		}
	}
	switch t.Kind {
	case netprobe.ToPod:
		to, err := s.podEndpoint(t.Namespace + "/" + t.Name)
		if err != nil {
			return nil, err
		}
		judge(to, t.Namespace+"/"+t.Name, q.Port)
	case netprobe.ToService:
		key := t.Namespace + "/" + t.Name
		out.Service = key
		backends, err := s.backends(t.Namespace, t.Name)
		if err != nil {
			return nil, err
		}
		for _, b := range backends {
			to, err := s.podEndpoint(b)
			if err != nil {
				continue
			}
			port, err := s.targetPort(key, to, q.Port, proto)
			if err != nil {
				return nil, err
			}
			judge(to, b, port)
		}
		if len(out.Targets) == 0 {
			return nil, fmt.Errorf("service %s has no ready endpoints: kube-proxy rejects the packet before any NetworkPolicy sees it", key)
		}
	case netprobe.ToIP:
		to := netpol.Endpoint{IP: t.IP}
		for _, n := range s.plan.Nodes {
			if n.IP.Addr() == t.IP {
				to.Node = n.Name
			}
		}
		judge(to, t.IP.String(), q.Port)
	default:
		return nil, fmt.Errorf("--to %s: expected NS/POD, SVC.NS (a Service of the lab) or an IP address", q.To)
	}
	return out, nil
}

func endpointNode(e netpol.Endpoint) string {
	if e.Pod != nil {
		return e.Pod.Spec.NodeName
	}
	return e.Node
}

func traceDecision(d netpol.Decision) api.TraceDecision {
	return api.TraceDecision{Pod: d.Pod, Isolated: d.Isolated, Policies: d.Policies, Allowed: d.Allowed, Policy: d.Policy, Rule: d.Rule, Text: d.String()}
}

// podAt is the pod with address ip, or nil.
func (s *Supervisor) podAt(ip netip.Addr) *corev1.Pod {
	for _, o := range s.store.List("Pod", "") {
		p := o.(*corev1.Pod)
		if !p.Spec.HostNetwork && (p.Status.PodIP == ip.String() || s.planPod(p).IP == ip) {
			return p
		}
	}
	return nil
}

// serviceAt is the Service with ClusterIP ip, or nil.
func (s *Supervisor) serviceAt(ip netip.Addr) *corev1.Service {
	for _, o := range s.store.List("Service", "") {
		if svc := o.(*corev1.Service); netprobe.ClusterIP(svc) == ip {
			return svc
		}
	}
	return nil
}

// backends are the ready endpoints of a Service as kube-proxy picks among them
// (NS/POD, sorted), read from its EndpointSlices.
func (s *Supervisor) backends(ns, name string) ([]string, error) {
	if _, ok := s.store.Get("Service", ns, name); !ok {
		return nil, fmt.Errorf("service %s/%s: %w", ns, name, api.ErrNotFound)
	}
	var out []string
	for _, o := range s.store.List("EndpointSlice", ns) {
		sl := o.(*discoveryv1.EndpointSlice)
		if sl.Labels[discoveryv1.LabelServiceName] != name {
			continue
		}
		for _, e := range sl.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready || e.TargetRef == nil || e.TargetRef.Kind != "Pod" {
				continue
			}
			if key := e.TargetRef.Namespace + "/" + e.TargetRef.Name; !slices.Contains(out, key) {
				out = append(out, key)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
