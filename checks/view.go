package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/netprobe"
	"podlab.dev/podlab/resolver"
	"podlab.dev/podlab/topology"
)

// view is the lab as one round of checks sees it: pods, machines and Services now.
type view struct {
	st   *api.LabState
	svcs []*v1.Service
}

func (r *Runner) view(ctx context.Context) (*view, error) {
	st, err := r.Client.State(ctx)
	if err != nil {
		return nil, err
	}
	if !st.Supervisor.Running {
		return nil, fmt.Errorf("the supervisor of lab %s is not running: nothing answers; %s", st.Lab, st.Supervisor.Message)
	}
	objs, err := r.Client.Objects(ctx, "Service", "")
	if err != nil {
		return nil, err
	}
	v := &view{st: st}
	for _, o := range objs {
		var svc v1.Service
		if err := json.Unmarshal(o.Object, &svc); err != nil {
			return nil, fmt.Errorf("Service %s/%s: %w", o.Namespace, o.Name, err)
		}
		v.svcs = append(v.svcs, &svc)
	}
	return v, nil
}

func (v *view) pod(ns, name string) *api.PodState {
	for i := range v.st.Pods {
		if p := &v.st.Pods[i]; p.Namespace == ns && p.Name == name {
			return p
		}
	}
	return nil
}

func (v *view) service(ns, name string) *v1.Service {
	for _, s := range v.svcs {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

// source is where a check's packets leave: the network namespace's name.
func (v *view) source(e *topology.Endpoint) (string, error) {
	switch e.Kind {
	case topology.EndpointHost:
		for _, h := range v.st.Hosts {
			if h.Name == e.Name {
				return h.Netns, nil
			}
		}
		return "", fmt.Errorf("lab %s has no host %s", v.st.Lab, e.Name)
	case topology.EndpointPod:
		p := v.pod(e.Namespace, e.Name)
		switch {
		case p == nil:
			return "", fmt.Errorf("lab %s has no pod %s now", v.st.Lab, e.Key())
		case !p.IP.IsValid() || p.Netns == "":
			return "", fmt.Errorf("pod %s is Pending (no node or address yet): it has no network to send from", e.Key())
		}
		return p.Netns, nil
	}
	return "", fmt.Errorf("%s %s cannot send packets", e.Kind, e.Text)
}

// address is where a check's packets go. A Service is its ClusterIP, a name what the
// source pod's resolver answers (its A record, after the search path).
func (r *Runner) address(ctx context.Context, v *view, from, to *topology.Endpoint) (netip.Addr, error) {
	switch to.Kind {
	case topology.EndpointIP:
		return to.IP, nil
	case topology.EndpointPod:
		p := v.pod(to.Namespace, to.Name)
		switch {
		case p == nil:
			return netip.Addr{}, fmt.Errorf("lab %s has no pod %s now", v.st.Lab, to.Key())
		case !p.IP.IsValid():
			return netip.Addr{}, fmt.Errorf("pod %s is Pending: it has no address", to.Key())
		}
		return p.IP, nil
	case topology.EndpointHost:
		for _, h := range v.st.Hosts {
			if h.Name == to.Name {
				return h.IP, nil
			}
		}
	case topology.EndpointNode:
		for _, n := range v.st.Nodes {
			if n.Name == to.Name {
				return n.IP, nil
			}
		}
	case topology.EndpointService:
		svc := v.service(to.Namespace, to.Name)
		if svc == nil {
			return netip.Addr{}, fmt.Errorf("lab %s has no Service %s now", v.st.Lab, to.Key())
		}
		ip := netprobe.ClusterIP(svc)
		if !ip.IsValid() {
			return netip.Addr{}, fmt.Errorf("Service %s has no ClusterIP (headless or ExternalName): check its DNS name or its pods", to.Key())
		}
		return ip, nil
	case topology.EndpointName:
		if from == nil || from.Kind != topology.EndpointPod {
			return netip.Addr{}, fmt.Errorf("%s: only a pod's resolver resolves names", to.Text)
		}
		res, err := r.resolve(ctx, v, from, to.Name, mdns.TypeA)
		if err != nil {
			return netip.Addr{}, err
		}
		for _, rr := range res.Answer {
			if f := strings.Split(rr, "\t"); len(f) == 5 && f[3] == "A" {
				if ip, err := netip.ParseAddr(f[4]); err == nil {
					return ip, nil
				}
			}
		}
		return netip.Addr{}, fmt.Errorf("%s does not resolve from %s (%s)", to.Text, from.Key(), herrno(res))
	}
	return netip.Addr{}, fmt.Errorf("lab %s has no %s %s now", v.st.Lab, to.Kind, to.Name)
}

// resolve asks name as the pod's own resolver would, from inside the pod.
func (r *Runner) resolve(ctx context.Context, v *view, from *topology.Endpoint, name string, qtype uint16) (*resolver.Result, error) {
	netns, err := v.source(from)
	if err != nil {
		return nil, err
	}
	etc, err := r.Client.PodEtc(ctx, from.Namespace, from.Name)
	if err != nil {
		return nil, err
	}
	conf, err := resolver.ParseConf(etc.ResolvConf)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", from.Key(), err)
	}
	rs := &resolver.Resolver{Config: conf, Dial: r.Dial(netns)}
	return rs.Search(ctx, name, qtype), nil
}

// endpoints are the names of the Service's ready endpoints now, from its
// EndpointSlices as kube-proxy reads them (hand-written ones included): a pod's name,
// else the endpoint's hostname or address.
func (r *Runner) endpoints(ctx context.Context, svc *v1.Service) ([]string, error) {
	objs, err := r.Client.Objects(ctx, "EndpointSlice", svc.Namespace)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, o := range objs {
		var es discoveryv1.EndpointSlice
		if err := json.Unmarshal(o.Object, &es); err != nil {
			return nil, fmt.Errorf("EndpointSlice %s/%s: %w", o.Namespace, o.Name, err)
		}
		if es.Namespace != svc.Namespace || es.Labels[discoveryv1.LabelServiceName] != svc.Name {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			name := strings.Join(ep.Addresses, ",")
			switch {
			case ep.TargetRef != nil && ep.TargetRef.Name != "":
				name = ep.TargetRef.Name
			case ep.Hostname != nil:
				name = *ep.Hostname
			}
			if !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// firstTCPPort reads a pod's first TCP port from its ports as the API lists them
// ("http:80,81/udp").
func firstTCPPort(ports string) int {
	for _, p := range strings.Split(ports, ",") {
		if i := strings.LastIndexByte(p, ':'); i >= 0 {
			p = p[i+1:]
		}
		num, proto, _ := strings.Cut(p, "/")
		if proto != "" && proto != "tcp" {
			continue
		}
		if n, err := strconv.Atoi(num); err == nil {
			return n
		}
	}
	return 0
}
