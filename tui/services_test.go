package tui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

func stored(t testing.TB, kind, apiVersion, ns, name string, obj any) *api.StoredObject {
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return &api.StoredObject{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, Applied: true, Created: t0.Add(30 * time.Second), Object: raw}
}

type fxEndpoint struct {
	ip, node, pod string
	ready         bool
}

// svcFixture is a few Services of every type, their slices and Endpoints, and
// team-a/big with 1,000 endpoints; plus two counter samples 1 s apart.
func svcFixture(t testing.TB) ([]*api.StoredObject, [2]*api.CounterSet) {
	var objs []*api.StoredObject
	var cs [2]*api.CounterSet
	for s := range cs {
		cs[s] = &api.CounterSet{Time: t0.Add(time.Duration(80+s) * time.Second), Services: map[string]api.PacketCount{}, Endpoints: map[string]api.PacketCount{}}
	}
	n := 0
	add := func(spec v1.ServiceSpec, ns, name string, status v1.ServiceStatus, eps []fxEndpoint, targetPort int32) {
		svc := v1.Service{TypeMeta: metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}}, Spec: spec, Status: status}
		objs = append(objs, stored(t, "Service", "v1", ns, name, svc))
		if spec.Type == v1.ServiceTypeExternalName || spec.Selector == nil {
			return
		}
		var ports []discoveryv1.EndpointPort
		var eports []v1.EndpointPort
		for _, p := range spec.Ports {
			tp := targetPort
			proto := p.Protocol
			ports = append(ports, discoveryv1.EndpointPort{Name: &p.Name, Port: &tp, Protocol: &proto})
			eports = append(eports, v1.EndpointPort{Name: p.Name, Port: tp, Protocol: proto})
		}
		subset := v1.EndpointSubset{Ports: eports}
		for i := 0; i == 0 || i < len(eps); i += 100 {
			sl := discoveryv1.EndpointSlice{TypeMeta: metav1.TypeMeta{Kind: "EndpointSlice", APIVersion: "discovery.k8s.io/v1"},
				ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%05d", name, i/100), Labels: map[string]string{discoveryv1.LabelServiceName: name}},
				AddressType: discoveryv1.AddressTypeIPv4, Ports: ports}
			for _, e := range eps[i:min(i+100, len(eps))] {
				ready, serving, term := e.ready, e.ready, false
				node := e.node
				sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{e.ip}, NodeName: &node,
					Conditions: discoveryv1.EndpointConditions{Ready: &ready, Serving: &serving, Terminating: &term},
					TargetRef:  &v1.ObjectReference{Kind: "Pod", Namespace: ns, Name: e.pod}})
				addr := v1.EndpointAddress{IP: e.ip, NodeName: &node, TargetRef: &v1.ObjectReference{Kind: "Pod", Namespace: ns, Name: e.pod}}
				if e.ready {
					subset.Addresses = append(subset.Addresses, addr)
				} else {
					subset.NotReadyAddresses = append(subset.NotReadyAddresses, addr)
				}
				for _, p := range spec.Ports {
					key := podKey(ns, name)
					if p.Name != "" {
						key += ":" + p.Name
					}
					key += fmt.Sprintf("@%s:%d", e.ip, targetPort)
					n++
					for s := range cs {
						pc := api.PacketCount{Packets: uint64(10*n + 5*s), Bytes: uint64(1500*n + 3000*s*(n%2))}
						cs[s].Endpoints[key] = pc
						sum := cs[s].Services[podKey(ns, name)]
						sum.Packets += pc.Packets
						sum.Bytes += pc.Bytes
						cs[s].Services[podKey(ns, name)] = sum
					}
				}
			}
			objs = append(objs, stored(t, "EndpointSlice", "discovery.k8s.io/v1", ns, sl.Name, sl))
		}
		var subsets []v1.EndpointSubset
		if len(subset.Addresses)+len(subset.NotReadyAddresses) > 0 {
			subsets = []v1.EndpointSubset{subset}
		}
		objs = append(objs, stored(t, "Endpoints", "v1", ns, name, v1.Endpoints{TypeMeta: metav1.TypeMeta{Kind: "Endpoints", APIVersion: "v1"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Subsets: subsets}))
	}
	cluster := v1.ServiceInternalTrafficPolicyCluster
	local := v1.ServiceExternalTrafficPolicyLocal
	timeout := int32(10800)
	add(v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"}, ExternalIPs: []string{"172.30.0.250"},
		Selector: map[string]string{"app": "web"}, SessionAffinity: v1.ServiceAffinityNone, InternalTrafficPolicy: &cluster,
		Ports: []v1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(80), Protocol: v1.ProtocolTCP},
			{Name: "dns", Port: 81, TargetPort: intstr.FromInt32(81), Protocol: v1.ProtocolUDP}}},
		"default", "web", v1.ServiceStatus{}, []fxEndpoint{{"10.244.1.2", "worker-1", "web-1", true}, {"10.244.2.2", "worker-2", "web-2", true}}, 80)
	add(v1.ServiceSpec{Type: v1.ServiceTypeExternalName, ExternalName: "db.example.com"}, "default", "db", v1.ServiceStatus{}, nil, 0)
	add(v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: "None", Selector: map[string]string{"app": "web"},
		Ports: []v1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80), Protocol: v1.ProtocolTCP}}},
		"default", "web-headless", v1.ServiceStatus{}, []fxEndpoint{{"10.244.1.2", "worker-1", "web-1", true}, {"10.244.2.2", "worker-2", "web-2", true}}, 80)
	add(v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: "10.96.0.10", Selector: map[string]string{"k8s-app": "kube-dns"},
		Ports: []v1.ServicePort{{Name: "dns", Port: 53, TargetPort: intstr.FromInt32(53), Protocol: v1.ProtocolUDP},
			{Name: "dns-tcp", Port: 53, TargetPort: intstr.FromInt32(53), Protocol: v1.ProtocolTCP}}},
		"kube-system", "kube-dns", v1.ServiceStatus{}, nil, 53)
	add(v1.ServiceSpec{Type: v1.ServiceTypeNodePort, ClusterIP: "10.96.0.30", Selector: map[string]string{"app": "api"},
		Ports: []v1.ServicePort{{Name: "http", Port: 8080, NodePort: 30080, TargetPort: intstr.FromString("http"), Protocol: v1.ProtocolTCP}}},
		"shop", "api", v1.ServiceStatus{}, []fxEndpoint{{"10.244.1.3", "worker-1", "api-5777c4c65c-xmf2d", false}}, 8080)
	add(v1.ServiceSpec{Type: v1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.40", Selector: map[string]string{"app": "api"},
		ExternalTrafficPolicy: local, SessionAffinity: v1.ServiceAffinityClientIP,
		SessionAffinityConfig: &v1.SessionAffinityConfig{ClientIP: &v1.ClientIPConfig{TimeoutSeconds: &timeout}},
		Ports:                 []v1.ServicePort{{Port: 80, NodePort: 31080, TargetPort: intstr.FromInt32(8080), Protocol: v1.ProtocolTCP}}},
		"shop", "api-lb", v1.ServiceStatus{LoadBalancer: v1.LoadBalancerStatus{Ingress: []v1.LoadBalancerIngress{{IP: "172.30.0.200"}}}},
		[]fxEndpoint{{"10.244.1.3", "worker-1", "api-5777c4c65c-xmf2d", false}}, 8080)
	add(v1.ServiceSpec{Type: v1.ServiceTypeLoadBalancer, ClusterIP: "10.96.0.41", Selector: map[string]string{"app": "none"},
		Ports: []v1.ServicePort{{Port: 443, NodePort: 31443, TargetPort: intstr.FromInt32(8443), Protocol: v1.ProtocolTCP}}},
		"shop", "api-pending", v1.ServiceStatus{}, nil, 8443)
	var big []fxEndpoint
	for i := range 1000 {
		big = append(big, fxEndpoint{fmt.Sprintf("10.245.%d.%d", i/250, 2+i%250), []string{"worker-1", "worker-2"}[i%2], fmt.Sprintf("big-%04d", i), i%10 != 9})
	}
	add(v1.ServiceSpec{Type: v1.ServiceTypeClusterIP, ClusterIP: "10.96.1.0", Selector: map[string]string{"app": "big"},
		Ports: []v1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: v1.ProtocolTCP}}},
		"team-a", "big", v1.ServiceStatus{}, big, 8080)
	return objs, cs
}

