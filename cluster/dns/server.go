package dns

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
)

// Server answers DNS queries from the latest Zone, as a component: every change of a
// Namespace, Service or EndpointSlice rebuilds the zone, and the next query sees it.
// Names outside the cluster go to the upstream (host:port, UDP then TCP on
// truncation; SetUpstream), asked from the namespace of the pod that took the query;
// with none they get SERVFAIL at once, never a timeout. Address records of an answer
// are shuffled, as CoreDNS's loadbalance plugin does.
type Server struct {
	component.Loop
	domain   string
	ttl      uint32
	zone     atomic.Pointer[Zone]
	upstream atomic.Pointer[string]
	// Log, when set (before serving), learns every query and its answer.
	Log func(Query)
}

// Query is one query and its answer, for the query log: what CoreDNS's log plugin
// prints.
type Query struct {
	Time     time.Time     `json:"time"`
	Server   string        `json:"server,omitempty"` // the pod (namespace/name) or host that answered
	Client   string        `json:"client"`           // address:port
	Proto    string        `json:"proto"`            // udp | tcp
	ID       uint16        `json:"id"`
	Name     string        `json:"name"`
	Type     string        `json:"type"`
	Class    string        `json:"class"`
	Size     int           `json:"size"` // of the query
	DO       bool          `json:"do"`
	BufSize  int           `json:"bufsize"`
	Rcode    string        `json:"rcode"`
	Flags    string        `json:"flags"`   // of the reply: qr,aa,tc,rd,ra
	Answers  []string      `json:"answers"` // the answer section, one record per entry (see Text)
	RespSize int           `json:"respSize"`
	Took     time.Duration `json:"took"`
	Upstream string        `json:"upstream,omitempty"` // where it was forwarded

	// answer is the reply's answer section as records: Text makes them Answers when
	// the query is read, since writing records as text costs more than answering.
	answer []mdns.RR
}

// Text fills Answers from the reply's records, once; Log receives a Query without
// them.
func (q *Query) Text() {
	if q.Answers != nil || len(q.answer) == 0 {
		return
	}
	q.Answers = make([]string, len(q.answer))
	for i, rr := range q.answer {
		q.Answers[i] = strings.ReplaceAll(rr.String(), "\t", " ")
	}
}

// String is the line CoreDNS's log plugin writes for q (its default format).
func (q Query) String() string {
	return fmt.Sprintf(`[INFO] %s - %d "%s %s %s %s %d %v %d" %s %s %d %.9fs`,
		q.Client, q.ID, q.Type, q.Class, q.Name, q.Proto, q.Size, q.DO, q.BufSize, q.Rcode, q.Flags, q.RespSize, q.Took.Seconds())
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

// Upstream is where names outside the cluster are forwarded ("": nowhere).
func (s *Server) Upstream() string {
	if up := s.upstream.Load(); up != nil {
		return *up
	}
	return ""
}

// Run rebuilds the zone at every change that concerns it until ctx ends.
func (s *Server) Run(ctx context.Context, r store.Reader) error {
	return s.Loop.Run(ctx, r, func(context.Context, uint64) { s.zone.Store(Rebuild(r, s.domain, s.ttl, s.zone.Load())) })
}

// Zone is the zone queries are answered from now.
func (s *Server) Zone() *Zone { return s.zone.Load() }

// ServeDNS answers one query (the miekg/dns handler interface) in the caller's own
// network namespace: from the zone, else upstream, truncated to what the client can
// take over UDP (512 bytes, or its EDNS0 buffer size) with TC set, so that it retries
// over TCP.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	s.serve(w, req, "", (&net.Dialer{}).Dial)
}

// dialer opens a socket to the upstream.
type dialer func(network, addr string) (net.Conn, error)

func (s *Server) serve(w mdns.ResponseWriter, req *mdns.Msg, server string, dial dialer) {
	start := time.Now()
	m, upstream := s.answer(req, dial)
	loadbalance(m)
	fitReply(w, req, m)
	w.WriteMsg(m)
	if s.Log != nil {
		q := newQuery(w, req, m, start)
		q.Server, q.Upstream = server, upstream
		s.Log(q)
	}
}

