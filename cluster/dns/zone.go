// Package dns is what the cluster DNS answers, as the CoreDNS `kubernetes` plugin does
// with kubeadm's Corefile (`kubernetes cluster.local in-addr.arpa ip6.arpa { pods
// insecure; fallthrough in-addr.arpa ip6.arpa; ttl 30 }`): A, AAAA, SRV for named ports,
// PTR, ExternalName as CNAME, headless Services by their ready endpoints and endpoint
// hostnames, pod records, the schema's dns-version TXT, NXDOMAIN and NODATA with the
// zone's SOA. A Zone is built from the object store's Services, EndpointSlices and
// Namespaces, whoever wrote them.
//
// It owns the answers only: serving them on sockets, forwarding names outside the
// cluster and logging queries are its callers' (the DNS component, not yet wired).
package dns

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"podlab.dev/podlab/cluster/store"
)

// SchemaVersion is the DNS-based service discovery spec the answers follow.
const SchemaVersion = "1.1.0"

// Zone is a snapshot of what the cluster DNS knows. Build computes every name and
// record that does not depend on the question, so that an answer only copies them:
// it runs once per change, Answer once per query.
type Zone struct {
	domain     string // e.g. cluster.local (lower case, no trailing dot)
	dotDomain  string // "." + domain
	version    string // the dns-version name, without the trailing dot
	ttl        uint32
	namespaces map[string]bool
	services   map[string]*service // "name.namespace", lower case
	ptr        map[netip.Addr]string
	soa        *mdns.SOA // shared by every answer: never modified
}

type service struct {
	ns, name  string
	fqdn      string // name.ns.svc.<domain>.
	headless  bool
	external  string
	ips       []netip.Addr
	ports     []port
	endpoints []endpoint
	ready     []endpoint // what DNS publishes, see publish
	versions  []string   // the resource versions it was worked out from (Rebuild)
}

type port struct {
	name, proto string // lower case
	port        int32
}

type endpoint struct {
	ip       netip.Addr
	hostname string // the endpoint's hostname, else the dashed address
	fqdn     string // hostname.<service's fqdn>
	ready    bool
	ports    []port // the slice's ports (headless SRV)
	slice    string // the EndpointSlice it came from
}

// Build makes the zone of domain from the store.
func Build(r store.Reader, domain string, ttl uint32) *Zone { return Rebuild(r, domain, ttl, nil) }

// Rebuild makes the zone of domain from the store, reusing prev's record of every
// Service whose object and EndpointSlices have not changed since (same resource
// versions): after one change among a thousand Services only that one is worked out
// again. prev may be nil.
func Rebuild(r store.Reader, domain string, ttl uint32, prev *Zone) *Zone {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	if prev != nil && (prev.domain != d || prev.ttl != ttl) {
		prev = nil
	}
	nsvc, nptr := 0, 0
	if prev != nil {
		nsvc, nptr = len(prev.services), len(prev.ptr)
	}
	z := &Zone{domain: d, dotDomain: "." + d, version: "dns-version." + d, ttl: ttl,
		namespaces: map[string]bool{}, services: make(map[string]*service, nsvc), ptr: make(map[netip.Addr]string, nptr)}
	z.soa = &mdns.SOA{Hdr: hdr(d+".", mdns.TypeSOA, ttl), Ns: "ns.dns." + d + ".", Mbox: "hostmaster." + d + ".",
		Serial: 1, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: ttl}
	for _, o := range r.List("Namespace", "") {
		z.namespaces[strings.ToLower(o.GetName())] = true
	}
	slices := r.List("EndpointSlice", "")
	bySvc := make(map[string][]*discoveryv1.EndpointSlice, len(slices))
	for _, o := range slices {
		sl := o.(*discoveryv1.EndpointSlice)
		k := strings.ToLower(sl.Labels[discoveryv1.LabelServiceName] + "." + sl.Namespace)
		bySvc[k] = append(bySvc[k], sl)
	}
	for _, o := range r.List("Service", "") {
		svc := o.(*corev1.Service)
		key := strings.ToLower(svc.Name + "." + svc.Namespace)
		s := prev.known(key)
		if !s.current(svc, bySvc[key]) {
			s = z.newService(svc, bySvc[key])
			s.versions = resourceVersions(svc, bySvc[key])
		}
		z.namespaces[s.ns] = true
		for _, a := range s.ips {
			z.ptr[a] = s.fqdn
		}
		z.services[key] = s
	}
	// The PTRs of headless Services' ready endpoints, in the slices' order (the last
	// one wins when two Services share an address).
	for _, o := range slices {
		sl := o.(*discoveryv1.EndpointSlice)
		s := z.services[strings.ToLower(sl.Labels[discoveryv1.LabelServiceName]+"."+sl.Namespace)]
		if s == nil || !s.headless {
			continue
		}
		for _, e := range s.endpoints {
			if e.ready && e.slice == sl.Name {
				z.ptr[e.ip] = e.fqdn
			}
		}
	}
	return z
}

// known is the record of the Service key (nil when z is nil).
func (z *Zone) known(key string) *service {
	if z == nil {
		return nil
	}
	return z.services[key]
}

