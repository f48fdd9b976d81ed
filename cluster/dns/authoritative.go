package dns

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/topology"
)

// Authority answers for a lab host's static zones as an authoritative-only server (knot,
// nsd) does: AA set, exact and wildcard matches, CNAMEs followed inside their zone,
// NODATA and NXDOMAIN with the zone's SOA in the authority section, REFUSED for names
// outside its zones, and no recursion. It is what a cluster DNS upstream can be when
// the lab has no internet. Its zones are read by topology.ParseZone, the same parser
// that validated the lab file.
type Authority struct {
	zones []*authZone // longest origin first, so a child zone wins over its parent
	// Log, when set (before serving), learns every query as Server.Log does.
	Log func(Query)
}

type authZone struct {
	origin string               // lower case, with the final dot
	soa    *mdns.SOA            // for negative answers
	names  map[string][]mdns.RR // owner (lower case) -> its records
	exists map[string]bool      // every owner and every name between one and the origin
}

// NewAuthority reads zones: zone name -> RFC 1035 master-file text (plan.Host.Zones).
func NewAuthority(zones map[string]string) (*Authority, error) {
	a := &Authority{}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(zones)) {
		zn, err := topology.ZoneName(name)
		if err != nil {
			errs = append(errs, fmt.Errorf("zone %q: %w", name, err))
			continue
		}
		rrs, zerrs := topology.ParseZone(zn, zones[name])
		for _, ze := range zerrs {
			errs = append(errs, fmt.Errorf("zone %s: %w", zn, ze))
		}
		if len(zerrs) == 0 {
			a.zones = append(a.zones, newAuthZone(zn, rrs))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	sort.SliceStable(a.zones, func(i, j int) bool { return len(a.zones[i].origin) > len(a.zones[j].origin) })
	return a, nil
}

func newAuthZone(name string, rrs []mdns.RR) *authZone {
	z := &authZone{origin: mdns.Fqdn(name), names: map[string][]mdns.RR{}, exists: map[string]bool{}}
	for _, rr := range rrs {
		owner := strings.ToLower(rr.Header().Name)
		z.names[owner] = append(z.names[owner], rr)
		if soa, ok := rr.(*mdns.SOA); ok && owner == z.origin {
			z.soa = soa
		}
		for n := owner; !z.exists[n]; n = parent(n) {
			z.exists[n] = true
			if n == z.origin {
				break
			}
		}
	}
	return z
}

// parent drops a name's first label: "a.b.c." -> "b.c.".
func parent(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 && i+1 < len(name) {
		return name[i+1:]
	}
	return "."
}

// ServeDNS answers one query (the miekg/dns handler interface), sized for the client
// as Server does.
func (a *Authority) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	start := time.Now()
	m := a.Answer(req)
	fitReply(w, req, m)
	w.WriteMsg(m)
	if a.Log != nil {
		a.Log(newQuery(w, req, m, start))
	}
}

// fitReply echoes the client's EDNS0 and, over UDP, truncates the reply to what the
// client can take (512 bytes, or its EDNS0 buffer) with TC set, so that it retries
// over TCP.
func fitReply(w mdns.ResponseWriter, req, m *mdns.Msg) {
	size := 512
	if o := req.IsEdns0(); o != nil {
		size = max(int(o.UDPSize()), size)
		if m.IsEdns0() == nil { // a forwarded reply has the upstream's already
			m.SetEdns0(o.UDPSize(), false)
		}
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		m.Truncate(size)
	}
}

// Answer is the reply to req before it is sized for a transport.
func (a *Authority) Answer(req *mdns.Msg) *mdns.Msg {
	m := new(mdns.Msg)
	switch {
	case req.Opcode != mdns.OpcodeQuery:
		return m.SetRcode(req, mdns.RcodeNotImplemented)
	case len(req.Question) != 1:
		return m.SetRcode(req, mdns.RcodeFormatError)
	}
	q := req.Question[0]
	z := a.zone(q.Name)
	if z == nil || (q.Qclass != mdns.ClassINET && q.Qclass != mdns.ClassANY) {
		return m.SetRcode(req, mdns.RcodeRefused) // not ours: no recursion here
	}
	m.SetReply(req)
	m.Authoritative = true
	if q.Qtype == mdns.TypeAXFR || q.Qtype == mdns.TypeIXFR {
		m.Authoritative = false
		return m.SetRcode(req, mdns.RcodeRefused) // no transfers: there are no secondaries
	}
	z.resolve(m, q)
	return m
}

// zone is the most specific zone holding name, or nil.
func (a *Authority) zone(name string) *authZone {
	name = strings.ToLower(mdns.Fqdn(name))
	for _, z := range a.zones {
		if mdns.IsSubDomain(z.origin, name) {
			return z
		}
	}
	return nil
}

