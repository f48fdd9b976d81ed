package services

import (
	"cmp"
	"hash/fnv"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/topology"
)

// Pod is what the endpoints controller needs to know about a pod.
type Pod struct {
	Namespace, Name, Node string
	IP                    netip.Addr // zero: no IP yet, never an endpoint
	Labels                map[string]string
	Ready                 bool // the pod's Ready condition (its readiness check passes)
	Terminating           bool // deletionTimestamp is set
	Ports                 []topology.Port
	// Hostname and Subdomain are pod.spec.hostname and .subdomain: an endpoint gets
	// the hostname when the pod's subdomain names the Service (DNS A records per pod).
	Hostname, Subdomain string
	// Version is the pod object's resourceVersion: the controller's memo of what it
	// computed from this pod.
	Version string
}

const (
	// MaxEndpointsPerSlice is the controller's default --max-endpoints-per-slice.
	MaxEndpointsPerSlice = 100
	// SliceControllerName is the managed-by value of the slices the controller owns.
	SliceControllerName = "endpointslice-controller.k8s.io"
	// EndpointsControllerName is the managed-by value of the legacy Endpoints.
	EndpointsControllerName = "endpoint-controller"
)

// Selects reports whether svc's selector picks pod: same namespace and every selector
// key present with the same value. A Service without a selector selects nothing (the
// API server stores `selector: {}` as no selector at all).
func Selects(svc *v1.Service, pod *Pod) bool {
	if len(svc.Spec.Selector) == 0 || pod.Namespace != namespaceOf(svc) {
		return false
	}
	for k, v := range svc.Spec.Selector {
		if got, ok := pod.Labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// Managed reports whether the endpoints controller generates endpoints for svc: it has
// a selector and is not ExternalName. Other Services get user-supplied ones, or none.
func Managed(svc *v1.Service) bool {
	return svc != nil && svc.Spec.Type != v1.ServiceTypeExternalName && len(svc.Spec.Selector) > 0
}

func namespaceOf(svc *v1.Service) string {
	if svc.Namespace == "" {
		return metav1.NamespaceDefault
	}
	return svc.Namespace
}

// findPort is podutil.FindPort: a numeric targetPort is taken as is; a named one is
// looked up among the pod's ports with the Service port's protocol.
func findPort(pod *Pod, sp *v1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	if tp.Type == intstr.String && tp.StrVal != "" {
		proto := sp.Protocol
		if proto == "" {
			proto = v1.ProtocolTCP
		}
		for _, p := range pod.Ports {
			pp := v1.Protocol(p.Protocol)
			if pp == "" {
				pp = v1.ProtocolTCP
			}
			if p.Name == tp.StrVal && pp == proto {
				return int32(p.Port), true
			}
		}
		return 0, false
	}
	if tp.Type == intstr.Int && tp.IntVal != 0 {
		return tp.IntVal, true
	}
	return sp.Port, true // targetPort defaults to port
}

// endpointPorts is getEndpointPorts: the pod's resolution of every Service port; a port
// the pod cannot resolve is left out of its list.
func endpointPorts(svc *v1.Service, pod *Pod) []discoveryv1.EndpointPort {
	out := []discoveryv1.EndpointPort{}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		num, ok := findPort(pod, sp)
		if !ok {
			continue
		}
		name, proto := sp.Name, sp.Protocol
		if proto == "" {
			proto = v1.ProtocolTCP
		}
		out = append(out, discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &num, AppProtocol: sp.AppProtocol})
	}
	return out
}

func portsKey(ports []discoveryv1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		b.WriteString(*p.Name + "/" + string(*p.Protocol) + "/" + strconv.Itoa(int(*p.Port)))
		if p.AppProtocol != nil {
			b.WriteString("/" + *p.AppProtocol)
		}
		b.WriteByte(';')
	}
	return b.String()
}

// shouldSetHostname is endpointsliceutil.ShouldSetHostname.
func shouldSetHostname(pod *Pod, svc *v1.Service) bool {
	return pod.Hostname != "" && pod.Subdomain == svc.Name && namespaceOf(svc) == pod.Namespace
}

// podToEndpoint mirrors the controller's podToEndpoint: serving is the Ready condition,
// terminating is the deletion mark, and ready is publishNotReadyAddresses or serving
// and not terminating.
func podToEndpoint(pod *Pod, svc *v1.Service) discoveryv1.Endpoint {
	serving := pod.Ready
	terminating := pod.Terminating
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discoveryv1.Endpoint{
		Addresses:  []string{pod.IP.String()},
		Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &terminating},
		TargetRef:  &v1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name},
	}
	if pod.Node != "" {
		node := pod.Node
		ep.NodeName = &node
	}
	if shouldSetHostname(pod, svc) {
		h := pod.Hostname
		ep.Hostname = &h
	}
	return ep
}

