package printers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func service(typ corev1.ServiceType, edit func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: meta("web"), Spec: corev1.ServiceSpec{
		Type: typ, ClusterIP: "10.96.0.10", ClusterIPs: []string{"10.96.0.10"},
		Ports: []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP}}, Selector: map[string]string{"app": "web"},
	}}
	if edit != nil {
		edit(s)
	}
	return s
}

func lbIngress(addrs ...string) func(*corev1.Service) {
	return func(s *corev1.Service) {
		for _, a := range addrs {
			s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: a})
		}
	}
}

func TestService(t *testing.T) {
	checkRows(t, []rowCase{
		{"cluster IP", service(corev1.ServiceTypeClusterIP, nil), "web|ClusterIP|10.96.0.10|<none>|80/TCP|3h|app=web"},
		{"type and protocol defaulted, clusterIPs unset", service("", func(s *corev1.Service) {
			s.Spec.ClusterIPs = nil
			s.Spec.Ports = []corev1.ServicePort{{Port: 80}, {Port: 53, Protocol: corev1.ProtocolUDP}}
		}), "web|ClusterIP|10.96.0.10|<none>|80/TCP,53/UDP|3h|app=web"},
		{"external IPs", service(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"192.0.2.10", "192.0.2.11"}
		}), "web|ClusterIP|10.96.0.10|192.0.2.10,192.0.2.11|80/TCP|3h|app=web"},
		{"headless, no selector", service(corev1.ServiceTypeClusterIP, func(s *corev1.Service) {
			s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.Selector = "None", []string{"None"}, nil
		}), "web|ClusterIP|None|<none>|80/TCP|3h|<none>"},
		{"node port", service(corev1.ServiceTypeNodePort, func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Port: 80, NodePort: 30008, Protocol: "TCP"}, {Port: 443, NodePort: 30443, Protocol: "TCP"}}
		}), "web|NodePort|10.96.0.10|<none>|80:30008/TCP,443:30443/TCP|3h|app=web"},
		{"load balancer pending", service(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Spec.Ports[0].NodePort = 31000
		}), "web|LoadBalancer|10.96.0.10|<pending>|80:31000/TCP|3h|app=web"},
		{"load balancer addresses sorted and distinct", service(corev1.ServiceTypeLoadBalancer, lbIngress("10.0.0.2", "10.0.0.1", "10.0.0.1")),
			"web|LoadBalancer|10.96.0.10|10.0.0.1,10.0.0.2|80/TCP|3h|app=web"},
		{"load balancer hostname", service(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example"}}
		}), "web|LoadBalancer|10.96.0.10|lb.example|80/TCP|3h|app=web"},
		{"load balancer and external IPs", service(corev1.ServiceTypeLoadBalancer, func(s *corev1.Service) {
			lbIngress("10.0.0.1")(s)
			s.Spec.ExternalIPs = []string{"192.0.2.10"}
		}), "web|LoadBalancer|10.96.0.10|10.0.0.1,192.0.2.10|80/TCP|3h|app=web"},
		{"external name", &corev1.Service{ObjectMeta: meta("db"), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com",
		}}, "db|ExternalName|<none>|db.example.com|<none>|3h|<none>"},
		{"unknown type", service("Weird", nil), "web|Weird|10.96.0.10|<unknown>|80/TCP|3h|app=web"},
	})
}

// Without -o wide, kubectl clips load-balancer addresses to 16 characters.
func TestServiceClipsAddresses(t *testing.T) {
	s := service(corev1.ServiceTypeLoadBalancer, lbIngress("10.0.0.1", "10.0.0.2"))
	tab := Table("Service", []runtime.Object{s}, now, false, false)
	if got := tab[1][3]; got != "10.0.0.1,10.0..." {
		t.Errorf("EXTERNAL-IP = %q, want 10.0.0.1,10.0...", got)
	}
	tab = Table("Service", []runtime.Object{s}, now, true, false)
	if got := tab[1][3]; got != "10.0.0.1,10.0.0.2" {
		t.Errorf("wide EXTERNAL-IP = %q, want 10.0.0.1,10.0.0.2", got)
	}
}

func subset(ports []int32, ips ...string) corev1.EndpointSubset {
	var ss corev1.EndpointSubset
	for _, ip := range ips {
		ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: ip})
	}
	for _, p := range ports {
		ss.Ports = append(ss.Ports, corev1.EndpointPort{Port: p})
	}
	return ss
}