// resourceVersions are the resource versions of a Service's object and slices, as
// stored (nil when one has none: then the record is never reused).
func resourceVersions(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) []string {
	if svc.ResourceVersion == "" {
		return nil
	}
	v := make([]string, 0, 1+len(slices))
	v = append(v, svc.ResourceVersion)
	for _, sl := range slices {
		if sl.ResourceVersion == "" {
			return nil
		}
		v = append(v, sl.Name+"@"+sl.ResourceVersion)
	}
	return v
}

// current says whether s (nil: none) was worked out from this Service object and
// these slices, comparing without allocating.
func (s *service) current(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) bool {
	if s == nil || len(s.versions) != 1+len(slices) || s.versions[0] != svc.ResourceVersion {
		return false
	}
	for i, sl := range slices {
		v := s.versions[i+1]
		if len(v) != len(sl.Name)+1+len(sl.ResourceVersion) || v[:len(sl.Name)] != sl.Name || v[len(sl.Name)+1:] != sl.ResourceVersion {
			return false
		}
	}
	return true
}

// newService works out a Service's records from its object and EndpointSlices.
func (z *Zone) newService(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) *service {
	s := &service{ns: strings.ToLower(svc.Namespace), name: strings.ToLower(svc.Name)}
	s.fqdn = s.name + "." + s.ns + ".svc." + z.domain + "."
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		s.external = strings.TrimSuffix(svc.Spec.ExternalName, ".")
	case svc.Spec.ClusterIP == corev1.ClusterIPNone:
		s.headless = true
	default:
		ips := svc.Spec.ClusterIPs
		if len(ips) == 0 && svc.Spec.ClusterIP != "" {
			ips = []string{svc.Spec.ClusterIP}
		}
		for _, ip := range ips {
			if a, err := netip.ParseAddr(ip); err == nil {
				s.ips = append(s.ips, a)
			}
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.Name != "" {
			s.ports = append(s.ports, port{strings.ToLower(p.Name), protoName(p.Protocol), p.Port})
		}
	}
	if s.external != "" {
		return s
	}
	for _, sl := range slices {
		var ports []port
		for _, p := range sl.Ports {
			if p.Name != nil && *p.Name != "" && p.Port != nil {
				proto := corev1.ProtocolTCP
				if p.Protocol != nil {
					proto = *p.Protocol
				}
				ports = append(ports, port{strings.ToLower(*p.Name), protoName(proto), *p.Port})
			}
		}
		for _, e := range sl.Endpoints {
			ready := e.Conditions.Ready == nil || *e.Conditions.Ready
			for _, a := range e.Addresses {
				ip, err := netip.ParseAddr(a)
				if err != nil {
					continue
				}
				h := dashed(ip)
				if e.Hostname != nil && *e.Hostname != "" {
					h = strings.ToLower(*e.Hostname)
				}
				s.endpoints = append(s.endpoints, endpoint{ip: ip, hostname: h, fqdn: h + "." + s.fqdn, ready: ready, ports: ports, slice: sl.Name})
			}
		}
	}
	sort.SliceStable(s.endpoints, func(i, j int) bool { return s.endpoints[i].ip.Less(s.endpoints[j].ip) })
	s.ready = s.publish()
	return s
}

func protoName(p corev1.Protocol) string {
	if p == "" {
		return "tcp"
	}
	return strings.ToLower(string(p))
}

// dashed is CoreDNS's name for an endpoint without a hostname: its address with dashes.
func dashed(ip netip.Addr) string {
	if ip.Is4() {
		return strings.ReplaceAll(ip.String(), ".", "-")
	}
	return strings.ReplaceAll(ip.StringExpanded(), ":", "-")
}

// publish lists the endpoints DNS publishes: the ready ones (the endpoints controller
// already marks not-ready ones ready when the Service publishes them).
func (s *service) publish() []endpoint {
	var out []endpoint
	for _, e := range s.endpoints {
		if e.ready {
			out = append(out, e)
		}
	}
	return out
}

// podIP reads a pod record's "a-b-c-d" label.
func podIP(label string) (netip.Addr, bool) {
	if strings.Count(label, "-") == 3 {
		if a, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ".")); err == nil && a.Is4() {
			return a, true
		}
	}
	if a, err := netip.ParseAddr(strings.ReplaceAll(label, "-", ":")); err == nil && a.Is6() {
		return a, true
	}
	return netip.Addr{}, false
}

// reverse reads an in-addr.arpa or ip6.arpa name (without the trailing dot).
func reverse(name string) (netip.Addr, bool) {
	switch {
	case strings.HasSuffix(name, ".in-addr.arpa"):
		parts := strings.Split(strings.TrimSuffix(name, ".in-addr.arpa"), ".")
		if len(parts) != 4 {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil || v < 0 || v > 255 {
				return netip.Addr{}, false
			}
			b[3-i] = byte(v)
		}
		return netip.AddrFrom4(b), true
	case strings.HasSuffix(name, ".ip6.arpa"):
		nibbles := strings.Split(strings.TrimSuffix(name, ".ip6.arpa"), ".")
		if len(nibbles) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, n := range nibbles {
			v, err := strconv.ParseUint(n, 16, 8)
			if err != nil || len(n) != 1 {
				return netip.Addr{}, false
			}
			pos := 31 - i
			if pos%2 == 0 {
				b[pos/2] |= byte(v) << 4
			} else {
				b[pos/2] |= byte(v)
			}
		}
		return netip.AddrFrom16(b), true
	}
	return netip.Addr{}, false
}
