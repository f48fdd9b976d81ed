package services

import (
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/topology"
)

func ptr[T any](v T) *T { return &v }

// TestValidation asserts every message exactly, in the API server's words.
func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		svc  *v1.Service
		want []string
	}{
		{"name not a DNS label", svc("default", "Web_1"), []string{
			`metadata.name: Invalid value: "Web_1": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
		}},
		{"no ports", svc("default", "web", ports()), []string{
			`spec.ports: Required value`,
		}},
		{"port out of range", svc("default", "web", ports(v1.ServicePort{Port: 70000})), []string{
			`spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`,
			`spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive`, // defaulted from port
		}},
		{"port zero", svc("default", "web", ports(v1.ServicePort{Port: 0, TargetPort: intstr.FromInt32(80)})), []string{
			`spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive`,
		}},
		{"names required with two ports", svc("default", "web", ports(v1.ServicePort{Port: 80}, v1.ServicePort{Name: "b", Port: 81})), []string{
			`spec.ports[0].name: Required value`,
		}},
		{"duplicate port names", svc("default", "web", ports(named("http", 80, intstr.IntOrString{}, ""), named("http", 81, intstr.IntOrString{}, ""))), []string{
			`spec.ports[1].name: Duplicate value: "http"`,
		}},
		{"port name not a DNS label", svc("default", "web", ports(named("HTTP", 80, intstr.IntOrString{}, ""))), []string{
			`spec.ports[0].name: Invalid value: "HTTP": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
		}},
		{"duplicate port and protocol", svc("default", "web", ports(named("a", 80, intstr.FromInt32(8080), ""), named("b", 80, intstr.FromInt32(8081), v1.ProtocolTCP))), []string{
			`spec.ports[1]: Duplicate value: {"Protocol":"TCP","Port":80}`,
		}},
		{"same port, other protocol is fine", svc("default", "web", ports(named("dns", 53, intstr.IntOrString{}, v1.ProtocolUDP), named("dns-tcp", 53, intstr.IntOrString{}, v1.ProtocolTCP))), nil},
		{"protocol", svc("default", "web", ports(v1.ServicePort{Port: 80, Protocol: "ICMP"})), []string{
			`spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`,
		}},
		{"targetPort number", svc("default", "web", ports(v1.ServicePort{Port: 80, TargetPort: intstr.FromInt32(70000)})), []string{
			`spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive`,
		}},
		{"targetPort name too long", svc("default", "web", ports(v1.ServicePort{Port: 80, TargetPort: intstr.FromString("a-very-long-port-name")})), []string{
			`spec.ports[0].targetPort: Invalid value: "a-very-long-port-name": must be no more than 15 characters`,
		}},
		{"targetPort name without a letter", svc("default", "web", ports(v1.ServicePort{Port: 80, TargetPort: intstr.FromString("8080")})), []string{
			`spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)`,
		}},
		{"targetPort name with hyphens", svc("default", "web", ports(v1.ServicePort{Port: 80, TargetPort: intstr.FromString("-web--x")})), []string{
			`spec.ports[0].targetPort: Invalid value: "-web--x": must not contain consecutive hyphens`,
			`spec.ports[0].targetPort: Invalid value: "-web--x": must not begin or end with a hyphen`,
		}},
		{"type", svc("default", "web", func(s *v1.Service) { s.Spec.Type = "Balanced" }), []string{
			`spec.type: Unsupported value: "Balanced": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`,
		}},
		{"externalName required", svc("default", "db", func(s *v1.Service) { s.Spec.Type = v1.ServiceTypeExternalName }), []string{
			`spec.externalName: Required value`,
		}},
		{"externalName not a DNS name", svc("default", "db", func(s *v1.Service) {
			s.Spec.Type, s.Spec.ExternalName = v1.ServiceTypeExternalName, "db_1.example.com"
		}), []string{
			`spec.externalName: Invalid value: "db_1.example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		}},
		{"externalName with a trailing dot", svc("default", "db", func(s *v1.Service) {
			s.Spec.Type, s.Spec.ExternalName = v1.ServiceTypeExternalName, "db.example.com."
		}), nil},
		{"externalName has no clusterIP", svc("default", "db", clusterIP("10.96.0.50"), func(s *v1.Service) {
			s.Spec.Type, s.Spec.ExternalName = v1.ServiceTypeExternalName, "db.example.com"
		}), []string{
			`spec.clusterIPs: Forbidden: may not be set for ExternalName services`,
		}},
		{"headless NodePort", svc("default", "web", nodePort, clusterIP("None")), []string{
			`spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`,
		}},
		{"headless LoadBalancer", svc("default", "web", loadBalancer, clusterIP("None")), []string{
			`spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for LoadBalancer services`,
		}},
		{"headless without ports is fine", svc("default", "web", clusterIP("None"), ports()), nil},
		{"clusterIP not an IP", svc("default", "web", clusterIP("10.96.0.300")), []string{
			`spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
		}},
		{"nodePort on ClusterIP", svc("default", "web", withNodePort(0, 30080)), []string{
			"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
		}},
		{"duplicate nodePort", svc("default", "web", nodePort, ports(named("a", 80, intstr.IntOrString{}, ""), named("b", 81, intstr.IntOrString{}, "")), withNodePort(0, 30080), withNodePort(1, 30080)), []string{
			`spec.ports[1].nodePort: Duplicate value: 30080`,
		}},
		{"selector key", svc("default", "web", func(s *v1.Service) { s.Spec.Selector = map[string]string{"app/x/y": "web"} }), []string{
			`spec.selector: Invalid value: "app/x/y": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
		}},
		{"selector value", svc("default", "web", func(s *v1.Service) { s.Spec.Selector = map[string]string{"app": "web server"} }), []string{
			`spec.selector: Invalid value: "web server": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`,
		}},
		{"sessionAffinity", svc("default", "web", func(s *v1.Service) { s.Spec.SessionAffinity = "Cookie" }), []string{
			`spec.sessionAffinity: Unsupported value: "Cookie": supported values: "ClientIP", "None"`,
		}},
		{"ClientIP timeout zero", svc("default", "web", func(s *v1.Service) {
			s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: ptr(int32(0))}}
		}), []string{
			`spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 0: must be greater than 0 and less than 86400`,
		}},
		{"ClientIP timeout over a day", svc("default", "web", func(s *v1.Service) {
			s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: ptr(int32(86401))}}
		}), []string{
			`spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 86401: must be greater than 0 and less than 86400`,
		}},
		{"ClientIP timeout of a day is fine", svc("default", "web", func(s *v1.Service) {
			s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: ptr(int32(86400))}}
		}), nil},
		{"externalTrafficPolicy on ClusterIP", svc("default", "web", func(s *v1.Service) { s.Spec.ExternalTrafficPolicy = v1.ServiceExternalTrafficPolicyLocal }), []string{
			`spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services`,
		}},
		{"externalTrafficPolicy value", svc("default", "web", nodePort, func(s *v1.Service) { s.Spec.ExternalTrafficPolicy = "Nearest" }), []string{
			`spec.externalTrafficPolicy: Unsupported value: "Nearest": supported values: "Cluster", "Local"`,
		}},
		{"internalTrafficPolicy value", svc("default", "web", func(s *v1.Service) { s.Spec.InternalTrafficPolicy = ptr(v1.ServiceInternalTrafficPolicy("Node")) }), []string{
			`spec.internalTrafficPolicy: Unsupported value: "Node": supported values: "Cluster", "Local"`,
		}},
		{"healthCheckNodePort without eTP Local", svc("default", "web", loadBalancer, func(s *v1.Service) { s.Spec.HealthCheckNodePort = 30500 }), []string{
			"spec.healthCheckNodePort: Invalid value: 30500: may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
		}},
		{"allocateLoadBalancerNodePorts on NodePort", svc("default", "web", nodePort, func(s *v1.Service) { s.Spec.AllocateLoadBalancerNodePorts = ptr(false) }), []string{
			"spec.allocateLoadBalancerNodePorts: Forbidden: may only be used when `type` is 'LoadBalancer'",
		}},
		{"loadBalancerClass on NodePort", svc("default", "web", nodePort, func(s *v1.Service) { s.Spec.LoadBalancerClass = ptr("example.com/lb") }), []string{
			"spec.loadBalancerClass: Forbidden: may only be used when `type` is 'LoadBalancer'",
		}},
		{"loadBalancerSourceRanges", svc("default", "web", loadBalancer, func(s *v1.Service) { s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/33"} }), []string{
			`spec.LoadBalancerSourceRanges[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`,
		}},
		{"externalIP loopback", svc("default", "web", func(s *v1.Service) { s.Spec.ExternalIPs = []string{"127.0.0.1"} }), []string{
			`spec.externalIPs[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`,
		}},
		{"dual-stack required", svc("default", "web", func(s *v1.Service) { s.Spec.IPFamilyPolicy = ptr(v1.IPFamilyPolicyRequireDualStack) }), []string{
			`spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services`,
		}},
		{"IPv6 family", svc("default", "web", func(s *v1.Service) { s.Spec.IPFamilies = []v1.IPFamily{v1.IPv6Protocol} }), []string{
			`spec.ipFamilies[0]: Invalid value: "IPv6": not configured on this cluster`,
		}},
		{"several errors at once", svc("default", "web", nodePort, ports(v1.ServicePort{Port: 0, Protocol: "ICMP"}, v1.ServicePort{Name: "b", Port: 81})), []string{
			`spec.ports[0].name: Required value`,
			`spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive`,
			`spec.ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`,
			`spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRegistry(testConfig())
			_, err := r.Apply(tt.svc, topology.Pos{File: "lab.yaml", Line: 7, Col: 3})
			checkErrs(t, err, tt.want)
			if tt.want == nil {
				return
			}
			if !strings.HasPrefix(err.Error(), "lab.yaml:7:3: ") {
				t.Errorf("error does not start with the position: %q", err)
			}
			if len(r.List()) != 0 {
				t.Errorf("a rejected Service was stored")
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	r := NewRegistry(testConfig())
	got := mustApply(t, r, svc("", "web", loadBalancer, ports(named("http", 80, intstr.IntOrString{}, "")), func(s *v1.Service) {
		s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
	}))
	sp := got.Spec.Ports[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"namespace", got.Namespace, "default"},
		{"targetPort", sp.TargetPort, intstr.FromInt32(80)},
		{"protocol", sp.Protocol, v1.ProtocolTCP},
		{"type", got.Spec.Type, v1.ServiceTypeLoadBalancer},
		{"timeout", *got.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds, int32(10800)},
		{"eTP", got.Spec.ExternalTrafficPolicy, v1.ServiceExternalTrafficPolicyCluster},
		{"iTP", *got.Spec.InternalTrafficPolicy, v1.ServiceInternalTrafficPolicyCluster},
		{"families", got.Spec.IPFamilies, []v1.IPFamily{v1.IPv4Protocol}},
		{"policy", *got.Spec.IPFamilyPolicy, v1.IPFamilyPolicySingleStack},
		{"allocateLoadBalancerNodePorts", *got.Spec.AllocateLoadBalancerNodePorts, true},
		{"clusterIPs", got.Spec.ClusterIPs, []string{got.Spec.ClusterIP}},
		{"kind", got.Kind, "Service"},
		{"pending without a pool", len(got.Status.LoadBalancer.Ingress), 0},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}

	plain := mustApply(t, r, svc("", "plain"))
	if plain.Spec.SessionAffinity != v1.ServiceAffinityNone || plain.Spec.SessionAffinityConfig != nil ||
		plain.Spec.Type != v1.ServiceTypeClusterIP || plain.Spec.ExternalTrafficPolicy != "" || plain.Spec.AllocateLoadBalancerNodePorts != nil {
		t.Errorf("ClusterIP defaults: %+v", plain.Spec)
	}
	ext := mustApply(t, r, svc("", "db", func(s *v1.Service) {
		s.Spec.Type, s.Spec.ExternalName, s.Spec.Selector = v1.ServiceTypeExternalName, "db.example.com", nil
	}))
	if ext.Spec.ClusterIP != "" || ext.Spec.IPFamilies != nil || ext.Spec.InternalTrafficPolicy != nil {
		t.Errorf("ExternalName got ClusterIP fields: %+v", ext.Spec)
	}
	hl := mustApply(t, r, svc("", "peers", clusterIP("None"), func(s *v1.Service) { s.Spec.Selector = nil }))
	if hl.Spec.ClusterIP != "None" || !equal(hl.Spec.IPFamilies, []v1.IPFamily{v1.IPv4Protocol, v1.IPv6Protocol}) ||
		*hl.Spec.IPFamilyPolicy != v1.IPFamilyPolicyRequireDualStack {
		t.Errorf("headless selectorless: %+v", hl.Spec)
	}
}
