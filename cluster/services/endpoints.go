package services

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MaxEndpointsAddresses is where the legacy Endpoints controller truncates, marking the
// object with the over-capacity annotation.
const MaxEndpointsAddresses = 1000

// Endpoints is the legacy Endpoints controller's object for svc (deprecated in 1.33 but
// still what `kubectl get endpoints` shows): ready pods in addresses, others in
// notReadyAddresses (all in addresses with publishNotReadyAddresses), terminating pods
// left out unless publishNotReadyAddresses, subsets packed as RepackSubsets does: the
// ports served by the same set of addresses share a subset. Nil for selectorless and
// ExternalName Services.
func Endpoints(svc *v1.Service, pods []Pod) *v1.Endpoints {
	if !Managed(svc) {
		return nil
	}
	publish := svc.Spec.PublishNotReadyAddresses
	headlessNoPorts := len(svc.Spec.Ports) == 0 && svc.Spec.ClusterIP == v1.ClusterIPNone

	type member struct {
		addr  v1.EndpointAddress
		ip    string
		ready bool
	}
	members := map[string]*member{}        // by address key
	byPort := map[string]map[string]bool{} // port key -> address key -> ready
	portOf := map[string]v1.EndpointPort{}
	for i := range pods {
		pod := &pods[i]
		if !Selects(svc, pod) || !pod.IP.Unmap().Is4() || (pod.Terminating && !publish) {
			continue
		}
		ak := pod.IP.String() + "/" + pod.Name
		node := pod.Node
		m := &member{
			addr: v1.EndpointAddress{IP: pod.IP.Unmap().String(), NodeName: &node,
				TargetRef: &v1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name}},
			ip:    pod.IP.Unmap().String(),
			ready: publish || pod.Ready,
		}
		if shouldSetHostname(pod, svc) {
			m.addr.Hostname = pod.Hostname
		}
		members[ak] = m
		add := func(pk string, p v1.EndpointPort) {
			if byPort[pk] == nil {
				byPort[pk] = map[string]bool{}
				portOf[pk] = p
			}
			// Not ready trumps ready, as in mapAddressByPort.
			if was, seen := byPort[pk][ak]; !seen || was {
				byPort[pk][ak] = m.ready
			}
		}
		if headlessNoPorts {
			add("", v1.EndpointPort{Port: -1})
			continue
		}
		for j := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[j]
			num, ok := findPort(pod, sp)
			if !ok {
				continue
			}
			proto := sp.Protocol
			if proto == "" {
				proto = v1.ProtocolTCP
			}
			p := v1.EndpointPort{Name: sp.Name, Port: num, Protocol: proto, AppProtocol: sp.AppProtocol}
			add(endpointPortKey(p), p)
		}
	}

	// Group the ports by the exact set of (address, ready) serving them.
	type subset struct {
		addrs map[string]bool
		ports []v1.EndpointPort
	}
	bySet := map[string]*subset{}
	for pk, addrs := range byPort {
		keys := make([]string, 0, len(addrs))
		for ak, ready := range addrs {
			keys = append(keys, ak+"="+strconv.FormatBool(ready))
		}
		slices.Sort(keys)
		sk := strings.Join(keys, ",")
		s := bySet[sk]
		if s == nil {
			s = &subset{addrs: addrs}
			bySet[sk] = s
		}
		if p := portOf[pk]; p.Port > 0 {
			s.ports = append(s.ports, p)
		}
	}
	subsets := make([]v1.EndpointSubset, 0, len(bySet))
	for _, s := range bySet {
		var ss v1.EndpointSubset
		for ak, ready := range s.addrs {
			a := *members[ak].addr.DeepCopy()
			if ready {
				ss.Addresses = append(ss.Addresses, a)
			} else {
				ss.NotReadyAddresses = append(ss.NotReadyAddresses, a)
			}
		}
		sortAddresses(ss.Addresses)
		sortAddresses(ss.NotReadyAddresses)
		slices.SortFunc(s.ports, func(a, b v1.EndpointPort) int { return cmp.Compare(endpointPortKey(a), endpointPortKey(b)) })
		ss.Ports = s.ports
		subsets = append(subsets, ss)
	}
	slices.SortFunc(subsets, func(a, b v1.EndpointSubset) int { return cmp.Compare(subsetKey(a), subsetKey(b)) })

	labels := map[string]string{}
	for k, v := range svc.Labels {
		labels[k] = v
	}
	if svc.Spec.ClusterIP == v1.ClusterIPNone {
		labels[v1.IsHeadlessService] = ""
	} else {
		delete(labels, v1.IsHeadlessService)
	}
	labels["endpoints.kubernetes.io/managed-by"] = EndpointsControllerName
	ep := &v1.Endpoints{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Endpoints"},
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: namespaceOf(svc), Labels: labels},
		Subsets:    subsets,
	}
	if truncateEndpoints(ep) {
		ep.Annotations = map[string]string{v1.EndpointsOverCapacity: "truncated"}
	}
	return ep
}

func endpointPortKey(p v1.EndpointPort) string {
	k := p.Name + "/" + string(p.Protocol) + "/" + strconv.Itoa(int(p.Port))
	if p.AppProtocol != nil {
		k += "/" + *p.AppProtocol
	}
	return k
}

func sortAddresses(as []v1.EndpointAddress) {
	slices.SortFunc(as, func(a, b v1.EndpointAddress) int {
		return cmp.Or(cmp.Compare(a.IP, b.IP), cmp.Compare(a.TargetRef.Name, b.TargetRef.Name))
	})
}

func subsetKey(s v1.EndpointSubset) string {
	var b strings.Builder
	for _, p := range s.Ports {
		b.WriteString(endpointPortKey(p) + ";")
	}
	b.WriteByte('|')
	for _, as := range [][]v1.EndpointAddress{s.Addresses, s.NotReadyAddresses} {
		for _, a := range as {
			b.WriteString(a.IP + ",")
		}
	}
	return b.String()
}

// truncateEndpoints is the controller's: over MaxEndpointsAddresses, keep ready
// addresses first, each subset keeping its proportional share.
func truncateEndpoints(ep *v1.Endpoints) bool {
	totalReady, totalNotReady := 0, 0
	for _, s := range ep.Subsets {
		totalReady += len(s.Addresses)
		totalNotReady += len(s.NotReadyAddresses)
	}
	if totalReady+totalNotReady <= MaxEndpointsAddresses {
		return false
	}
	truncateReady := false
	limit, numTotal := MaxEndpointsAddresses-totalReady, totalNotReady
	if totalReady > MaxEndpointsAddresses {
		truncateReady, limit, numTotal = true, MaxEndpointsAddresses, totalReady
	}
	canBeAdded := limit
	for i := range ep.Subsets {
		s := &ep.Subsets[i]
		n := len(s.Addresses)
		if !truncateReady {
			n = len(s.NotReadyAddresses)
		}
		toBeAdded := min(int(math.Ceil(float64(n)/float64(numTotal)*float64(limit))), canBeAdded)
		if truncateReady {
			s.Addresses = s.Addresses[:min(len(s.Addresses), toBeAdded)]
			s.NotReadyAddresses = []v1.EndpointAddress{}
			canBeAdded -= len(s.Addresses)
		} else {
			s.NotReadyAddresses = s.NotReadyAddresses[:min(len(s.NotReadyAddresses), toBeAdded)]
			canBeAdded -= len(s.NotReadyAddresses)
		}
	}
	return true
}