func TestServicesGolden(t *testing.T) {
	for _, c := range []struct{ name, keys string }{
		{"svc", ":svc<enter>"},
		{"svc_details", ":svc<enter><down><enter>"},
		{"svc_details_db", ":svc<enter><enter>"},
		{"svc_details_lb", ":svc<enter>/api-lb<enter><enter>"},
		{"svc_details_1000", ":svc<enter>/big<enter><enter>"},
		{"svc_filter", ":svc<enter>/shop"},
	} {
		for _, size := range [][2]int{{80, 24}, {200, 60}} {
			name := fmt.Sprintf("%s_%dx%d", c.name, size[0], size[1])
			t.Run(name, func(t *testing.T) {
				hs := newHarness(t, 3, size[0], size[1])
				hs.keys(c.keys)
				s := hs.screen()
				checkFrame(t, s, size[0], size[1])
				golden(t, name, s)
			})
		}
	}
}

func TestServicesView(t *testing.T) {
	hs := newHarness(t, 3, 120, 30)
	hs.keys(":svc<enter>")
	s := hs.screen()
	for _, want := range []string{
		"web-headless", "10.96.0.20", "172.30.0.250", "80/TCP,81/UDP",
		"db.example.com", "ExternalName", "<pending>", "172.30.0.200", "80:31080/TCP", "8080:30080/TCP", "None",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("the services view lacks %q:\n%s", want, s)
		}
	}
	if l := lineWith(s, "team-a"); !strings.Contains(l, " 900 ") {
		t.Errorf("big has 900 ready endpoints: %q", l)
	}
	if l := lineWith(s, "web-headless"); !strings.Contains(l, "  2 ") {
		t.Errorf("web-headless has 2 endpoints: %q", l)
	}
	// Rates: web's bytes grew by 3000 per odd endpoint counter in 1 s.
	if l := lineWith(s, "10.96.0.20"); !strings.Contains(l, "/s") || strings.Contains(l, " -/s") {
		t.Errorf("web has a rate: %q", l)
	}

	// filter, enter, esc
	hs.keys("/kube-dns<enter>")
	if s := hs.screen(); strings.Contains(s, "10.96.0.20") || !strings.Contains(s, "10.96.0.10") || !strings.Contains(s, "filter /kube-dns") {
		t.Fatalf("filter /kube-dns:\n%s", s)
	}
	hs.keys("<enter>")
	if hs.a.detail == nil || hs.a.detail.t != (target{kindService, "kube-system", "kube-dns"}) {
		t.Fatalf("enter opens the service's details: %+v", hs.a.detail)
	}
	s = hs.screen()
	for _, want := range []string{"details svc kube-system/kube-dns", "k8s-app=kube-dns", "endpoints (0 ready of 0", "no ready pod matches"} {
		if !strings.Contains(s, want) {
			t.Errorf("details lack %q:\n%s", want, s)
		}
	}
	hs.keys("<esc>")
	if hs.a.detail != nil || hs.a.cur != viewSvc || hs.a.current().filter() != "kube-dns" {
		t.Fatalf("esc closes the details, back to the filtered view")
	}
	hs.keys("<esc>")
	if hs.a.current().filter() != "" || !strings.Contains(hs.screen(), "10.96.0.20") {
		t.Fatalf("esc clears the filter:\n%s", hs.screen())
	}
	hs.keys("/zzz<enter>")
	if !strings.Contains(hs.screen(), "no service matches /zzz") {
		t.Errorf("empty filter result:\n%s", hs.screen())
	}
	hs.keys("<esc>")

	// d does not delete a service; s has no shell in one.
	hs.keys("d")
	if hs.a.mode == promptConfirm || !strings.Contains(hs.screen(), "podlab delete svc db -n default") {
		t.Errorf("d on a service points to the CLI:\n%s", hs.screen())
	}
	hs.keys("s")
	if !hs.a.bad {
		t.Errorf("s on a service is refused")
	}
	if len(hs.fake.CallLog()) != 0 {
		t.Errorf("calls %v", hs.fake.CallLog())
	}
	// In the tab cycle, after nodes.
	hs.keys(":nodes<enter><tab>")
	if hs.a.cur != viewSvc {
		t.Errorf("tab after nodes shows view %d", hs.a.cur)
	}
}

