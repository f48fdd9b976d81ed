// Package refs resolves what Ingresses and routes point at, for both compilers: a
// Service port to its ready endpoints (through the EndpointSlices, as a proxy's
// endpoint discovery does, never through the ClusterIP) and a TLS Secret to a
// certificate. It reads the store and writes nothing.
package refs

import (
	"crypto/tls"
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"podlab.dev/podlab/cluster/store"
)

// Reader is the part of the store the resolvers read.
type Reader interface {
	Get(kind, namespace, name string) (store.Object, bool)
	List(kind, namespace string) []store.Object
}

// ServicePort says which port of a Service: by number, or by name when Number is 0.
type ServicePort struct {
	Number int32
	Name   string
}

func (p ServicePort) String() string {
	if p.Number != 0 {
		return fmt.Sprint(p.Number)
	}
	return p.Name
}

// Resolved is a Service port's endpoints.
type Resolved struct {
	Service   *corev1.Service
	Port      corev1.ServicePort
	Endpoints []netip.AddrPort // ready ones, sorted; empty when none is ready
}

// Problem says why a reference does not resolve, with the reason Gateway API names.
type Problem struct {
	Reason  string // BackendNotFound | UnsupportedProtocol | InvalidKind | RefNotPermitted | InvalidCertificateRef
	Message string
}

func (p *Problem) Error() string { return p.Message }

// Endpoints resolves Service namespace/name, port p, to its ready endpoints.
func Endpoints(r Reader, namespace, name string, p ServicePort) (Resolved, *Problem) {
	o, ok := r.Get("Service", namespace, name)
	if !ok {
		return Resolved{}, &Problem{"BackendNotFound", fmt.Sprintf("service %q not found in namespace %q", name, namespace)}
	}
	svc := o.(*corev1.Service)
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return Resolved{}, &Problem{"UnsupportedProtocol", fmt.Sprintf("service %s/%s is of type ExternalName, which has no endpoints to proxy to", namespace, name)}
	}
	var port *corev1.ServicePort
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if (p.Number != 0 && sp.Port == p.Number) || (p.Number == 0 && sp.Name == p.Name) {
			port = sp
			break
		}
	}
	if port == nil {
		return Resolved{}, &Problem{"BackendNotFound", fmt.Sprintf("service %s/%s has no port %s", namespace, name, p)}
	}
	if port.Protocol != "" && port.Protocol != corev1.ProtocolTCP {
		return Resolved{}, &Problem{"UnsupportedProtocol", fmt.Sprintf("port %s of service %s/%s is %s; HTTP needs TCP", p, namespace, name, port.Protocol)}
	}
	res := Resolved{Service: svc, Port: *port}
	seen := map[netip.AddrPort]bool{}
	for _, so := range r.List("EndpointSlice", namespace) {
		es := so.(*discoveryv1.EndpointSlice)
		if es.Labels[discoveryv1.LabelServiceName] != name {
			continue
		}
		var target int32
		for _, ep := range es.Ports {
			if ep.Port != nil && ptrString(ep.Name) == port.Name && (ep.Protocol == nil || *ep.Protocol == corev1.ProtocolTCP) {
				target = *ep.Port
			}
		}
		if target == 0 {
			continue
		}
		for _, e := range es.Endpoints {
			if e.Conditions.Ready != nil && !*e.Conditions.Ready {
				continue
			}
			for _, a := range e.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				ap := netip.AddrPortFrom(ip, uint16(target))
				if !seen[ap] {
					seen[ap] = true
					res.Endpoints = append(res.Endpoints, ap)
				}
			}
		}
	}
	sort.Slice(res.Endpoints, func(i, j int) bool { return res.Endpoints[i].Compare(res.Endpoints[j]) < 0 })
	return res, nil
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Certificate loads Secret namespace/name as a TLS keypair: a Secret of type
// kubernetes.io/tls (or Opaque with the same keys, which controllers also accept)
// holding tls.crt and tls.key.
func Certificate(r Reader, namespace, name string) (*tls.Certificate, *Problem) {
	o, ok := r.Get("Secret", namespace, name)
	if !ok {
		return nil, &Problem{"InvalidCertificateRef", fmt.Sprintf("secret %s/%s does not exist", namespace, name)}
	}
	s := o.(*corev1.Secret)
	crt, key := secretData(s, corev1.TLSCertKey), secretData(s, corev1.TLSPrivateKeyKey)
	if len(crt) == 0 || len(key) == 0 {
		return nil, &Problem{"InvalidCertificateRef", fmt.Sprintf("secret %s/%s has no %s and %s (a kubernetes.io/tls Secret holds both)", namespace, name, corev1.TLSCertKey, corev1.TLSPrivateKeyKey)}
	}
	c, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, &Problem{"InvalidCertificateRef", fmt.Sprintf("secret %s/%s: %v", namespace, name, err)}
	}
	return &c, nil
}

// secretData is data[k], or stringData[k] for a Secret stored without conversion.
func secretData(s *corev1.Secret, k string) []byte {
	if v, ok := s.Data[k]; ok {
		return v
	}
	return []byte(s.StringData[k])
}
