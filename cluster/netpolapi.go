package cluster

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/netpol"
	"podlab.dev/podlab/netprobe"
)

// netpolRoutes serves the NetworkPolicy model's verdicts, computed here because the
// objects are here: a client would otherwise copy every pod, namespace and policy.
func (s *Supervisor) netpolRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST "+api.PathNetpolVerdicts, func(w http.ResponseWriter, r *http.Request) {
		var flows []api.FlowQuery
		if !decode(w, r, &flows, "netpol verdicts: expected a JSON list of {from, to, port, protocol, service}") {
			return
		}
		reply(w, s.NetpolVerdicts(flows), nil)
	})
}

// NetpolVerdicts judges each flow with the model over one snapshot of the store.
func (s *Supervisor) NetpolVerdicts(flows []api.FlowQuery) []api.FlowVerdict {
	model := netpol.FromStore(s.store)
	out := make([]api.FlowVerdict, len(flows))
	for i, f := range flows {
		out[i].FlowQuery = f
		from, err := s.podEndpoint(f.From)
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		to, err := s.podEndpoint(f.To)
		if err != nil {
			out[i].Error = err.Error()
			continue
		}
		port := f.Port
		if f.Service != "" {
			if port, err = s.targetPort(f.Service, to, f.Port, corev1.Protocol(f.Protocol)); err != nil {
				out[i].Error = err.Error()
				continue
			}
		}
		v := model.Allowed(from, to, port, corev1.Protocol(f.Protocol))
		out[i].Allowed, out[i].Reason = v.Allowed, v.String()
	}
	return out
}

// podEndpoint is the model's endpoint for a stored pod, at the address the lab gave it.
func (s *Supervisor) podEndpoint(key string) (netpol.Endpoint, error) {
	ns, name, _ := strings.Cut(key, "/")
	o, ok := s.store.Get("Pod", ns, name)
	if !ok {
		return netpol.Endpoint{}, fmt.Errorf("pod %s: %w", key, api.ErrNotFound)
	}
	pod := o.(*corev1.Pod)
	e := netpol.PodEndpoint(pod)
	if !e.IP.IsValid() {
		e.IP = s.planPod(pod).IP
	}
	return e, nil
}

// targetPort is where kube-proxy sends the Service's port on pod, read from the
// Service's EndpointSlices as kube-proxy reads it (a named targetPort is resolved there).
func (s *Supervisor) targetPort(key string, pod netpol.Endpoint, port int32, proto corev1.Protocol) (int32, error) {
	ns, name, _ := strings.Cut(key, "/")
	o, ok := s.store.Get("Service", ns, name)
	if !ok {
		return 0, fmt.Errorf("service %s: %w", key, api.ErrNotFound)
	}
	sp, ok := netprobe.ServicePort(o.(*corev1.Service), port, string(proto))
	if !ok {
		return 0, fmt.Errorf("service %s has no port %d/%s", key, port, proto)
	}
	for _, o := range s.store.List("EndpointSlice", ns) {
		sl := o.(*discoveryv1.EndpointSlice)
		if sl.Labels[discoveryv1.LabelServiceName] != name || !slices.ContainsFunc(sl.Endpoints, func(e discoveryv1.Endpoint) bool {
			return slices.Contains(e.Addresses, pod.IP.String())
		}) {
			continue
		}
		for _, p := range sl.Ports {
			pname, pproto := "", corev1.ProtocolTCP
			if p.Name != nil {
				pname = *p.Name
			}
			if p.Protocol != nil {
				pproto = *p.Protocol
			}
			if p.Port != nil && pname == sp.Name && pproto == proto {
				return *p.Port, nil
			}
		}
	}
	return 0, fmt.Errorf("service %s: pod %s is no endpoint of port %d/%s", key, pod, port, proto)
}