// resolve fills m's sections for q (RFC 1034 4.3.2 without delegations): the records
// of the name asked or of the wildcard that covers it, following CNAMEs that stay in
// the zone; else NODATA or NXDOMAIN, with the SOA.
func (z *authZone) resolve(m *mdns.Msg, q mdns.Question) {
	owner, name := q.Name, strings.ToLower(q.Name)
	seen := map[string]bool{}
	for !seen[name] {
		seen[name] = true
		rrs, ok := z.names[name]
		if !ok && !z.exists[name] {
			rrs, ok = z.wildcard(name)
		}
		if !ok {
			if !z.exists[name] {
				m.Rcode = mdns.RcodeNameError
			}
			m.Ns = []mdns.RR{z.negativeSOA()}
			return
		}
		var cname *mdns.CNAME
		var hits []mdns.RR
		for _, rr := range rrs {
			if t := rr.Header().Rrtype; t == q.Qtype || q.Qtype == mdns.TypeANY {
				hits = append(hits, withOwner(rr, owner))
			}
			if c, ok := rr.(*mdns.CNAME); ok {
				cname = c
			}
		}
		switch {
		case len(hits) > 0:
			m.Answer = append(m.Answer, hits...)
			return
		case cname == nil:
			m.Ns = []mdns.RR{z.negativeSOA()} // NODATA
			return
		}
		m.Answer = append(m.Answer, withOwner(cname, owner))
		owner, name = cname.Target, strings.ToLower(cname.Target)
		if !mdns.IsSubDomain(z.origin, name) {
			return // another zone's name: the resolver follows it
		}
	}
}

// wildcard is the records of the wildcard at name's closest encloser (RFC 4592).
func (z *authZone) wildcard(name string) ([]mdns.RR, bool) {
	for n := parent(name); mdns.IsSubDomain(z.origin, n); n = parent(n) {
		if z.exists[n] {
			rrs, ok := z.names["*."+n]
			return rrs, ok
		}
	}
	return nil, false
}

// negativeSOA is the SOA of a negative answer, whose TTL is how long a resolver may
// cache the absence (RFC 2308): the lesser of the SOA's TTL and its minimum.
func (z *authZone) negativeSOA() mdns.RR {
	soa := mdns.Copy(z.soa).(*mdns.SOA)
	soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	return soa
}

// withOwner is rr named as the question or CNAME target asked for it (wildcards are
// expanded, and the asker's letter case is kept).
func withOwner(rr mdns.RR, owner string) mdns.RR {
	rr = mdns.Copy(rr)
	rr.Header().Name = owner
	return rr
}

// AuthorityServer is an Authority serving 53/udp and 53/tcp in one network namespace.
type AuthorityServer struct {
	servers [2]*mdns.Server // udp, tcp
	once    sync.Once
	err     error
}

// ServeNetns opens 53/udp and 53/tcp inside the network namespace at netnsPath (a lab
// host's) and answers from a. It returns once both sockets serve, so that Close can
// never race a server that has not started yet.
func (a *Authority) ServeNetns(netnsPath string) (*AuthorityServer, error) {
	var pc net.PacketConn
	var l net.Listener
	err := nsutil.Do(netnsPath, func() error {
		var err error
		if pc, err = net.ListenPacket("udp", fmt.Sprintf(":%d", PortDNS)); err != nil {
			return err
		}
		l, err = net.Listen("tcp", fmt.Sprintf(":%d", PortDNS))
		return err
	})
	if err != nil {
		if pc != nil {
			pc.Close()
		}
		return nil, fmt.Errorf("dns: authoritative server in %s: %w", netnsPath, err)
	}
	s := &AuthorityServer{servers: [2]*mdns.Server{{PacketConn: pc, Handler: a}, {Listener: l, Handler: a}}}
	started, failed := make(chan struct{}, 2), make(chan error, 2)
	for _, d := range s.servers {
		d.NotifyStartedFunc = func() { started <- struct{}{} }
		go func() {
			if err := d.ActivateAndServe(); err != nil {
				failed <- err
			}
		}()
	}
	for range s.servers {
		select {
		case <-started:
		case err := <-failed:
			s.Close()
			return nil, fmt.Errorf("dns: authoritative server in %s: %w", netnsPath, err)
		}
	}
	return s, nil
}

// Close stops both listeners; later calls return the first call's error.
func (s *AuthorityServer) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.err = errors.Join(s.servers[0].ShutdownContext(ctx), s.servers[1].ShutdownContext(ctx))
	})
	return s.err
}