func TestServiceDetails(t *testing.T) {
	hs := newHarness(t, 3, 200, 60)
	hs.keys(":svc<enter>/web<enter><enter>")
	s := hs.screen()
	for _, want := range []string{"svc default/web", "selector", "app=web", "session affinity", "internal traffic policy  Cluster",
		"10.244.1.2:80", "worker-1", "web-1", "http/TCP", "dns/UDP", "EndpointSlices", "web-00000", "addresses", "10.244.1.2,10.244.2.2"} {
		if !strings.Contains(s, want) {
			t.Errorf("web's details lack %q:\n%s", want, s)
		}
	}
	// The endpoint row carries its counter.
	if l := lineWith(s, "10.244.2.2:80 "); !strings.Contains(l, "/s") {
		t.Errorf("endpoint row without counters: %q", l)
	}
}

// Service counters are polled only while the services are shown, once per tick.
func TestServiceCountersPolling(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	if n := hs.fake.SvcCalls(); n != 0 {
		t.Fatalf("ServiceCounters called %d times with the pods view shown", n)
	}
	if hs.a.svcPolling {
		t.Fatal("polling with the pods view shown")
	}
	cmd := hs.keys(":svc<enter>")
	if cmd == nil || !hs.a.svcPolling {
		t.Fatal(":svc starts polling the service counters")
	}
	msg := cmd()
	m, ok := msg.(svcCountersMsg)
	if !ok {
		t.Fatalf("first message %T", msg)
	}
	if _, next := hs.a.Update(m); next == nil {
		t.Fatal("the loop ticks again while shown")
	}
	// Showing the view again does not start a second loop.
	hs.keys(":pods<enter>")
	if cmd := hs.keys(":svc<enter>"); cmd != nil {
		t.Error("a second polling loop started")
	}
	hs.keys(":pods<enter>")
	if _, next := hs.a.Update(svcCountersTickMsg{hs.a.sess}); next != nil || hs.a.svcPolling {
		t.Error("the tick after leaving the view stops the loop")
	}
	if n := hs.fake.SvcCalls(); n != 1 {
		t.Errorf("ServiceCounters called %d times, want 1", n)
	}
	// The details of a service keep it going.
	hs.keys(":svc<enter>")
	hs.keys("<enter>")
	if !hs.a.servicesShown() {
		t.Error("a service's details show counters")
	}
}

