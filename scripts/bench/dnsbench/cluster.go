package main

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"
)

// Domain is the cluster domain every server is authoritative for; reverse names of
// Service and pod addresses (all in 10.0.0.0/8) are in ReverseZone.
const (
	Domain      = "cluster.local"
	ReverseZone = "10.in-addr.arpa"
	TTL         = 30
)

// shape is how big the synthetic cluster is.
type shape struct {
	namespaces, services, headless, endpoints, external int // services and headless per namespace
}

// svc is one Service of the synthetic cluster with what DNS publishes of it: the
// store objects and the zone file are both written from this list, so they agree.
type svc struct {
	ns, name  string
	clusterIP netip.Addr // invalid for headless and ExternalName
	external  string
	ports     []corev1.ServicePort // named, so each has an SRV record
	endpoints []ep                 // headless only, all ready
}

type ep struct {
	ip       netip.Addr
	hostname string // "" for an endpoint without one: DNS names it by its dashed address
}

func (s svc) fqdn() string { return s.name + "." + s.ns + ".svc." + Domain + "." }

// epName is the endpoint's name under its headless Service, as CoreDNS forms it.
func (s svc) epName(e ep) string {
	h := e.hostname
	if h == "" {
		h = strings.ReplaceAll(e.ip.String(), ".", "-")
	}
	return h + "." + s.fqdn()
}

// cluster lists the Services: per namespace, ClusterIP Services with two named TCP
// ports and one named UDP port; headless ones whose endpoints are half StatefulSet
// pods (with hostnames) and half plain pods; a few ExternalName in the first one.
func (sh shape) cluster() []svc {
	var out []svc
	vip := netip.MustParseAddr("10.96.0.10") // kube-dns's own address is the first taken
	pod := netip.MustParseAddr("10.244.0.1")
	ports := []corev1.ServicePort{
		{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		{Name: "grpc", Port: 9090, Protocol: corev1.ProtocolTCP},
		{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
	}
	for n := range sh.namespaces {
		ns := fmt.Sprintf("ns-%d", n)
		for i := range sh.services {
			vip = vip.Next()
			out = append(out, svc{ns: ns, name: fmt.Sprintf("svc-%d", i), clusterIP: vip, ports: ports})
		}
		for i := range sh.headless {
			s := svc{ns: ns, name: fmt.Sprintf("hl-%d", i), ports: ports[:1]}
			for k := range sh.endpoints {
				pod = pod.Next()
				e := ep{ip: pod}
				if i%2 == 0 {
					e.hostname = fmt.Sprintf("%s-%d", s.name, k)
				}
				s.endpoints = append(s.endpoints, e)
			}
			out = append(out, s)
		}
	}
	for i := range sh.external {
		out = append(out, svc{ns: "ns-0", name: fmt.Sprintf("ext-%d", i), external: fmt.Sprintf("api-%d.example.com", i)})
	}
	return out
}

// fill writes the Namespaces, Services and EndpointSlices of svcs into st, as the
// API and the endpoints controller would.
func fill(st *store.Store, namespaces int, svcs []svc) error {
	for n := range namespaces {
		if _, err := st.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ns-%d", n)}}); err != nil {
			return err
		}
	}
	yes := true
	for _, s := range svcs {
		o := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: s.ns, Name: s.name}, Spec: corev1.ServiceSpec{Ports: s.ports}}
		switch {
		case s.external != "":
			o.Spec.Type, o.Spec.ExternalName, o.Spec.Ports = corev1.ServiceTypeExternalName, s.external, nil
		case s.clusterIP.IsValid():
			o.Spec.ClusterIP, o.Spec.ClusterIPs = s.clusterIP.String(), []string{s.clusterIP.String()}
		default:
			o.Spec.ClusterIP = corev1.ClusterIPNone
		}
		if _, err := st.Create(o); err != nil {
			return fmt.Errorf("service %s/%s: %w", s.ns, s.name, err)
		}
		if s.external != "" {
			continue
		}
		sl := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: s.ns, Name: s.name + "-abcde", Labels: map[string]string{discoveryv1.LabelServiceName: s.name}},
			AddressType: discoveryv1.AddressTypeIPv4,
		}
		for _, p := range s.ports {
			name, port, proto := p.Name, p.Port, p.Protocol
			sl.Ports = append(sl.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto})
		}
		for _, e := range s.endpoints {
			de := discoveryv1.Endpoint{Addresses: []string{e.ip.String()}, Conditions: discoveryv1.EndpointConditions{Ready: &yes}}
			if e.hostname != "" {
				de.Hostname = &e.hostname
			}
			sl.Endpoints = append(sl.Endpoints, de)
		}
		if _, err := st.Create(sl); err != nil {
			return fmt.Errorf("endpointslice of %s/%s: %w", s.ns, s.name, err)
		}
	}
	return nil
}

// writeZones writes the RFC 1035 zone files of what the cluster DNS answers (the
// records CoreDNS's kubernetes plugin synthesises), for CoreDNS's file plugin and
// for knot: db.cluster.local and db.10.in-addr.arpa in dir.
func writeZones(dir string, svcs []svc) error {
	return writeFiles(dir, map[string]func(io.Writer){
		"db." + Domain:      func(w io.Writer) { forward(w, svcs) },
		"db." + ReverseZone: func(w io.Writer) { reverse(w, svcs) },
	})
}

