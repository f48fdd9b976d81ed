package dns

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
)

// Server answers DNS queries from the latest Zone, as a component: every change of a
// Namespace, Service or EndpointSlice rebuilds the zone, and the next query sees it.
// Names outside the cluster go to the upstream (host:port, UDP then TCP on
// truncation; SetUpstream); with none they get SERVFAIL at once, never a timeout.
type Server struct {
	component.Loop
	domain   string
	ttl      uint32
	zone     atomic.Pointer[Zone]
	upstream atomic.Pointer[string]
	// Log, when set (before serving), learns every query: the client, the name, the
	// type, the rcode and how long the answer took.
	Log func(client net.Addr, name string, qtype uint16, rcode int, took time.Duration)
}

// NewServer returns the DNS component for the cluster domain, answering with ttl.
func NewServer(domain string, ttl uint32) *Server {
	s := &Server{domain: domain, ttl: ttl}
	s.zone.Store(Build(store.New(), domain, ttl))
	s.Interest = func(_ store.Reader, c store.Change) bool {
		switch c.Key.Kind {
		case "Namespace", "Service", "EndpointSlice":
			return true
		}
		return false
	}
	return s
}

func (s *Server) Name() string { return "dns" }

// SetUpstream sets where names outside the cluster are forwarded ("" for nowhere).
func (s *Server) SetUpstream(addr string) { s.upstream.Store(&addr) }

// Run rebuilds the zone at every change that concerns it until ctx ends.
func (s *Server) Run(ctx context.Context, r store.Reader) error {
	return s.Loop.Run(ctx, r, func(context.Context, uint64) { s.zone.Store(Build(r, s.domain, s.ttl)) })
}

// Zone is the zone queries are answered from now.
func (s *Server) Zone() *Zone { return s.zone.Load() }

// ServeDNS answers one query (the miekg/dns handler interface): from the zone, else
// upstream, truncated to what the client can take over UDP (512 bytes, or its EDNS0
// buffer size) with TC set, so that it retries over TCP.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	start := time.Now()
	m := s.answer(req)
	size := 512
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		if o := req.IsEdns0(); o != nil {
			size = max(int(o.UDPSize()), 512)
			m.SetEdns0(o.UDPSize(), false)
		}
		m.Truncate(size)
	} else if o := req.IsEdns0(); o != nil {
		m.SetEdns0(o.UDPSize(), false)
	}
	w.WriteMsg(m)
	if s.Log != nil && len(req.Question) > 0 {
		s.Log(w.RemoteAddr(), req.Question[0].Name, req.Question[0].Qtype, m.Rcode, time.Since(start))
	}
}

func (s *Server) answer(req *mdns.Msg) *mdns.Msg {
	if req.Opcode != mdns.OpcodeQuery {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeNotImplemented)
		return m
	}
	if m := s.Zone().Answer(req); m != nil {
		return m
	}
	if up := s.upstream.Load(); up != nil && *up != "" {
		c := &mdns.Client{Timeout: 2 * time.Second}
		if m, _, err := c.Exchange(req, *up); err == nil {
			if m.Truncated {
				c.Net = "tcp"
				if mt, _, err := c.Exchange(req, *up); err == nil {
					m = mt
				}
			}
			m.Id = req.Id
			return m
		}
	}
	m := new(mdns.Msg)
	m.SetRcode(req, mdns.RcodeServerFailure)
	m.RecursionAvailable = true
	return m
}
