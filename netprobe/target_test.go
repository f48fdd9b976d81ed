package netprobe

import (
	"net/netip"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/services"
)

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Target
		err  string
	}{
		{in: "y/b", want: Target{Kind: ToPod, Namespace: "y", Name: "b"}},
		{in: "10.96.0.10", want: Target{Kind: ToIP, IP: netip.MustParseAddr("10.96.0.10")}},
		{in: "web.shop", want: Target{Kind: ToService, Namespace: "shop", Name: "web", Host: "web.shop"}},
		{in: "web", want: Target{Kind: ToName, Host: "web"}},
		{in: "web.shop.svc.cluster.local", want: Target{Kind: ToName, Host: "web.shop.svc.cluster.local"}},
		{in: "example.com.", want: Target{Kind: ToName, Host: "example.com."}},
		{in: "y/", err: "expected NAMESPACE/POD"},
		{in: "Y/b", err: "expected NAMESPACE/POD"},
		{in: "a/b/c", err: "expected NAMESPACE/POD"},
		{in: "::1", err: "IPv4"},
		{in: "bad_name", err: "expected NS/POD, SVC.NS"},
		{in: "", err: "expected NS/POD, SVC.NS"},
	} {
		got, err := ParseTarget(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseTarget(%q) = %+v, %v; want an error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseProtocol(t *testing.T) {
	for in, want := range map[string]string{"tcp": "TCP", "UDP": "UDP", "sctp": "SCTP", "icmp": "", "": ""} {
		got, err := ParseProtocol(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("ParseProtocol(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestServiceFor(t *testing.T) {
	svc := func(name, ip string, sel map[string]string, ports ...v1.ServicePort) *v1.Service {
		return &v1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: name},
			Spec: v1.ServiceSpec{ClusterIP: ip, Selector: sel, Ports: ports}}
	}
	tcp80 := v1.ServicePort{Port: 80, Protocol: v1.ProtocolTCP}
	udp81 := v1.ServicePort{Port: 81, Protocol: v1.ProtocolUDP}
	a := &services.Pod{Namespace: "x", Name: "a", Labels: map[string]string{"pod": "a", "app": "web"}}
	b := &services.Pod{Namespace: "x", Name: "b", Labels: map[string]string{"pod": "b", "app": "web"}}
	other := &services.Pod{Namespace: "y", Name: "a", Labels: map[string]string{"pod": "a"}}
	pods := []*services.Pod{a, b, other}
	svcs := []*v1.Service{
		svc("web", "10.96.0.20", map[string]string{"app": "web"}, tcp80),
		svc("headless", "None", map[string]string{"pod": "a"}, tcp80),
		svc("s-a", "10.96.0.21", map[string]string{"pod": "a"}, tcp80, udp81),
		svc("s-b", "10.96.0.22", map[string]string{"pod": "b"}, udp81),
	}
	for _, tc := range []struct {
		pod        *services.Pod
		port       int32
		proto, svc string
		err        string
	}{
		{pod: a, port: 80, proto: "TCP", svc: "s-a"},
		{pod: a, port: 81, proto: "UDP", svc: "s-a"},
		{pod: b, port: 81, proto: "UDP", svc: "s-b"},
		{pod: b, port: 80, proto: "TCP", err: "x/s-b has no port 80/TCP"},
		{pod: a, port: 82, proto: "TCP", err: "no Service with a ClusterIP selects exactly x/a on port 82/TCP"},
		{pod: other, port: 80, proto: "TCP", err: "no Service"},
	} {
		got, err := ServiceFor(tc.pod, pods, svcs, tc.port, tc.proto)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s/%s %d/%s: %v, %v; want error %q", tc.pod.Namespace, tc.pod.Name, tc.port, tc.proto, got, err, tc.err)
		case tc.err == "" && (err != nil || got.Name != tc.svc):
			t.Errorf("%s/%s %d/%s: %v, %v; want %s", tc.pod.Namespace, tc.pod.Name, tc.port, tc.proto, got, err, tc.svc)
		}
	}
}
