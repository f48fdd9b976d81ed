package printers

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var (
	serviceColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Type", "string", corev1.ServiceSpec{}.SwaggerDoc()["type"]),
		column("Cluster-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["clusterIP"]),
		column("External-IP", "string", corev1.ServiceSpec{}.SwaggerDoc()["externalIPs"]),
		column("Port(s)", "string", corev1.ServiceSpec{}.SwaggerDoc()["ports"]),
		ageColumn,
		wideColumn("Selector", corev1.ServiceSpec{}.SwaggerDoc()["selector"]),
	}
	endpointsColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Endpoints", "string", corev1.Endpoints{}.SwaggerDoc()["subsets"]),
		ageColumn,
	}
	endpointSliceColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("AddressType", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]),
		column("Ports", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]),
		column("Endpoints", "string", discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]),
		ageColumn,
	}
	ingressColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Class", "string", "The name of the IngressClass resource that should be used for additional configuration"),
		column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
		column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
		column("Ports", "string", "Ports of TLS configurations that open"),
		ageColumn,
	}
	networkPolicyColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Pod-Selector", "string", networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]),
		ageColumn,
	}
)

// listMax is how many items kubectl lists in a cell before "+ N more...".
const listMax = 3

// loadBalancerWidth is how long a load-balancer address cell may be without -o wide.
const loadBalancerWidth = 16

func serviceRow(s *corev1.Service, now time.Time, wide bool) []string {
	typ := s.Spec.Type
	if typ == "" {
		typ = corev1.ServiceTypeClusterIP
	}
	clusterIP := s.Spec.ClusterIP
	if len(s.Spec.ClusterIPs) > 0 {
		clusterIP = s.Spec.ClusterIPs[0]
	}
	ports := make([]string, len(s.Spec.Ports))
	for i, p := range s.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		ports[i] = fmt.Sprintf("%d/%s", p.Port, proto)
		if p.NodePort > 0 {
			ports[i] = fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, proto)
		}
	}
	return []string{
		s.Name, string(typ), orNone(clusterIP), externalIP(s, typ, wide), orNone(strings.Join(ports, ",")),
		since(s.CreationTimestamp, now), labels.FormatLabels(s.Spec.Selector),
	}
}

// externalIP is kubectl's EXTERNAL-IP: the external IPs, for a LoadBalancer the
// ingress addresses first and <pending> until it has some, for an ExternalName
// the name.
func externalIP(s *corev1.Service, typ corev1.ServiceType, wide bool) string {
	switch typ {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return orNone(strings.Join(s.Spec.ExternalIPs, ","))
	case corev1.ServiceTypeLoadBalancer:
		var addrs []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			addrs = append(addrs, ingressAddress(in.IP, in.Hostname))
		}
		lb := loadBalancerCell(addrs, wide)
		if len(s.Spec.ExternalIPs) > 0 {
			var all []string
			if lb != "" {
				all = strings.Split(lb, ",")
			}
			return strings.Join(append(all, s.Spec.ExternalIPs...), ",")
		}
		if lb == "" {
			return "<pending>"
		}
		return lb
	case corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	}
	return "<unknown>"
}

func ingressAddress(ip, hostname string) string {
	if ip != "" {
		return ip
	}
	return hostname
}

// loadBalancerCell is kubectl's loadBalancerStatusStringer: the sorted, distinct,
// non-empty addresses, clipped to loadBalancerWidth unless wide.
func loadBalancerCell(addrs []string, wide bool) string {
	addrs = slices.DeleteFunc(slices.Clone(addrs), func(a string) bool { return a == "" })
	slices.Sort(addrs)
	r := strings.Join(slices.Compact(addrs), ",")
	if !wide && len(r) > loadBalancerWidth {
		r = r[:loadBalancerWidth-3] + "..."
	}
	return r
}

// endpointsRow lists the ready addresses with each port, three at the most: a
// Service's endpoints as kubectl formatEndpoints shows them.
func endpointsRow(e *corev1.Endpoints, now time.Time, _ bool) []string {
	cell := "<none>"
	if len(e.Subsets) > 0 {
		var list []string
		count := 0
		for _, ss := range e.Subsets {
			if len(ss.Ports) == 0 { // a headless Service may have no ports
				count += len(ss.Addresses)
				for _, a := range ss.Addresses {
					list = append(list, a.IP)
				}
				continue
			}
			for _, p := range ss.Ports {
				count += len(ss.Addresses)
				for _, a := range ss.Addresses {
					list = append(list, net.JoinHostPort(a.IP, strconv.Itoa(int(p.Port))))
				}
			}
		}
		cell = strings.Join(list[:min(len(list), listMax)], ",")
		if count > listMax {
			cell += fmt.Sprintf(" + %d more...", count-listMax)
		}
	}
	return []string{e.Name, cell, since(e.CreationTimestamp, now)}
}

func endpointSliceRow(es *discoveryv1.EndpointSlice, now time.Time, _ bool) []string {
	ports := make([]string, len(es.Ports))
	for i, p := range es.Ports {
		switch {
		case p.Port != nil:
			ports[i] = strconv.Itoa(int(*p.Port))
		case p.Name != nil:
			ports[i] = *p.Name
		default:
			ports[i] = "*"
		}
	}
	var addrs []string
	for _, e := range es.Endpoints {
		addrs = append(addrs, e.Addresses...)
	}
	return []string{es.Name, string(es.AddressType), moreList(ports), moreList(addrs), since(es.CreationTimestamp, now)}
}

// moreList is kubectl's listWithMoreString: three items and a count of the rest,
// or <unset> for none.
func moreList(items []string) string {
	if len(items) == 0 {
		return "<unset>"
	}
	if len(items) > listMax {
		return strings.Join(items[:listMax], ",") + fmt.Sprintf(" + %d more...", len(items)-listMax)
	}
	return strings.Join(items, ",")
}

func ingressRow(ing *networkingv1.Ingress, now time.Time, wide bool) []string {
	class := "<none>"
	if ing.Spec.IngressClassName != nil {
		class = *ing.Spec.IngressClassName
	}
	// kubectl lists the first three hosts and, if any rule follows them, counts
	// every rule but three as more.
	var hosts []string
	more := false
	for _, r := range ing.Spec.Rules {
		if len(hosts) == listMax {
			more = true
			break
		}
		if r.Host != "" {
			hosts = append(hosts, r.Host)
		}
	}
	hostCell := strings.Join(hosts, ",")
	switch {
	case hostCell == "":
		hostCell = "*"
	case more:
		hostCell += fmt.Sprintf(" + %d more...", len(ing.Spec.Rules)-listMax)
	}
	var addrs []string
	for _, in := range ing.Status.LoadBalancer.Ingress {
		addrs = append(addrs, ingressAddress(in.IP, in.Hostname))
	}
	ports := "80"
	if len(ing.Spec.TLS) > 0 {
		ports = "80, 443"
	}
	return []string{ing.Name, class, hostCell, loadBalancerCell(addrs, wide), ports, since(ing.CreationTimestamp, now)}
}

func networkPolicyRow(np *networkingv1.NetworkPolicy, now time.Time, _ bool) []string {
	return []string{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), since(np.CreationTimestamp, now)}
}
