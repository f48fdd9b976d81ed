package proxy

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// labelServiceProxyName marks Services meant for another proxy; kube-proxy skips them.
const labelServiceProxyName = "service.kubernetes.io/service-proxy-name"

// defaultAffinitySeconds is the API default of clientIP.timeoutSeconds (3 hours).
const defaultAffinitySeconds = 10800

// servicePort is one (Service, port) as kube-proxy sees it: upstream's
// BaseServicePortInfo reduced to what the nftables rules need.
type servicePort struct {
	namespace, name string
	portName        string
	protocol        string // "tcp", "udp", "sctp"
	proto           v1.Protocol
	clusterIP       netip.Addr
	port            int
	nodePort        int
	externalIPs     []netip.Addr
	lbVIPs          []netip.Addr
	sourceRanges    []netip.Prefix
	affinitySeconds int // 0: no session affinity
	externalLocal   bool
	internalLocal   bool

	// Names computed once per port.
	nameString, chainBase string
}

func (sp *servicePort) externallyAccessible() bool {
	return sp.nodePort != 0 || len(sp.lbVIPs) > 0 || len(sp.externalIPs) > 0
}

// usesClusterEndpoints: even with eTP=Local the cluster endpoints are needed for
// the short-circuit of pod and host traffic.
func (sp *servicePort) usesClusterEndpoints() bool {
	return !sp.internalLocal || sp.externallyAccessible()
}

func (sp *servicePort) usesLocalEndpoints() bool {
	return sp.internalLocal || (sp.externalLocal && sp.externallyAccessible())
}

// servicePorts returns the ports kube-proxy programs for svc (IPv4 only), or nil
// for headless, ExternalName, other-proxy and non-IPv4 Services.
func servicePorts(svc *v1.Service) []*servicePort {
	if svc == nil || svc.Spec.Type == v1.ServiceTypeExternalName {
		return nil
	}
	if _, ok := svc.Labels[labelServiceProxyName]; ok {
		return nil
	}
	clusterIP, err := netip.ParseAddr(svc.Spec.ClusterIP)
	if err != nil || !clusterIP.Is4() {
		return nil // headless ("None"), unallocated, or another family
	}
	externallyAccessible := svc.Spec.Type == v1.ServiceTypeNodePort ||
		svc.Spec.Type == v1.ServiceTypeLoadBalancer || len(svc.Spec.ExternalIPs) > 0
	base := servicePort{
		namespace:     svc.Namespace,
		name:          svc.Name,
		clusterIP:     clusterIP,
		externalIPs:   parseIPv4s(svc.Spec.ExternalIPs),
		externalLocal: externallyAccessible && svc.Spec.ExternalTrafficPolicy == v1.ServiceExternalTrafficPolicyLocal,
		internalLocal: svc.Spec.InternalTrafficPolicy != nil && *svc.Spec.InternalTrafficPolicy == v1.ServiceInternalTrafficPolicyLocal,
	}
	if svc.Spec.Type == v1.ServiceTypeLoadBalancer {
		for _, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IPMode != nil && *ing.IPMode == v1.LoadBalancerIPModeProxy {
				continue // the load balancer proxies itself; leave its IP alone
			}
			if ip, err := netip.ParseAddr(ing.IP); err == nil && ip.Is4() {
				base.lbVIPs = append(base.lbVIPs, ip)
			}
		}
		for _, s := range svc.Spec.LoadBalancerSourceRanges {
			if p, err := netip.ParsePrefix(strings.TrimSpace(s)); err == nil && p.Addr().Is4() {
				base.sourceRanges = append(base.sourceRanges, p.Masked())
			}
		}
	}
	if svc.Spec.SessionAffinity == v1.ServiceAffinityClientIP {
		base.affinitySeconds = defaultAffinitySeconds
		if c := svc.Spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
			base.affinitySeconds = int(*c.ClientIP.TimeoutSeconds)
		}
	}
	ports := make([]*servicePort, 0, len(svc.Spec.Ports))
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		sp := base
		sp.portName = p.Name
		sp.proto = p.Protocol
		if sp.proto == "" {
			sp.proto = v1.ProtocolTCP
		}
		sp.protocol = strings.ToLower(string(sp.proto))
		sp.port = int(p.Port)
		sp.nodePort = int(p.NodePort)
		sp.nameString = svc.Namespace + "/" + svc.Name
		if p.Name != "" {
			sp.nameString += ":" + p.Name
		}
		ports = append(ports, &sp)
	}
	return ports
}

func parseIPv4s(ss []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		if ip, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil && ip.Is4() {
			out = append(out, ip)
		}
	}
	return out
}