func writeFiles(dir string, files map[string]func(io.Writer)) error {
	for name, write := range files {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		write(w)
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// soa is the head of a zone: the SOA as podlab and the kubernetes plugin write
// it, and the NS every zone needs (kube-dns's name and address).
func soa(w io.Writer, origin string) {
	fmt.Fprintf(w, "$ORIGIN %s.\n$TTL %d\n", origin, TTL)
	fmt.Fprintf(w, "@ IN SOA ns.dns.%[1]s. hostmaster.%[1]s. 1 7200 1800 86400 %d\n", Domain, TTL)
	fmt.Fprintf(w, "@ IN NS ns.dns.%s.\n", Domain)
}

func forward(w io.Writer, svcs []svc) {
	soa(w, Domain)
	fmt.Fprintf(w, "ns.dns IN A 10.96.0.10\ndns-version 28800 IN TXT \"1.1.0\"\n")
	for _, s := range svcs {
		name := s.fqdn()
		if s.external != "" {
			fmt.Fprintf(w, "%s IN CNAME %s.\n", name, s.external)
			continue
		}
		srv := func(p corev1.ServicePort, weight int, target string) {
			for _, owner := range []string{"", "_" + p.Name + "._" + strings.ToLower(string(p.Protocol)) + "."} {
				fmt.Fprintf(w, "%s%s IN SRV 0 %d %d %s\n", owner, name, weight, p.Port, target)
			}
		}
		if s.clusterIP.IsValid() {
			fmt.Fprintf(w, "%s IN A %s\n", name, s.clusterIP)
			for _, p := range s.ports {
				srv(p, 100, name)
			}
			continue
		}
		for _, e := range s.endpoints {
			fmt.Fprintf(w, "%s IN A %s\n%s IN A %s\n", name, e.ip, s.epName(e), e.ip)
			for _, p := range s.ports {
				srv(p, 100/len(s.endpoints), s.epName(e))
			}
		}
	}
}

func reverse(w io.Writer, svcs []svc) {
	soa(w, ReverseZone)
	ptr := func(ip netip.Addr, target string) {
		b := ip.As4()
		fmt.Fprintf(w, "%d.%d.%d.%d.in-addr.arpa. IN PTR %s\n", b[3], b[2], b[1], b[0], target)
	}
	for _, s := range svcs {
		if s.clusterIP.IsValid() {
			ptr(s.clusterIP, s.fqdn())
		}
		for _, e := range s.endpoints {
			ptr(e.ip, s.epName(e))
		}
	}
}

// Mix is the query mix, in percent: what pods ask a cluster DNS, search-path
// misses included (a pod with ndots:5 asking for example.com tries it under its
// namespace, svc and the domain first).
var mix = []struct {
	percent int
	what    string
}{
	{35, "Service A"},
	{10, "headless Service A (3 endpoints)"},
	{5, "headless endpoint hostname A"},
	{10, "SRV of a Service's named port"},
	{5, "SRV of a headless Service's named port"},
	{10, "PTR of a Service or pod address"},
	{10, "AAAA NODATA of a Service"},
	{15, "NXDOMAIN: search-path misses and unknown Services"},
}

// queries writes n dnsperf queries ("name TYPE" lines) drawn from mix.
func queries(w io.Writer, svcs []svc, n int) {
	var plain, headless []svc
	for _, s := range svcs {
		switch {
		case s.clusterIP.IsValid():
			plain = append(plain, s)
		case s.external == "":
			headless = append(headless, s)
		}
	}
	r := rand.New(rand.NewPCG(1, 2)) // the same file each time
	pick := func(l []svc) svc { return l[r.IntN(len(l))] }
	arpa := func(ip netip.Addr) string {
		b := ip.As4()
		return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa.", b[3], b[2], b[1], b[0])
	}
	gen := []func() string{
		func() string { return pick(plain).fqdn() + " A" },
		func() string { return pick(headless).fqdn() + " A" },
		func() string {
			s := pick(headless)
			return s.epName(s.endpoints[r.IntN(len(s.endpoints))]) + " A"
		},
		func() string { return "_http._tcp." + pick(plain).fqdn() + " SRV" },
		func() string { return "_http._tcp." + pick(headless).fqdn() + " SRV" },
		func() string {
			if s := pick(plain); r.IntN(2) == 0 {
				return arpa(s.clusterIP) + " PTR"
			}
			s := pick(headless)
			return arpa(s.endpoints[r.IntN(len(s.endpoints))].ip) + " PTR"
		},
		func() string { return pick(plain).fqdn() + " AAAA" },
		func() string {
			s := pick(plain)
			host := fmt.Sprintf("host-%d.example.com", r.IntN(100))
			return [...]string{
				host + "." + s.ns + ".svc." + Domain + ".",
				host + ".svc." + Domain + ".",
				host + "." + Domain + ".",
				fmt.Sprintf("nosuch-%d.%s.svc.%s.", r.IntN(1000), s.ns, Domain),
			}[r.IntN(4)] + " A"
		},
	}
	for range n {
		k := r.IntN(100)
		for i, m := range mix {
			if k < m.percent {
				fmt.Fprintln(w, gen[i]())
				break
			}
			k -= m.percent
		}
	}
}
