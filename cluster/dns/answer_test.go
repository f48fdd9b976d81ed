package dns

import (
	"fmt"
	"net"
	"reflect"
	"sort"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"
)

// worked is SEMANTICS.md section 4's worked example: Service web in shop (ClusterIP
// 10.96.12.34, ports http 80/TCP and an unnamed 9090/TCP), headless db in shop with
// ready db-0 10.244.1.5 and db-1 10.244.2.7 and a not-ready 10.244.3.9, and the
// ExternalName ext -> api.example.com.
func worked(t *testing.T) *Zone {
	s := store.New()
	for _, ns := range []string{"default", "shop", "other"} {
		s.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Spec: corev1.ServiceSpec{
		ClusterIP: "10.96.12.34", ClusterIPs: []string{"10.96.12.34"},
		Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}, {Port: 9090, Protocol: corev1.ProtocolTCP}}}})
	s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "db"}, Spec: corev1.ServiceSpec{
		ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "pg", Port: 5432, Protocol: corev1.ProtocolTCP}}}})
	s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "ext"}, Spec: corev1.ServiceSpec{
		Type: corev1.ServiceTypeExternalName, ExternalName: "api.example.com"}})
	yes, no := true, false
	host := func(h string) *string { return &h }
	name, pnum, proto := "pg", int32(5432), corev1.ProtocolTCP
	s.Create(&discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "shop", Name: "db-abc", Labels: map[string]string{discoveryv1.LabelServiceName: "db"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &pnum, Protocol: &proto}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.244.2.7"}, Hostname: host("db-1"), Conditions: discoveryv1.EndpointConditions{Ready: &yes}},
			{Addresses: []string{"10.244.1.5"}, Hostname: host("db-0"), Conditions: discoveryv1.EndpointConditions{Ready: &yes}},
			{Addresses: []string{"10.244.3.9"}, Conditions: discoveryv1.EndpointConditions{Ready: &no}},
		}})
	return Build(s, "cluster.local", 30)
}

// ask returns the rcode and the answer and extra records as sorted zone-file lines,
// without TTLs.
func ask(z *Zone, name string, qtype uint16) (string, []string, []string, *mdns.Msg) {
	req := new(mdns.Msg)
	req.SetQuestion(name, qtype)
	m := z.Answer(req)
	if m == nil {
		return "FORWARD", nil, nil, nil
	}
	lines := func(rrs []mdns.RR) []string {
		var out []string
		for _, rr := range rrs {
			f := strings.Fields(rr.String())
			out = append(out, strings.Join(append([]string{f[0]}, f[3:]...), " "))
		}
		sort.Strings(out)
		return out
	}
	return mdns.RcodeToString[m.Rcode], lines(m.Answer), lines(m.Extra), m
}

