package dns

import (
	"net"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// Answer is the reply to a query, or nil when the name is outside what the cluster
// DNS is authoritative for (its caller forwards it upstream, or answers SERVFAIL).
// Names are compared case-insensitively; answers carry the question's own spelling.
// The zone's SOA record is shared by every reply: callers must not modify records.
func (z *Zone) Answer(req *mdns.Msg) *mdns.Msg {
	if len(req.Question) != 1 {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeFormatError)
		return m
	}
	q := req.Question[0]
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = false
	switch {
	case name == z.version:
		if q.Qtype == mdns.TypeTXT {
			m.Answer = append(m.Answer, &mdns.TXT{Hdr: hdr(q.Name, mdns.TypeTXT, 28800), Txt: []string{SchemaVersion}})
		}
		return z.finish(m, true)
	case strings.HasSuffix(name, ".in-addr.arpa") || strings.HasSuffix(name, ".ip6.arpa"):
		ip, ok := reverse(name)
		target, found := z.ptr[ip]
		if !ok || !found {
			return nil // fallthrough in-addr.arpa ip6.arpa: the next plugin's
		}
		if q.Qtype == mdns.TypePTR {
			m.Answer = append(m.Answer, &mdns.PTR{Hdr: hdr(q.Name, mdns.TypePTR, z.ttl), Ptr: target})
		}
		return z.finish(m, true)
	case name == z.domain || strings.HasSuffix(name, z.dotDomain):
	default:
		return nil
	}
	var buf [maxLabels]string
	labels, ok := split(strings.TrimSuffix(strings.TrimSuffix(name, z.domain), "."), buf[:0])
	if !ok {
		return z.finish(m, false) // deeper than any name of the zone
	}
	if name == z.domain {
		labels = nil
	}
	// labels read from the right: [..., svc|pod]
	n := len(labels)
	if n == 0 {
		if q.Qtype == mdns.TypeSOA {
			m.Answer = append(m.Answer, z.soa)
		}
		return z.finish(m, true)
	}
	switch labels[n-1] {
	case "svc":
		return z.finish(m, z.underSvc(m, q, labels[:n-1]))
	case "pod":
		return z.finish(m, z.pods(m, q, labels[:n-1]))
	}
	return z.finish(m, false)
}

// maxLabels is the most labels a name of the zone has before the domain:
// _<port>._<proto>.<svc>.<ns>.svc.
const maxLabels = 5

// split is strings.Split(s, ".") into buf, without allocating; false when s has more
// than cap(buf) labels.
func split(s string, buf []string) ([]string, bool) {
	for {
		i := strings.IndexByte(s, '.')
		if len(buf) == cap(buf) {
			return nil, false
		}
		if i < 0 {
			return append(buf, s), true
		}
		buf = append(buf, s[:i])
		s = s[i+1:]
	}
}

// underSvc answers names under svc.<zone>: labels are what precedes "svc". It says
// whether the name exists.
func (z *Zone) underSvc(m *mdns.Msg, q mdns.Question, labels []string) bool {
	n := len(labels)
	if n == 0 {
		return true // svc.<zone>: NODATA
	}
	ns := labels[n-1]
	if n == 1 {
		return z.namespaces[ns]
	}
	s := z.services[labels[n-2]+"."+ns]
	if s == nil {
		return false
	}
	switch n {
	case 2: // <svc>.<ns>
		return z.service(m, q, s)
	case 3: // <hostname>.<svc>.<ns>
		for _, e := range s.ready {
			if e.hostname == labels[0] {
				z.address(m, q, e.ip)
				return true
			}
		}
		return false
	case 4: // _<port>._<proto>.<svc>.<ns>
		if !strings.HasPrefix(labels[0], "_") || !strings.HasPrefix(labels[1], "_") {
			return false
		}
		pname, proto := labels[0][1:], labels[1][1:]
		found := false
		if s.headless {
			for _, e := range s.ready {
				for _, p := range e.ports {
					if p.name == pname && p.proto == proto {
						found = true
						if q.Qtype == mdns.TypeSRV {
							z.srv(m, q, uint16(p.port), e.fqdn, e.ip, len(s.ready))
						}
					}
				}
			}
			return found
		}
		for _, p := range s.ports {
			if p.name == pname && p.proto == proto {
				found = true
				if q.Qtype == mdns.TypeSRV {
					for _, ip := range s.ips {
						z.srv(m, q, uint16(p.port), s.fqdn, ip, 1)
					}
				}
			}
		}
		return found
	}
	return false
}

