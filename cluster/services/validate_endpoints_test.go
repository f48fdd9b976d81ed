package services

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestValidateEndpointSlice(t *testing.T) {
	good := func() *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "ext-1", Labels: map[string]string{discoveryv1.LabelServiceName: "ext"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(int32(80))}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"172.30.0.100"}}},
		}
	}
	tests := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   []string
	}{
		{"valid", func(*discoveryv1.EndpointSlice) {}, nil},
		{"no name", func(s *discoveryv1.EndpointSlice) { s.Name = "" }, []string{`metadata.name: Required value: name or generateName is required`}},
		{"address type", func(s *discoveryv1.EndpointSlice) { s.AddressType = "IPv5" }, []string{`addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"`}},
		{"no address", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = nil }, []string{`endpoints[0].addresses: Required value: must contain at least 1 address`}},
		{"loopback", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"127.0.0.1"} },
			[]string{`endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`}},
		{"link-local", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"169.254.1.1"} },
			[]string{`endpoints[0].addresses[0]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)`}},
		{"IPv6 in IPv4 slice", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"fd00::1"} },
			[]string{`endpoints[0].addresses: Invalid value: "fd00::1": must be an IPv4 address`}},
		{"not an IP", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].Addresses = []string{"web"} },
			[]string{`endpoints[0].addresses[0]: Invalid value: "web": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
		{"duplicate port name", func(s *discoveryv1.EndpointSlice) {
			s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr("http"), Port: ptr(int32(81))})
		}, []string{`ports[1].name: Duplicate value: "http"`}},
		{"protocol", func(s *discoveryv1.EndpointSlice) { s.Ports[0].Protocol = ptr(v1.Protocol("ICMP")) },
			[]string{`ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`}},
		{"node name", func(s *discoveryv1.EndpointSlice) { s.Endpoints[0].NodeName = ptr("Worker_1") },
			[]string{`endpoints[0].nodeName: Invalid value: "Worker_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := good()
			tt.mutate(s)
			err := ValidateEndpointSlice(s)
			checkErrs(t, err, tt.want)
		})
	}
}

func TestValidateEndpoints(t *testing.T) {
	good := func() *v1.Endpoints {
		return &v1.Endpoints{
			ObjectMeta: metav1.ObjectMeta{Name: "ext"},
			Subsets: []v1.EndpointSubset{{
				Addresses: []v1.EndpointAddress{{IP: "172.30.0.100"}},
				Ports:     []v1.EndpointPort{{Port: 80}},
			}},
		}
	}
	tests := []struct {
		name   string
		mutate func(*v1.Endpoints)
		want   []string
	}{
		{"valid", func(*v1.Endpoints) {}, nil},
		{"empty subset", func(e *v1.Endpoints) { e.Subsets[0].Addresses = nil },
			[]string{"subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"}},
		{"bad IP", func(e *v1.Endpoints) { e.Subsets[0].Addresses[0].IP = "1.2.3" },
			[]string{`subsets[0].addresses[0].ip: Invalid value: "1.2.3": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
				`subsets[0].addresses[0].ip: Invalid value: "1.2.3": must be a valid IP address`}},
		{"loopback not ready", func(e *v1.Endpoints) { e.Subsets[0].NotReadyAddresses = []v1.EndpointAddress{{IP: "127.0.0.2"}} },
			[]string{`subsets[0].notReadyAddresses[0].ip: Invalid value: "127.0.0.2": may not be in the loopback range (127.0.0.0/8, ::1/128)`}},
		{"port names with two ports", func(e *v1.Endpoints) {
			e.Subsets[0].Ports = append(e.Subsets[0].Ports, v1.EndpointPort{Name: "b", Port: 81})
		},
			[]string{`subsets[0].ports[0].name: Required value`}},
		{"port range", func(e *v1.Endpoints) { e.Subsets[0].Ports[0].Port = 0 },
			[]string{`subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive`}},
		{"protocol", func(e *v1.Endpoints) { e.Subsets[0].Ports[0].Protocol = "icmp" },
			[]string{`subsets[0].ports[0].protocol: Unsupported value: "icmp": supported values: "SCTP", "TCP", "UDP"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := good()
			tt.mutate(e)
			err := ValidateEndpoints(e)
			checkErrs(t, err, tt.want)
		})
	}
}
