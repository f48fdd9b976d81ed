package services

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/topology"
)

func pod(ns, name, node, ip string, labels map[string]string, ready bool, ps ...topology.Port) Pod {
	var a netip.Addr
	if ip != "" {
		a = netip.MustParseAddr(ip)
	}
	return Pod{Namespace: ns, Name: name, Node: node, IP: a, Labels: labels, Ready: ready, Ports: ps}
}

var web = map[string]string{"app": "web"}

// describe renders slices compactly: name ports | ip(node) r/s/t ...
func describe(ss []*discoveryv1.EndpointSlice) []string {
	var out []string
	for _, s := range ss {
		var ps []string
		for _, p := range s.Ports {
			ps = append(ps, fmt.Sprintf("%s:%d/%s", *p.Name, *p.Port, *p.Protocol))
		}
		line := "[" + strings.Join(ps, ",") + "]"
		for _, e := range s.Endpoints {
			c := e.Conditions
			line += fmt.Sprintf(" %s(%s)%s", e.Addresses[0], *e.NodeName, flags(*c.Ready, *c.Serving, *c.Terminating))
		}
		out = append(out, line)
	}
	return out
}

func flags(r, s, t bool) string {
	b := []byte("---")
	if r {
		b[0] = 'R'
	}
	if s {
		b[1] = 'S'
	}
	if t {
		b[2] = 'T'
	}
	return string(b)
}

func TestEndpointSlicesConditions(t *testing.T) {
	s := svc("default", "web", clusterIP("10.96.0.50"))
	s.Labels = map[string]string{"tier": "front", discoveryv1.LabelManagedBy: "someone-else"}
	s.UID = "uid-1"
	pods := []Pod{
		pod("default", "b-ready", "worker-2", "10.244.2.2", web, true),
		pod("default", "a-notready", "worker-1", "10.244.1.2", web, false),
		pod("default", "c-terminating", "worker-1", "10.244.1.3", web, true),
		pod("default", "d-noip", "worker-1", "", web, true),
		pod("shop", "other-ns", "worker-1", "10.244.1.9", web, true),
		pod("default", "other-app", "worker-1", "10.244.1.10", map[string]string{"app": "api"}, true),
		pod("default", "partial", "worker-1", "10.244.1.11", map[string]string{"tier": "front"}, true),
		pod("default", "superset", "worker-2", "10.244.2.9", map[string]string{"app": "web", "extra": "x"}, true),
	}
	pods[2].Terminating = true
	got := EndpointSlices(s, pods)
	want := []string{"[:80/TCP] 10.244.1.2(worker-1)--- 10.244.1.3(worker-1)-ST 10.244.2.2(worker-2)RS- 10.244.2.9(worker-2)RS-"}
	if d := describe(got); !slices.Equal(d, want) {
		t.Fatalf("slices:\n got %q\nwant %q", d, want)
	}
	sl := got[0]
	if !strings.HasPrefix(sl.Name, "web-") || len(sl.Name) != len("web-")+5 {
		t.Errorf("name %q, want web-xxxxx", sl.Name)
	}
	wantLabels := map[string]string{"tier": "front", discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: SliceControllerName}
	if !equal(sl.Labels, wantLabels) || sl.AddressType != discoveryv1.AddressTypeIPv4 || sl.Namespace != "default" {
		t.Errorf("meta: %v %s %s", sl.Labels, sl.AddressType, sl.Namespace)
	}
	if ref := sl.Endpoints[0].TargetRef; ref.Kind != "Pod" || ref.Name != "a-notready" || ref.Namespace != "default" {
		t.Errorf("targetRef %+v", ref)
	}
	if o := sl.OwnerReferences; len(o) != 1 || o[0].Kind != "Service" || o[0].UID != "uid-1" || !*o[0].Controller {
		t.Errorf("ownerReferences %+v", o)
	}
	// Deterministic: the same input gives the same slices.
	if again := EndpointSlices(s, pods); !equal(again, got) {
		t.Errorf("two calls differ")
	}

	// publishNotReadyAddresses makes every endpoint ready, terminating included.
	s.Spec.PublishNotReadyAddresses = true
	want = []string{"[:80/TCP] 10.244.1.2(worker-1)R-- 10.244.1.3(worker-1)RST 10.244.2.2(worker-2)RS- 10.244.2.9(worker-2)RS-"}
	if d := describe(EndpointSlices(s, pods)); !slices.Equal(d, want) {
		t.Errorf("publishNotReadyAddresses:\n got %q\nwant %q", d, want)
	}
}