// endpoint is one address of a service port, with the conditions of
// EndpointSlice semantics (nil ready means ready, nil serving means ready).
type endpoint struct {
	ip                          netip.Addr
	port                        int
	local                       bool
	ready, serving, terminating bool
	key                         string // "ip:port", the sort key upstream uses
}

// sliceKey finds the slices of a Service: same namespace, label service-name.
type sliceKey struct{ namespace, service string }

// indexSlices groups IPv4 slices by their Service.
func indexSlices(slices []*discoveryv1.EndpointSlice) map[sliceKey][]*discoveryv1.EndpointSlice {
	idx := make(map[sliceKey][]*discoveryv1.EndpointSlice)
	for _, s := range slices {
		if s == nil || s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		name := s.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		k := sliceKey{s.Namespace, name}
		idx[k] = append(idx[k], s)
	}
	return idx
}

// endpointsFor resolves the endpoints of one service port from its slices: the
// slice port with the same name and protocol gives the (already resolved) target
// port. Duplicates across slices are kept once; the result is sorted like upstream.
func endpointsFor(sp *servicePort, slices []*discoveryv1.EndpointSlice, nodeName string) []*endpoint {
	var eps []*endpoint
	seen := map[string]bool{}
	for _, s := range slices {
		port := -1
		for _, p := range s.Ports {
			name, proto := "", v1.ProtocolTCP
			if p.Name != nil {
				name = *p.Name
			}
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			if name == sp.portName && proto == sp.proto && p.Port != nil {
				port = int(*p.Port)
				break
			}
		}
		if port <= 0 {
			continue
		}
		for i := range s.Endpoints {
			e := &s.Endpoints[i]
			if len(e.Addresses) == 0 {
				continue
			}
			ip, err := netip.ParseAddr(e.Addresses[0])
			if err != nil || !ip.Is4() {
				continue
			}
			ep := &endpoint{ip: ip, port: port, ready: true}
			ep.key = ip.String() + ":" + strconv.Itoa(port)
			if seen[ep.key] {
				continue
			}
			seen[ep.key] = true
			if c := e.Conditions.Ready; c != nil {
				ep.ready = *c
			}
			ep.serving = ep.ready
			if c := e.Conditions.Serving; c != nil {
				ep.serving = *c
			}
			if c := e.Conditions.Terminating; c != nil {
				ep.terminating = *c
			}
			ep.local = e.NodeName != nil && *e.NodeName == nodeName
			eps = append(eps, ep)
		}
	}
	sort.Slice(eps, func(i, j int) bool { return eps[i].key < eps[j].key })
	return eps
}

// categorize is upstream's CategorizeEndpoints without topology hints: cluster
// endpoints are the ready ones (else serving+terminating ones), local endpoints the
// ready local ones (else serving+terminating local ones, even when remote ready
// endpoints exist).
func categorize(eps []*endpoint, sp *servicePort) (cluster, local, reachable []*endpoint, hasAny bool) {
	if len(eps) == 0 {
		return
	}
	filter := func(f func(*endpoint) bool) []*endpoint {
		var out []*endpoint
		for _, ep := range eps {
			if f(ep) {
				out = append(out, ep)
			}
		}
		return out
	}
	servingTerminating := func(ep *endpoint) bool { return ep.serving && ep.terminating }
	if sp.usesClusterEndpoints() {
		cluster = filter(func(ep *endpoint) bool { return ep.ready })
		if len(cluster) == 0 {
			cluster = filter(servingTerminating)
		}
		hasAny = len(cluster) > 0
	}
	if !sp.usesLocalEndpoints() {
		return cluster, nil, cluster, hasAny
	}
	var localReady, localST bool
	for _, ep := range eps {
		if ep.ready {
			hasAny = true
			localReady = localReady || ep.local
		} else if servingTerminating(ep) {
			hasAny = true
			localST = localST || ep.local
		}
	}
	useST := false
	switch {
	case localReady:
		local = filter(func(ep *endpoint) bool { return ep.local && ep.ready })
	case localST:
		useST = true
		local = filter(func(ep *endpoint) bool { return ep.local && servingTerminating(ep) })
	}
	if !sp.usesClusterEndpoints() {
		return nil, local, local, hasAny
	}
	if !useST {
		return cluster, local, cluster, hasAny
	}
	// Union of both, as upstream (whose order here is a map's; we keep it sorted).
	byKey := map[string]*endpoint{}
	for _, ep := range append(append([]*endpoint{}, cluster...), local...) {
		byKey[ep.key] = ep
	}
	for _, ep := range eps {
		if byKey[ep.key] != nil {
			reachable = append(reachable, ep)
		}
	}
	return cluster, local, reachable, hasAny
}