func TestWorkedExamples(t *testing.T) {
	z := worked(t)
	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode string
		want  []string
	}{
		{"web.shop.svc.cluster.local.", mdns.TypeA, "NOERROR", []string{"web.shop.svc.cluster.local. A 10.96.12.34"}},
		{"web.shop.other.svc.cluster.local.", mdns.TypeA, "NXDOMAIN", nil},
		{"web.shop.svc.cluster.local.", mdns.TypeAAAA, "NOERROR", nil},
		{"_http._tcp.web.shop.svc.cluster.local.", mdns.TypeSRV, "NOERROR", []string{"_http._tcp.web.shop.svc.cluster.local. SRV 0 100 80 web.shop.svc.cluster.local."}},
		{"34.12.96.10.in-addr.arpa.", mdns.TypePTR, "NOERROR", []string{"34.12.96.10.in-addr.arpa. PTR web.shop.svc.cluster.local."}},
		{"db.shop.svc.cluster.local.", mdns.TypeA, "NOERROR", []string{"db.shop.svc.cluster.local. A 10.244.1.5", "db.shop.svc.cluster.local. A 10.244.2.7"}},
		{"db-0.db.shop.svc.cluster.local.", mdns.TypeA, "NOERROR", []string{"db-0.db.shop.svc.cluster.local. A 10.244.1.5"}},
		{"5.1.244.10.in-addr.arpa.", mdns.TypePTR, "NOERROR", []string{"5.1.244.10.in-addr.arpa. PTR db-0.db.shop.svc.cluster.local."}},
		{"ext.shop.svc.cluster.local.", mdns.TypeA, "NOERROR", []string{"ext.shop.svc.cluster.local. CNAME api.example.com."}},
		{"10-244-1-5.shop.pod.cluster.local.", mdns.TypeA, "NOERROR", []string{"10-244-1-5.shop.pod.cluster.local. A 10.244.1.5"}},
		{"dns-version.cluster.local.", mdns.TypeTXT, "NOERROR", []string{`dns-version.cluster.local. TXT "1.1.0"`}},
		{"nosuch.shop.svc.cluster.local.", mdns.TypeA, "NXDOMAIN", nil},
		// Details that trip implementers.
		{"WEB.Shop.SVC.cluster.LOCAL.", mdns.TypeA, "NOERROR", []string{"WEB.Shop.SVC.cluster.LOCAL. A 10.96.12.34"}},
		{"shop.svc.cluster.local.", mdns.TypeA, "NOERROR", nil},
		{"nons.svc.cluster.local.", mdns.TypeA, "NXDOMAIN", nil},
		{"_9090._tcp.web.shop.svc.cluster.local.", mdns.TypeSRV, "NXDOMAIN", nil},
		{"_pg._tcp.db.shop.svc.cluster.local.", mdns.TypeSRV, "NOERROR", []string{
			"_pg._tcp.db.shop.svc.cluster.local. SRV 0 50 5432 db-0.db.shop.svc.cluster.local.",
			"_pg._tcp.db.shop.svc.cluster.local. SRV 0 50 5432 db-1.db.shop.svc.cluster.local."}},
		{"10-244-3-9.db.shop.svc.cluster.local.", mdns.TypeA, "NXDOMAIN", nil}, // not ready
		{"10-244-1-5.nons.pod.cluster.local.", mdns.TypeA, "NXDOMAIN", nil},
		{"example.com.", mdns.TypeA, "FORWARD", nil},
		{"9.9.9.9.in-addr.arpa.", mdns.TypePTR, "FORWARD", nil},
	} {
		rcode, got, _, m := ask(z, tc.name, tc.qtype)
		if rcode != tc.rcode || strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s %s: %s %q, want %s %q", tc.name, mdns.TypeToString[tc.qtype], rcode, got, tc.rcode, tc.want)
			continue
		}
		if m == nil {
			continue
		}
		if !m.Authoritative || m.RecursionAvailable {
			t.Errorf("%s: flags aa=%v ra=%v, want aa and no ra as CoreDNS", tc.name, m.Authoritative, m.RecursionAvailable)
		}
		if len(m.Answer) == 0 && (len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != mdns.TypeSOA) {
			t.Errorf("%s: no SOA in the authority section of an empty answer: %v", tc.name, m.Ns)
		}
	}
	// SRV answers carry their targets' addresses.
	if _, _, extra, _ := ask(z, "_pg._tcp.db.shop.svc.cluster.local.", mdns.TypeSRV); len(extra) != 2 || !strings.Contains(extra[0], "A 10.244.1.5") {
		t.Errorf("SRV extras %q", extra)
	}
}

func TestReverseNames(t *testing.T) {
	for _, tc := range []struct {
		name, want string
	}{
		{"34.12.96.10.in-addr.arpa", "10.96.12.34"},
		{"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", "fd00::1"},
		{"300.1.1.1.in-addr.arpa", "invalid IP"},
	} {
		ip, _ := reverse(tc.name)
		if ip.String() != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, ip, tc.want)
		}
	}
}

// Malformed questions never panic: fuzzed with random names and types.
func FuzzAnswer(f *testing.F) {
	z := worked(&testing.T{})
	for _, s := range []string{"web.shop.svc.cluster.local.", "_a._b.c.d.svc.cluster.local.", "1.2.in-addr.arpa.", "cluster.local.", "x.pod.cluster.local."} {
		f.Add(s, uint16(mdns.TypeA))
	}
	f.Fuzz(func(t *testing.T, name string, qtype uint16) {
		req := new(mdns.Msg)
		req.SetQuestion(mdns.Fqdn(name), qtype)
		z.Answer(req)
	})
}

// benchStore holds 10 namespaces of 100 ClusterIP Services (ports http and grpc)
// and 10 headless Services of 3 ready endpoints with hostnames: the cluster of
// scripts/bench/dns.sh.
func benchStore(b *testing.B) *store.Store {
	s := store.New()
	yes := true
	pname, pnum, proto := "http", int32(80), corev1.ProtocolTCP
	for n := range 10 {
		ns := fmt.Sprintf("ns-%d", n)
		s.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		ports := []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}, {Name: "grpc", Port: 9090, Protocol: corev1.ProtocolTCP}}
		for i := range 100 {
			ip := fmt.Sprintf("10.96.%d.%d", n, i+1)
			s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("svc-%d", i)},
				Spec: corev1.ServiceSpec{ClusterIP: ip, ClusterIPs: []string{ip}, Ports: ports}})
		}
		for i := range 10 {
			name := fmt.Sprintf("hl-%d", i)
			s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
				Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: ports[:1]}})
			sl := &discoveryv1.EndpointSlice{
				ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: name}},
				AddressType: discoveryv1.AddressTypeIPv4,
				Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &pnum, Protocol: &proto}},
			}
			for k := range 3 {
				host := fmt.Sprintf("%s-%d", name, k)
				sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.244.%d.%d", n, i*3+k+1)},
					Hostname: &host, Conditions: discoveryv1.EndpointConditions{Ready: &yes}})
			}
			s.Create(sl)
		}
	}
	return s
}