func TestEndpointSlicesNamedPorts(t *testing.T) {
	s := svc("default", "web", ports(
		named("http", 80, intstr.FromString("http"), ""),
		named("metrics", 9090, intstr.FromString("metrics"), ""),
		named("dns", 53, intstr.FromString("dns"), v1.ProtocolUDP),
	))
	pods := []Pod{
		pod("default", "web-1", "worker-1", "10.244.1.2", web, true, topology.Port{Name: "http", Port: 8080, Protocol: "TCP"}, topology.Port{Name: "metrics", Port: 9100, Protocol: "TCP"}),
		pod("default", "web-2", "worker-2", "10.244.2.2", web, true, topology.Port{Name: "http", Port: 8080, Protocol: "TCP"}, topology.Port{Name: "metrics", Port: 9100, Protocol: "TCP"}),
		pod("default", "web-3", "worker-1", "10.244.1.3", web, true, topology.Port{Name: "http", Port: 8081, Protocol: "TCP"}, topology.Port{Name: "metrics", Port: 9100}),
		// no metrics port, and "dns" only over TCP: left out of those port groups
		pod("default", "web-4", "worker-2", "10.244.2.3", web, true, topology.Port{Name: "http", Port: 8080, Protocol: "TCP"}, topology.Port{Name: "dns", Port: 53, Protocol: "TCP"}),
		pod("default", "web-5", "worker-2", "10.244.2.4", web, true, topology.Port{Name: "dns", Port: 5353, Protocol: "UDP"}),
		pod("default", "web-6", "worker-2", "10.244.2.5", web, true), // resolves nothing
	}
	got := describe(EndpointSlices(s, pods))
	slices.Sort(got)
	want := []string{
		"[] 10.244.2.5(worker-2)RS-",
		"[dns:5353/UDP] 10.244.2.4(worker-2)RS-",
		"[http:8080/TCP,metrics:9100/TCP] 10.244.1.2(worker-1)RS- 10.244.2.2(worker-2)RS-",
		"[http:8080/TCP] 10.244.2.3(worker-2)RS-",
		"[http:8081/TCP,metrics:9100/TCP] 10.244.1.3(worker-1)RS-",
	}
	if !slices.Equal(got, want) {
		t.Errorf("slices:\n got %q\nwant %q", got, want)
	}
	ss := EndpointSlices(s, pods)
	names := map[string]bool{}
	for _, sl := range ss {
		names[sl.Name] = true
	}
	if len(names) != len(ss) {
		t.Errorf("slice names collide: %v", names)
	}
}

func TestEndpointSlicesSplit(t *testing.T) {
	s := svc("default", "big")
	var pods []Pod
	for i := range 250 {
		pods = append(pods, pod("default", fmt.Sprintf("p%03d", i), "worker-1", fmt.Sprintf("10.244.%d.%d", i/200, i%200+2), map[string]string{"app": "big"}, true))
	}
	ss := EndpointSlices(s, pods)
	var sizes []int
	seen := map[string]bool{}
	for _, sl := range ss {
		sizes = append(sizes, len(sl.Endpoints))
		for _, e := range sl.Endpoints {
			if seen[e.Addresses[0]] {
				t.Errorf("%s in two slices", e.Addresses[0])
			}
			seen[e.Addresses[0]] = true
		}
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{50, 100, 100}) || len(seen) != 250 {
		t.Errorf("slice sizes %v, %d endpoints", sizes, len(seen))
	}
	// Names stay put when pods come and go.
	names := func(ss []*discoveryv1.EndpointSlice) []string {
		var n []string
		for _, s := range ss {
			n = append(n, s.Name)
		}
		return n
	}
	if a, b := names(ss), names(EndpointSlices(s, pods[:220])); !slices.Equal(a, b) {
		t.Errorf("names changed with fewer pods: %v vs %v", a, b)
	}
}

