package netprobe

import (
	"fmt"
	"net/netip"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"podlab.dev/podlab/cluster/services"
)

// Kind is what a probe's --to names.
type Kind int

const (
	ToPod     Kind = iota // NS/POD
	ToService             // SVC.NS, when the lab has that Service; else a name
	ToIP                  // an address
	ToName                // a DNS name, resolved by the cluster DNS from the source pod
)

// Target is a parsed --to.
type Target struct {
	Kind            Kind
	Namespace, Name string     // ToPod, ToService
	IP              netip.Addr // ToIP
	Host            string     // ToName: as written (SVC.NS too, if no such Service)
}

// ParsePod reads NS/POD.
func ParsePod(s string) (ns, name string, err error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || validation.IsDNS1123Label(ns) != nil || validation.IsDNS1123Subdomain(name) != nil {
		return "", "", fmt.Errorf("pod %q: expected NAMESPACE/POD, such as x/a", s)
	}
	return ns, name, nil
}

// ParseTarget reads --to: NS/POD, an IP address, or a name. A name of two labels
// (web.shop) may be SVC.NS: the caller looks the Service up and resolves the name
// through DNS when the lab has none.
func ParseTarget(s string) (Target, error) {
	if strings.Contains(s, "/") {
		ns, name, err := ParsePod(s)
		return Target{Kind: ToPod, Namespace: ns, Name: name}, err
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		if !ip.Is4() {
			return Target{}, fmt.Errorf("address %s: the lab's pods and Services are IPv4", s)
		}
		return Target{Kind: ToIP, IP: ip}, nil
	}
	host := strings.TrimSuffix(s, ".")
	if host == "" || validation.IsDNS1123Subdomain(strings.ToLower(host)) != nil {
		return Target{}, fmt.Errorf("target %q: expected NS/POD, SVC.NS, an IP address or a DNS name", s)
	}
	if svc, ns, ok := strings.Cut(host, "."); ok && !strings.Contains(ns, ".") && !strings.HasSuffix(s, ".") {
		return Target{Kind: ToService, Namespace: ns, Name: svc, Host: s}, nil
	}
	return Target{Kind: ToName, Host: s}, nil
}

// ParseProtocol reads --protocol as the API spells it.
func ParseProtocol(s string) (string, error) {
	p := strings.ToUpper(s)
	if p != "TCP" && p != "UDP" && p != "SCTP" {
		return "", fmt.Errorf("protocol %q: expected tcp, udp or sctp", s)
	}
	return p, nil
}

// ServicePort finds the port of svc that serves port/protocol, as kube-proxy matches
// a ClusterIP's packets; ok is false when there is none.
func ServicePort(svc *v1.Service, port int32, protocol string) (v1.ServicePort, bool) {
	for _, p := range svc.Spec.Ports {
		proto := string(p.Protocol)
		if proto == "" {
			proto = "TCP"
		}
		if p.Port == port && proto == protocol {
			return p, true
		}
	}
	return v1.ServicePort{}, false
}

// ClusterIP is svc's virtual address, invalid for headless and ExternalName Services.
func ClusterIP(svc *v1.Service) netip.Addr {
	ip, _ := netip.ParseAddr(svc.Spec.ClusterIP)
	if svc.Spec.Type == v1.ServiceTypeExternalName {
		return netip.Addr{}
	}
	return ip
}

// ServiceFor finds the Service with a ClusterIP that selects pod and no other pod of
// pods and serves port/protocol, for a matrix probed through Services. The error says
// why there is none, for the caller to print.
func ServiceFor(pod *services.Pod, pods []*services.Pod, svcs []*v1.Service, port int32, protocol string) (*v1.Service, error) {
	var near string
	for _, svc := range svcs {
		if !ClusterIP(svc).IsValid() || !services.Selects(svc, pod) {
			continue
		}
		only := true
		for _, other := range pods {
			if other != pod && services.Selects(svc, other) {
				only = false
				break
			}
		}
		if !only {
			near = fmt.Sprintf(" (%s/%s selects other pods too)", svc.Namespace, svc.Name)
			continue
		}
		if _, ok := ServicePort(svc, port, protocol); !ok {
			near = fmt.Sprintf(" (%s/%s has no port %d/%s)", svc.Namespace, svc.Name, port, protocol)
			continue
		}
		return svc, nil
	}
	return nil, fmt.Errorf("no Service with a ClusterIP selects exactly %s/%s on port %d/%s%s", pod.Namespace, pod.Name, port, protocol, near)
}