// newQuery describes req and its reply m for the query log.
func newQuery(w mdns.ResponseWriter, req, m *mdns.Msg, start time.Time) Query {
	q := Query{Time: start, Client: w.RemoteAddr().String(), Proto: "udp", ID: req.Id, Size: req.Len(), BufSize: 512,
		Rcode: mdns.RcodeToString[m.Rcode], RespSize: m.Len(), Took: time.Since(start)}
	if _, tcp := w.RemoteAddr().(*net.TCPAddr); tcp {
		q.Proto = "tcp"
	}
	if len(req.Question) > 0 {
		qq := req.Question[0]
		q.Name, q.Type, q.Class = qq.Name, mdns.TypeToString[qq.Qtype], mdns.ClassToString[qq.Qclass]
	}
	if o := req.IsEdns0(); o != nil {
		q.DO, q.BufSize = o.Do(), int(o.UDPSize())
	}
	q.Flags = replyFlags[flagBits(m)]
	if len(m.Answer) > 0 {
		q.answer = append([]mdns.RR(nil), m.Answer...) // m.Answer may be shuffled by the next query
	}
	return q
}

// flagNames are the header flags the log plugin prints, in its order.
var flagNames = [5]string{"qr", "aa", "tc", "rd", "ra"}

// replyFlags is every combination of the flags as the log plugin prints it
// ("qr,aa,rd"), by flagBits: made once, not per query.
var replyFlags = func() (out [32]string) {
	for bits := range out {
		var names []string
		for i, n := range flagNames {
			if bits&(1<<i) != 0 {
				names = append(names, n)
			}
		}
		out[bits] = strings.Join(names, ",")
	}
	return out
}()

func flagBits(m *mdns.Msg) int {
	bits := 0
	for i, on := range [5]bool{m.Response, m.Authoritative, m.Truncated, m.RecursionDesired, m.RecursionAvailable} {
		if on {
			bits |= 1 << i
		}
	}
	return bits
}

// loadbalance shuffles the address records of m's answer, as CoreDNS's loadbalance
// plugin (round_robin) does, so that clients taking the first spread over them.
func loadbalance(m *mdns.Msg) {
	var idx []int
	for i, rr := range m.Answer {
		if t := rr.Header().Rrtype; t == mdns.TypeA || t == mdns.TypeAAAA {
			idx = append(idx, i)
		}
	}
	if len(idx) < 2 {
		return
	}
	rand.Shuffle(len(idx), func(i, j int) {
		a, b := idx[i], idx[j]
		m.Answer[a], m.Answer[b] = m.Answer[b], m.Answer[a]
	})
}

func (s *Server) answer(req *mdns.Msg, dial dialer) (*mdns.Msg, string) {
	if req.Opcode != mdns.OpcodeQuery {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeNotImplemented)
		return m, ""
	}
	up := s.Upstream()
	if m := s.Zone().Answer(req); m != nil {
		if up != "" {
			s.chase(m, req, up, dial)
		}
		return m, ""
	}
	if up != "" {
		if m, err := forward(req, up, dial); err == nil {
			m.Id = req.Id
			return m, up
		}
	}
	m := new(mdns.Msg)
	m.SetRcode(req, mdns.RcodeServerFailure)
	m.RecursionAvailable = true
	return m, up
}

// chase completes an ExternalName's CNAME with the target's records of the asked
// type, as CoreDNS's kubernetes plugin does (it looks the target up through its own
// server, whose forward plugin asks the upstream); a failed lookup leaves the CNAME.
func (s *Server) chase(m, req *mdns.Msg, up string, dial dialer) {
	if len(m.Answer) == 0 || len(req.Question) == 0 {
		return
	}
	qt := req.Question[0].Qtype
	cname, ok := m.Answer[len(m.Answer)-1].(*mdns.CNAME)
	if !ok || qt != mdns.TypeA && qt != mdns.TypeAAAA || mdns.IsSubDomain(s.domain+".", strings.ToLower(cname.Target)) {
		return
	}
	q := new(mdns.Msg)
	q.SetQuestion(cname.Target, qt)
	if r, err := forward(q, up, dial); err == nil && r.Rcode == mdns.RcodeSuccess {
		m.Answer = append(m.Answer, r.Answer...)
	}
}

// forward asks the upstream over UDP, and again over TCP when the answer is truncated.
func forward(req *mdns.Msg, upstream string, dial dialer) (*mdns.Msg, error) {
	var last *mdns.Msg
	for _, network := range []string{"udp", "tcp"} {
		c, err := dial(network, upstream)
		if err != nil {
			return last, err
		}
		conn := &mdns.Conn{Conn: c, UDPSize: mdns.DefaultMsgSize}
		conn.SetDeadline(time.Now().Add(2 * time.Second))
		err = conn.WriteMsg(req)
		var m *mdns.Msg
		if err == nil {
			m, err = conn.ReadMsg()
		}
		conn.Close()
		if err != nil {
			if last != nil {
				return last, nil
			}
			return nil, err
		}
		if !m.Truncated {
			return m, nil
		}
		last = m
	}
	return last, nil
}