func TestEndpointSlicesKinds(t *testing.T) {
	pods := []Pod{pod("default", "web-1", "worker-1", "10.244.1.2", web, true)}
	selectorless := svc("default", "ext", func(s *v1.Service) { s.Spec.Selector = nil })
	emptySelector := svc("default", "ext", func(s *v1.Service) { s.Spec.Selector = map[string]string{} })
	extName := svc("default", "web", func(s *v1.Service) { s.Spec.Type, s.Spec.ExternalName = v1.ServiceTypeExternalName, "web.example.com" })
	for _, s := range []*v1.Service{selectorless, emptySelector, extName} {
		if got := EndpointSlices(s, pods); got != nil {
			t.Errorf("%s: got slices %v", s.Name, describe(got))
		}
		if got := Endpoints(s, pods); got != nil {
			t.Errorf("%s: got Endpoints %+v", s.Name, got)
		}
	}
	headless := svc("default", "web", clusterIP("None"), ports())
	got := EndpointSlices(headless, pods)
	if d := describe(got); !slices.Equal(d, []string{"[] 10.244.1.2(worker-1)RS-"}) || got[0].Labels[v1.IsHeadlessService] != "" {
		t.Errorf("headless: %q %v", d, got[0].Labels)
	}
	if _, ok := got[0].Labels[v1.IsHeadlessService]; !ok {
		t.Errorf("headless label missing: %v", got[0].Labels)
	}
	// No matching pod: one empty placeholder slice, as upstream.
	empty := EndpointSlices(svc("default", "lonely"), pods)
	if len(empty) != 1 || len(empty[0].Endpoints) != 0 || len(empty[0].Ports) != 0 {
		t.Errorf("placeholder: %+v", empty)
	}
	// Hostname for pods whose subdomain names the Service.
	p := pods[0]
	p.Hostname, p.Subdomain = "web-1", "web"
	if e := EndpointSlices(svc("default", "web"), []Pod{p})[0].Endpoints[0]; e.Hostname == nil || *e.Hostname != "web-1" {
		t.Errorf("hostname %v", e.Hostname)
	}
}

func TestSelects(t *testing.T) {
	s := svc("shop", "api", func(s *v1.Service) { s.Spec.Selector = map[string]string{"app": "api", "tier": "back"} })
	tests := []struct {
		ns     string
		labels map[string]string
		want   bool
	}{
		{"shop", map[string]string{"app": "api", "tier": "back"}, true},
		{"shop", map[string]string{"app": "api", "tier": "back", "x": "y"}, true},
		{"shop", map[string]string{"app": "api"}, false},
		{"shop", map[string]string{"app": "api", "tier": "front"}, false},
		{"shop", map[string]string{"app": "api", "tier": ""}, false},
		{"default", map[string]string{"app": "api", "tier": "back"}, false},
		{"shop", nil, false},
	}
	for _, tt := range tests {
		p := Pod{Namespace: tt.ns, Labels: tt.labels}
		if got := Selects(s, &p); got != tt.want {
			t.Errorf("Selects(%s %v) = %v, want %v", tt.ns, tt.labels, got, tt.want)
		}
	}
}