// EndpointSlices is the EndpointSlice controller's desired state for svc given every
// pod of the lab: one group of endpoints per distinct resolution of the Service's ports,
// each group cut into slices of at most MaxEndpointsPerSlice, endpoints ordered by
// address. Terminating pods stay in (ready=false) for the proxies' serving-terminating
// fallback. A selector Service without endpoints gets one empty placeholder slice, as
// upstream. Selectorless and ExternalName Services get nil: their slices, if any, are
// the user's.
//
// Slice names are <service>-<5 characters> like upstream's generated names, but derived
// from the Service, the port group and the slice's index, so they are stable.
func EndpointSlices(svc *v1.Service, pods []Pod) []*discoveryv1.EndpointSlice {
	if !Managed(svc) {
		return nil
	}
	type group struct {
		ports []discoveryv1.EndpointPort
		eps   []discoveryv1.Endpoint
		ips   []netip.Addr
	}
	groups := map[string]*group{}
	for i := range pods {
		pod := &pods[i]
		if !Selects(svc, pod) || !pod.IP.Unmap().Is4() {
			continue // ShouldPodBeInEndpoints: no IP (of the slice's family), no endpoint
		}
		ports := endpointPorts(svc, pod)
		k := portsKey(ports)
		g := groups[k]
		if g == nil {
			g = &group{ports: ports}
			groups[k] = g
		}
		g.eps = append(g.eps, podToEndpoint(pod, svc))
		g.ips = append(g.ips, pod.IP.Unmap())
	}

	labels := sliceLabels(svc)
	var out []*discoveryv1.EndpointSlice
	names := map[string]bool{}
	newSlice := func(k string, idx int, ports []discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{
			TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
			ObjectMeta: metav1.ObjectMeta{
				Name:            sliceName(svc, k, idx, names),
				Namespace:       namespaceOf(svc),
				Labels:          maps(labels),
				OwnerReferences: ownerRefs(svc),
			},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       ports,
			Endpoints:   []discoveryv1.Endpoint{},
		}
		return s
	}
	if len(groups) == 0 {
		return []*discoveryv1.EndpointSlice{newSlice("", 0, []discoveryv1.EndpointPort{})}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		g := groups[k]
		order := make([]int, len(g.eps))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int {
			return cmp.Or(g.ips[a].Compare(g.ips[b]), cmp.Compare(g.eps[a].TargetRef.Name, g.eps[b].TargetRef.Name))
		})
		for start, idx := 0, 0; start < len(order); start, idx = start+MaxEndpointsPerSlice, idx+1 {
			end := min(start+MaxEndpointsPerSlice, len(order))
			s := newSlice(k, idx, clonePorts(g.ports))
			s.Endpoints = make([]discoveryv1.Endpoint, 0, end-start)
			for _, i := range order[start:end] {
				s.Endpoints = append(s.Endpoints, g.eps[i])
			}
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// sliceLabels is setEndpointSliceLabels: the Service's labels, the headless mark, and
// the two reserved labels that tie the slice to its Service and controller.
func sliceLabels(svc *v1.Service) map[string]string {
	l := map[string]string{}
	for k, v := range svc.Labels {
		if k == discoveryv1.LabelServiceName || k == discoveryv1.LabelManagedBy {
			continue
		}
		l[k] = v
	}
	if svc.Spec.ClusterIP == v1.ClusterIPNone {
		l[v1.IsHeadlessService] = ""
	} else {
		delete(l, v1.IsHeadlessService)
	}
	l[discoveryv1.LabelServiceName] = svc.Name
	l[discoveryv1.LabelManagedBy] = SliceControllerName
	return l
}

func ownerRefs(svc *v1.Service) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID, Controller: &yes, BlockOwnerDeletion: &yes}}
}

func maps(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

func clonePorts(ps []discoveryv1.EndpointPort) []discoveryv1.EndpointPort {
	out := make([]discoveryv1.EndpointPort, len(ps))
	for i := range ps {
		ps[i].DeepCopyInto(&out[i])
	}
	return out
}

// nameAlphabet is apimachinery's rand.String alphabet (no vowels, no confusable digits),
// which upstream's generated names use.
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// sliceName is <service>-<5 characters>, the base cut as the API server's name
// generator cuts it (58 characters), the suffix a hash of the Service, the slice's port
// group and its index in the group.
func sliceName(svc *v1.Service, group string, idx int, taken map[string]bool) string {
	base := svc.Name + "-"
	if len(base) > 58 {
		base = base[:58]
	}
	for salt := 0; ; salt++ {
		h := fnv.New64a()
		h.Write([]byte(namespaceOf(svc) + "/" + svc.Name + "\x00" + group + "\x00" + strconv.Itoa(idx) + "\x00" + strconv.Itoa(salt)))
		sum := h.Sum64()
		var suffix [5]byte
		for i := range suffix {
			suffix[i] = nameAlphabet[sum%uint64(len(nameAlphabet))]
			sum /= uint64(len(nameAlphabet))
		}
		if name := base + string(suffix[:]); !taken[name] {
			taken[name] = true
			return name
		}
	}
}