func TestServiceEventsRefetch(t *testing.T) {
	hs := newHarness(t, 3, 120, 30)
	hs.keys(":svc<enter>")
	calls := hs.fake.ObjectsCalls
	// A pod event does not fetch the objects.
	hs.a.Update(eventsMsg{sess: hs.a.sess, evs: []events.Event{{Time: time.Now(), Type: events.PodReady, Kind: kindPod, Namespace: "default", Name: "web-1"}}})
	if hs.a.objFetching {
		t.Fatal("a pod event fetched the services")
	}
	objs, _ := svcFixture(t)
	st, _, _ := fixture(3)
	objs = append(objs, kubeFixture(t, st)...)
	var keep []*api.StoredObject
	for _, o := range objs {
		if o.Name != "db" {
			keep = append(keep, o)
		}
	}
	hs.fake.SetObjects(keep)
	evs := []events.Event{
		{Time: time.Now(), Type: events.ObjectDeleted, Kind: kindService, Namespace: "default", Name: "db"},
		{Time: time.Now(), Type: events.EndpointsChanged, Kind: kindService, Namespace: "default", Name: "web", Message: "10.244.1.2"},
	}
	hs.a.Update(eventsMsg{sess: hs.a.sess, evs: evs})
	if !hs.a.objFetching {
		t.Fatal("service events fetch the objects")
	}
	// More events during the fetch coalesce into one more.
	hs.a.Update(eventsMsg{sess: hs.a.sess, evs: evs})
	if !hs.a.objDirty {
		t.Error("events during a fetch should coalesce")
	}
	hs.run(hs.a.fetchObjects())
	if hs.fake.ObjectsCalls != calls+3 {
		t.Errorf("Objects calls %d, want %d", hs.fake.ObjectsCalls, calls+3)
	}
	if s := hs.screen(); strings.Contains(s, "db.example.com") {
		t.Errorf("db is still shown after its deletion:\n%s", s)
	}
}

// At 80 columns EXTERNAL-IP and PORT(S) were cut to 9 and 7 cells ("172.30.0…",
// "8080:3…"): other columns give way first.
func TestServicesNarrowKeepsAddresses(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	hs.keys(":svc<enter>")
	wantOnScreen(t, hs.screen(), "172.30.0.250", "172.30.0.200", "db.example.com", "8080:30080/TCP", "443:31443/TCP", "80:31080/TCP")
}