func TestEndpoints(t *testing.T) {
	eps := func(subsets ...corev1.EndpointSubset) *corev1.Endpoints {
		return &corev1.Endpoints{ObjectMeta: meta("web"), Subsets: subsets}
	}
	checkRows(t, []rowCase{
		{"no subsets", eps(), "web|<none>|3h"},
		{"two", eps(subset([]int32{80}, "10.0.0.1", "10.0.0.2")), "web|10.0.0.1:80,10.0.0.2:80|3h"},
		{"three", eps(subset([]int32{80}, "10.0.0.1", "10.0.0.2", "10.0.0.3")), "web|10.0.0.1:80,10.0.0.2:80,10.0.0.3:80|3h"},
		{"five", eps(subset([]int32{80}, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5")),
			"web|10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 2 more...|3h"},
		{"each address with each port", eps(subset([]int32{80, 443}, "10.0.0.1", "10.0.0.2")),
			"web|10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...|3h"},
		{"across subsets", eps(subset([]int32{80}, "10.0.0.1", "10.0.0.2"), subset([]int32{8080}, "10.0.0.3", "10.0.0.4")),
			"web|10.0.0.1:80,10.0.0.2:80,10.0.0.3:8080 + 1 more...|3h"},
		{"headless without ports", eps(subset(nil, "10.0.0.1", "10.0.0.2")), "web|10.0.0.1,10.0.0.2|3h"},
		{"IPv6", eps(subset([]int32{80}, "fd00::1")), "web|[fd00::1]:80|3h"},
		{"only not-ready addresses", eps(corev1.EndpointSubset{
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}}, Ports: []corev1.EndpointPort{{Port: 80}},
		}), "web||3h"},
	})
}

func TestEndpointSlice(t *testing.T) {
	endpoint := func(ips ...string) discoveryv1.Endpoint { return discoveryv1.Endpoint{Addresses: ips} }
	checkRows(t, []rowCase{
		{"empty", &discoveryv1.EndpointSlice{ObjectMeta: meta("web-abc12"), AddressType: discoveryv1.AddressTypeIPv4},
			"web-abc12|IPv4|<unset>|<unset>|3h"},
		{"ports by number, name or any", &discoveryv1.EndpointSlice{
			ObjectMeta:  meta("web-abc12"),
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(80))}, {Name: ptr("dns")}, {}},
			Endpoints:   []discoveryv1.Endpoint{endpoint("10.0.0.1"), endpoint("10.0.0.2")},
		}, "web-abc12|IPv4|80,dns,*|10.0.0.1,10.0.0.2|3h"},
		{"more than three", &discoveryv1.EndpointSlice{
			ObjectMeta:  meta("web-abc12"),
			AddressType: discoveryv1.AddressTypeIPv6,
			Ports:       []discoveryv1.EndpointPort{{Port: ptr(int32(1))}, {Port: ptr(int32(2))}, {Port: ptr(int32(3))}, {Port: ptr(int32(4))}},
			Endpoints:   []discoveryv1.Endpoint{endpoint("fd00::1", "fd00::2"), endpoint("fd00::3"), endpoint("fd00::4"), endpoint("fd00::5")},
		}, "web-abc12|IPv6|1,2,3 + 1 more...|fd00::1,fd00::2,fd00::3 + 2 more...|3h"},
	})
}

func TestIngress(t *testing.T) {
	rules := func(hosts ...string) []networkingv1.IngressRule {
		var r []networkingv1.IngressRule
		for _, h := range hosts {
			r = append(r, networkingv1.IngressRule{Host: h})
		}
		return r
	}
	checkRows(t, []rowCase{
		{"any host, no address yet", &networkingv1.Ingress{ObjectMeta: meta("web"), Spec: networkingv1.IngressSpec{Rules: rules("")}},
			"web|<none>|*||80|3h"},
		{"class, hosts, TLS, address", &networkingv1.Ingress{
			ObjectMeta: meta("web"),
			Spec: networkingv1.IngressSpec{
				IngressClassName: ptr("nginx"), Rules: rules("shop.example", "api.example"),
				TLS: []networkingv1.IngressTLS{{Hosts: []string{"shop.example"}}},
			},
			Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{
				Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "192.0.2.1"}},
			}},
		}, "web|nginx|shop.example,api.example|192.0.2.1|80, 443|3h"},
		{"three hosts and more rules", &networkingv1.Ingress{ObjectMeta: meta("web"), Spec: networkingv1.IngressSpec{
			Rules: rules("", "a.example", "b.example", "c.example", "d.example"),
		}}, "web|<none>|a.example,b.example,c.example + 2 more...||80|3h"},
		{"rules without a host are left out", &networkingv1.Ingress{ObjectMeta: meta("web"), Spec: networkingv1.IngressSpec{
			Rules: rules("a.example", "", ""),
		}}, "web|<none>|a.example||80|3h"},
	})
}

func TestNetworkPolicy(t *testing.T) {
	checkRows(t, []rowCase{
		{"every pod", &networkingv1.NetworkPolicy{ObjectMeta: meta("deny-all")}, "deny-all|<none>|3h"},
		{"selected pods", &networkingv1.NetworkPolicy{ObjectMeta: meta("db"), Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"role": "db"}},
		}}, "db|role=db|3h"},
	})
}