// benchQueries is dns.sh's mix, one question of each kind.
var benchQueries = []struct {
	kind, name string
	qtype      uint16
}{
	{"ServiceA", "svc-42.ns-3.svc.cluster.local.", mdns.TypeA},
	{"HeadlessA", "hl-4.ns-7.svc.cluster.local.", mdns.TypeA},
	{"EndpointA", "hl-4-1.hl-4.ns-7.svc.cluster.local.", mdns.TypeA},
	{"ServiceSRV", "_http._tcp.svc-42.ns-3.svc.cluster.local.", mdns.TypeSRV},
	{"HeadlessSRV", "_http._tcp.hl-4.ns-7.svc.cluster.local.", mdns.TypeSRV},
	{"PTR", "43.3.96.10.in-addr.arpa.", mdns.TypePTR},
	{"AAAANoData", "svc-42.ns-3.svc.cluster.local.", mdns.TypeAAAA},
	{"NXDomain", "host-7.example.com.ns-3.svc.cluster.local.", mdns.TypeA},
}

func BenchmarkAnswer(b *testing.B) {
	z := Build(benchStore(b), "cluster.local", 30)
	for _, q := range benchQueries {
		req := new(mdns.Msg)
		req.SetQuestion(q.name, q.qtype)
		b.Run(q.kind, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if z.Answer(req) == nil {
					b.Fatal("no answer")
				}
			}
		})
	}
}

// packWriter is a UDP ResponseWriter that packs the reply, as miekg/dns's does.
type packWriter struct{ mdns.ResponseWriter }

func (packWriter) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353} }
func (packWriter) WriteMsg(m *mdns.Msg) error {
	_, err := m.Pack()
	return err
}

// BenchmarkServeDNS is the handler's whole work per query of the mix: the answer,
// truncation to the client's size and packing.
func BenchmarkServeDNS(b *testing.B) {
	st := benchStore(b)
	s := NewServer("cluster.local", 30)
	s.zone.Store(Build(st, "cluster.local", 30))
	var reqs []*mdns.Msg
	for _, q := range benchQueries {
		req := new(mdns.Msg)
		req.SetQuestion(q.name, q.qtype)
		reqs = append(reqs, req)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.ServeDNS(packWriter{}, reqs[i%len(reqs)])
		i++
	}
}

// BenchmarkBuild is the zone rebuilt after one change, with 1,100 Services present.
func BenchmarkBuild(b *testing.B) {
	s := benchStore(b)
	for b.Loop() {
		Build(s, "cluster.local", 30)
	}
}

// BenchmarkRebuild is the zone worked out again after one Service changed, with 1,100
// Services present: the others' records are reused.
func BenchmarkRebuild(b *testing.B) {
	s := benchStore(b)
	z := Build(s, "cluster.local", 30)
	o, _ := s.Get("Service", "ns-3", "svc-42")
	for b.Loop() {
		svc := o.(*corev1.Service).DeepCopy()
		svc.Labels = map[string]string{"n": fmt.Sprint(b.N)}
		s.Update(svc)
		o, _ = s.Get("Service", "ns-3", "svc-42")
		z = Rebuild(s, "cluster.local", 30, z)
	}
}

// Rebuild after changes gives the zone Build gives: changed Services and slices are
// worked out again, deleted ones go, the others are reused.
func TestRebuildMatchesBuild(t *testing.T) {
	s := benchStore(&testing.B{})
	z := Build(s, "cluster.local", 30)
	same := func(step string) {
		t.Helper()
		z = Rebuild(s, "cluster.local", 30, z)
		want := Build(s, "cluster.local", 30)
		if !reflect.DeepEqual(z.services, want.services) || !reflect.DeepEqual(z.ptr, want.ptr) || !reflect.DeepEqual(z.namespaces, want.namespaces) {
			t.Fatalf("%s: Rebuild differs from Build", step)
		}
	}
	same("nothing changed")
	o, _ := s.Get("Service", "ns-1", "svc-7")
	svc := o.(*corev1.Service).DeepCopy()
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.96.200.1", []string{"10.96.200.1"}
	s.Update(svc)
	same("a ClusterIP changed")
	o, _ = s.Get("EndpointSlice", "ns-2", "hl-3-x")
	sl := o.(*discoveryv1.EndpointSlice).DeepCopy()
	no := false
	sl.Endpoints[1].Conditions.Ready = &no
	s.Update(sl)
	same("an endpoint turned not ready")
	s.Delete("EndpointSlice", "ns-2", "hl-4-x")
	same("a slice deleted")
	s.Delete("Service", "ns-5", "svc-9")
	same("a Service deleted")
	s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns-5", Name: "svc-9"},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}})
	same("created again as ExternalName")
}