func TestEndpoints(t *testing.T) {
	s := svc("default", "web", ports(named("http", 80, intstr.FromString("http"), ""), named("udp", 81, intstr.FromInt32(81), v1.ProtocolUDP)))
	s.Labels = map[string]string{"tier": "front"}
	pods := []Pod{
		pod("default", "web-2", "worker-2", "10.244.2.2", web, true, topology.Port{Name: "http", Port: 8080, Protocol: "TCP"}),
		pod("default", "web-1", "worker-1", "10.244.1.2", web, true, topology.Port{Name: "http", Port: 8080, Protocol: "TCP"}),
		pod("default", "web-3", "worker-1", "10.244.1.3", web, false, topology.Port{Name: "http", Port: 8080, Protocol: "TCP"}),
		pod("default", "web-4", "worker-1", "10.244.1.4", web, true), // no http port: only udp
		pod("default", "web-5", "worker-1", "10.244.1.5", web, true, topology.Port{Name: "http", Port: 8080, Protocol: "TCP"}),
	}
	pods[4].Terminating = true
	render := func(ep *v1.Endpoints) []string {
		var out []string
		for _, ss := range ep.Subsets {
			line := ""
			for _, a := range ss.Addresses {
				line += a.IP + " "
			}
			line += "|"
			for _, a := range ss.NotReadyAddresses {
				line += " " + a.IP
			}
			line += " |"
			for _, p := range ss.Ports {
				line += fmt.Sprintf(" %s:%d/%s", p.Name, p.Port, p.Protocol)
			}
			out = append(out, line)
		}
		return out
	}
	ep := Endpoints(s, pods)
	want := []string{
		"10.244.1.2 10.244.2.2 | 10.244.1.3 | http:8080/TCP",
		"10.244.1.2 10.244.1.4 10.244.2.2 | 10.244.1.3 | udp:81/UDP",
	}
	if got := render(ep); !slices.Equal(got, want) {
		t.Errorf("subsets:\n got %q\nwant %q", got, want)
	}
	if ep.Name != "web" || ep.Namespace != "default" || !equal(ep.Labels, map[string]string{"tier": "front", "endpoints.kubernetes.io/managed-by": "endpoint-controller"}) {
		t.Errorf("meta: %+v", ep.ObjectMeta)
	}
	if a := ep.Subsets[0].Addresses[0]; *a.NodeName != "worker-1" || a.TargetRef.Name != "web-1" {
		t.Errorf("address: %+v", a)
	}
	// publishNotReadyAddresses: all in addresses, terminating included.
	s.Spec.PublishNotReadyAddresses = true
	want = []string{
		"10.244.1.2 10.244.1.3 10.244.1.5 10.244.2.2 | | http:8080/TCP",
		"10.244.1.2 10.244.1.3 10.244.1.4 10.244.1.5 10.244.2.2 | | udp:81/UDP",
	}
	if got := render(Endpoints(s, pods)); !slices.Equal(got, want) {
		t.Errorf("publishNotReadyAddresses:\n got %q\nwant %q", got, want)
	}
	// Headless without ports: addresses without ports.
	hl := svc("default", "web", clusterIP("None"), ports())
	if got := render(Endpoints(hl, pods)); !slices.Equal(got, []string{"10.244.1.2 10.244.1.4 10.244.2.2 | 10.244.1.3 |"}) {
		t.Errorf("headless: %q", got)
	}
}

func TestEndpointsTruncated(t *testing.T) {
	s := svc("default", "big")
	var pods []Pod
	for i := range 1200 {
		pods = append(pods, pod("default", fmt.Sprintf("p%04d", i), "worker-1", fmt.Sprintf("10.244.%d.%d", i/250, i%250+2), map[string]string{"app": "big"}, i%2 == 0))
	}
	ep := Endpoints(s, pods)
	n := 0
	for _, ss := range ep.Subsets {
		n += len(ss.Addresses) + len(ss.NotReadyAddresses)
	}
	if n != MaxEndpointsAddresses || ep.Annotations[v1.EndpointsOverCapacity] != "truncated" {
		t.Errorf("%d addresses, annotations %v", n, ep.Annotations)
	}
	if len(ep.Subsets[0].Addresses) != 600 {
		t.Errorf("ready addresses %d, want all 600 kept", len(ep.Subsets[0].Addresses))
	}
}
