package cluster

import (
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"podlab.dev/podlab/cluster/dns"
)

// queryLog keeps the last queries each DNS server of the lab answered (a CoreDNS pod,
// by namespace/name, or a host serving zones, by name) for `podlab logs` and the TUI,
// hands them to followers, and passes a few a second on to become lab events.
//
// add is on the DNS hot path (a benchmark sends 50k+ queries a second): it copies the
// query into a fixed ring under that server's lock and allocates nothing once the
// ring is full; it never blocks, writes no file and resolves no name. Who sent a
// query is worked out when the log is read (addressBook).
type queryLog struct {
	size   int // queries kept per server
	mu     sync.RWMutex
	rings  map[string]*queryRing
	limit  *eventLimit
	events chan dns.Query // the queries the limit let through, to become events
}

// queryRing is one server's last queries, oldest first from next once full.
type queryRing struct {
	mu   sync.Mutex
	buf  []dns.Query
	next int
	subs []*querySub
}

// querySub follows one server's queries; one that cannot keep up misses queries
// (counted) rather than slowing the server down.
type querySub struct {
	ch      chan dns.Query
	dropped atomic.Int64
}

// newQueryLog keeps size queries per server. limit (nil: no events) decides which
// queries become events; event is called with each of them in a goroutine of its own,
// so that writing the event never delays a reply.
func newQueryLog(size int, limit *eventLimit, event func(dns.Query)) *queryLog {
	l := &queryLog{size: size, rings: map[string]*queryRing{}, limit: limit}
	if limit != nil && event != nil {
		l.events = make(chan dns.Query, 2*limit.per)
		go func() {
			for q := range l.events {
				event(q)
			}
		}()
	}
	return l
}

// add records one answered query: dns.Server.Log.
func (l *queryLog) add(q dns.Query) {
	l.ring(q.Server).put(q)
	if l.events == nil || !l.limit.allow(q.Time, q.Server) {
		return
	}
	select {
	case l.events <- q:
	default: // the event writer is behind: count the query as not shown
		l.limit.hide(q.Server)
	}
}

// served returns the Log of a host's Authority, which leaves Server empty.
func (l *queryLog) served(host string) func(dns.Query) {
	return func(q dns.Query) {
		q.Server = host
		l.add(q)
	}
}

func (l *queryLog) ring(server string) *queryRing {
	l.mu.RLock()
	r := l.rings[server]
	l.mu.RUnlock()
	if r != nil {
		return r
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r = l.rings[server]; r == nil {
		r = &queryRing{buf: make([]dns.Query, 0, l.size)}
		l.rings[server] = r
	}
	return r
}

func (r *queryRing) put(q dns.Query) {
	r.mu.Lock()
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, q)
	} else {
		r.buf[r.next] = q
		r.next = (r.next + 1) % len(r.buf)
	}
	for _, s := range r.subs {
		select {
		case s.ch <- q:
		default:
			s.dropped.Add(1)
		}
	}
	r.mu.Unlock()
}

// ordered is the ring's queries, oldest first; r.mu is held.
func (r *queryRing) ordered() []dns.Query {
	out := make([]dns.Query, 0, len(r.buf))
	return append(append(out, r.buf[r.next:]...), r.buf[:r.next]...)
}

// queries returns server's kept queries, oldest first.
func (l *queryLog) queries(server string) []dns.Query {
	r := l.ring(server)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ordered()
}

// follow returns server's kept queries and, from the same instant, a subscription to
// the next ones; stop ends it.
func (l *queryLog) follow(server string, buffer int) (past []dns.Query, sub *querySub, stop func()) {
	r := l.ring(server)
	sub = &querySub{ch: make(chan dns.Query, buffer)}
	r.mu.Lock()
	past = r.ordered()
	r.subs = append(r.subs, sub)
	r.mu.Unlock()
	return past, sub, func() {
		r.mu.Lock()
		r.subs = slices.DeleteFunc(r.subs, func(s *querySub) bool { return s == sub })
		r.mu.Unlock()
	}
}

// recent returns the newest queries of every server, at most limit, newest first.
func (l *queryLog) recent(limit int) []dns.Query {
	l.mu.RLock()
	rings := make([]*queryRing, 0, len(l.rings))
	for _, r := range l.rings {
		rings = append(rings, r)
	}
	l.mu.RUnlock()
	var all []dns.Query
	for _, r := range rings {
		r.mu.Lock()
		q := r.ordered()
		r.mu.Unlock()
		all = append(all, q[max(0, len(q)-limit):]...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.After(all[j].Time) })
	return all[:min(limit, len(all))]
}

// eventLimit lets at most per queries a second become lab events, so that a benchmark
// cannot flood the event file; the queries it holds back are reported once, by
// report, after the second they fell in.
type eventLimit struct {
	per    int
	report func(hidden int, servers []string)
	after  func(time.Duration, func()) // time.AfterFunc; tests replace it

	mu      sync.Mutex
	sec     int64 // the second n counts
	n       int
	hidden  int
	servers []string // where the hidden queries are (the first few servers)
	armed   bool     // a report is due
}

func newEventLimit(per int, report func(hidden int, servers []string)) *eventLimit {
	return &eventLimit{per: per, report: report, after: func(d time.Duration, f func()) { time.AfterFunc(d, f) }}
}

// allow says whether a query at t becomes an event; when not, it is counted for the
// report.
func (l *eventLimit) allow(t time.Time, server string) bool {
	sec := t.Unix()
	l.mu.Lock()
	if sec != l.sec {
		l.sec, l.n = sec, 0
	}
	if l.n < l.per {
		l.n++
		l.mu.Unlock()
		return true
	}
	l.mu.Unlock()
	l.hide(server)
	return false
}

// hide counts a query that is not shown as an event.
func (l *eventLimit) hide(server string) {
	l.mu.Lock()
	l.hidden++
	if len(l.servers) < 4 && !slices.Contains(l.servers, server) {
		l.servers = append(l.servers, server)
	}
	arm := !l.armed
	l.armed = true
	l.mu.Unlock()
	if arm {
		// At the end of the second now is in, not t's: a query that started in a
		// second already reported is counted in the next report, not one of its own.
		next := time.Now().Truncate(time.Second).Add(time.Second)
		l.after(time.Until(next), l.flush)
	}
}

// flush reports the queries hidden since the last report.
func (l *eventLimit) flush() {
	l.mu.Lock()
	n, servers := l.hidden, l.servers
	l.hidden, l.servers, l.armed = 0, nil, false
	l.mu.Unlock()
	if n > 0 {
		l.report(n, servers)
	}
}