// service answers <svc>.<ns>.svc.<zone>.
func (z *Zone) service(m *mdns.Msg, q mdns.Question, s *service) bool {
	if s.external != "" {
		if net.ParseIP(s.external) != nil {
			return true // an IP as externalName gets no answer
		}
		switch q.Qtype {
		case mdns.TypeA, mdns.TypeAAAA, mdns.TypeCNAME, mdns.TypeANY:
			m.Answer = append(m.Answer, &mdns.CNAME{Hdr: hdr(q.Name, mdns.TypeCNAME, z.ttl), Target: mdns.Fqdn(s.external)})
		}
		return true
	}
	if s.headless {
		if len(s.ready) == 0 {
			return false // no ready endpoint: NXDOMAIN
		}
		for _, e := range s.ready {
			z.address(m, q, e.ip)
		}
		if q.Qtype == mdns.TypeSRV {
			for _, e := range s.ready {
				for _, p := range e.ports {
					z.srv(m, q, uint16(p.port), e.fqdn, e.ip, len(s.ready))
				}
			}
		}
		return true
	}
	for _, ip := range s.ips {
		z.address(m, q, ip)
	}
	if q.Qtype == mdns.TypeSRV {
		for _, p := range s.ports {
			for _, ip := range s.ips {
				z.srv(m, q, uint16(p.port), s.fqdn, ip, 1)
			}
		}
	}
	return true
}

// pods answers <a-b-c-d>.<ns>.pod.<zone> as `pods insecure` does: any well-formed
// address in an existing namespace.
func (z *Zone) pods(m *mdns.Msg, q mdns.Question, labels []string) bool {
	switch len(labels) {
	case 0:
		return true
	case 1:
		return z.namespaces[labels[0]]
	case 2:
		ip, ok := podIP(labels[0])
		if !ok || !z.namespaces[labels[1]] {
			return false
		}
		z.address(m, q, ip)
		return true
	}
	return false
}

// address adds ip to the answer when the question asks for its family.
func (z *Zone) address(m *mdns.Msg, q mdns.Question, ip netip.Addr) {
	if rr := z.addressRR(q, ip); rr != nil {
		m.Answer = append(m.Answer, rr)
	}
}

// addressRR is ip's A or AAAA record named as q, nil when q asks for neither.
func (z *Zone) addressRR(q mdns.Question, ip netip.Addr) mdns.RR {
	switch {
	case ip.Is4() && (q.Qtype == mdns.TypeA || q.Qtype == mdns.TypeANY):
		return &mdns.A{Hdr: hdr(q.Name, mdns.TypeA, z.ttl), A: ip.AsSlice()}
	case ip.Is6() && (q.Qtype == mdns.TypeAAAA || q.Qtype == mdns.TypeANY):
		return &mdns.AAAA{Hdr: hdr(q.Name, mdns.TypeAAAA, z.ttl), AAAA: ip.AsSlice()}
	}
	return nil
}

// srv adds an SRV record and its target's address, weights dividing 100 among the
// targets as CoreDNS does.
func (z *Zone) srv(m *mdns.Msg, q mdns.Question, p uint16, target string, ip netip.Addr, targets int) {
	w := uint16(100 / max(targets, 1))
	m.Answer = append(m.Answer, &mdns.SRV{Hdr: hdr(q.Name, mdns.TypeSRV, z.ttl), Priority: 0, Weight: w, Port: p, Target: target})
	if rr := z.addressRR(mdns.Question{Name: target, Qtype: mdns.TypeANY}, ip); rr != nil {
		m.Extra = append(m.Extra, rr)
	}
}

// finish sets the rcode: NXDOMAIN for a name that does not exist, NODATA (NOERROR, no
// answer) for one that does; both carry the zone's SOA, as CoreDNS writes it.
func (z *Zone) finish(m *mdns.Msg, exists bool) *mdns.Msg {
	if !exists {
		m.Rcode = mdns.RcodeNameError
	}
	if len(m.Answer) == 0 {
		m.Ns = append(m.Ns, z.soa)
	}
	return m
}

func hdr(name string, t uint16, ttl uint32) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: ttl}
}
