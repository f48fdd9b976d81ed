// Package resolver is a stub resolver that walks a name through a resolv.conf as
// glibc's res_search does (resolv/res_query.c, __res_context_search; res_send.c for
// the servers), sending real queries, and returns every query it made: the name,
// type, server, rcode, answers and time. It is what `podlab dns` shows, so that a
// pod's search path and ndots:5 can be seen at work. It owns no state and never
// opens a socket itself: Dial does, wherever its caller wants (a pod's namespace).
//
// The search, as glibc does it, for a name with D dots (a trailing one counted):
//
//  1. D >= ndots, or a trailing dot: the name is asked as it is first. An answer ends
//     the search; with a trailing dot so does anything else (no search list).
//  2. Without a trailing dot, the name is asked with each search domain appended in
//     turn ("." or "" in the list means the root). An answer ends the search. NXDOMAIN
//     (HOST_NOT_FOUND) and NOERROR without answers (NODATA, remembered) go on to the
//     next domain, as does SERVFAIL from every server; when no server was reachable
//     at all (ICMP port unreachable: ECONNREFUSED) the search ends at once; any other
//     failure (a timeout, REFUSED, FORMERR, NOTIMP) ends the list but not step 3.
//  3. A name not yet asked as it is, and whose search list did not hold the root, is
//     asked as it is last (for a dotless name only without no-tld-query).
//
// The failure reported is the first as-is query's when there was one, else NODATA if
// any domain gave it, else SERVFAIL if any did, else the last query's. "Answer" is
// what glibc means by it: rcode NOERROR and at least one record in the answer section
// (a CNAME alone is one). getaddrinfo sends A and AAAA together per candidate and
// takes the candidate when either answers; this asks one type.
//
// Each query goes to the servers in order (rotate: starting one further each query),
// attempts rounds over them; server number i waits (timeout << i) / servers seconds
// (send_dg's rule). SERVFAIL, NOTIMP and REFUSED move on to the next server; a
// truncated (TC) reply is asked again over TCP of the same server; use-vc asks over
// TCP only. HOSTALIASES, RES_OPTIONS and LOCALDOMAIN are not read.
package resolver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// glibc's h_errno values for a failed search.
const (
	HostNotFound = "HOST_NOT_FOUND" // NXDOMAIN
	NoData       = "NO_DATA"        // the name exists, without records of the type
	TryAgain     = "TRY_AGAIN"      // SERVFAIL, timeout, nothing listening
	NoRecovery   = "NO_RECOVERY"    // REFUSED, FORMERR, NOTIMP
)

// Rcodes of attempts that got no reply.
const (
	RcodeTimeout = "timeout"
	RcodeRefused = "unreachable" // ICMP port unreachable: nothing listens there
	RcodeError   = "error"
)

// Attempt is one query sent to one server.
type Attempt struct {
	Name   string        `json:"name"`
	Type   string        `json:"type"`
	Server string        `json:"server"` // address:port
	Proto  string        `json:"proto"`  // udp or tcp
	Rcode  string        `json:"rcode"`  // NOERROR, NXDOMAIN, ..., or timeout, unreachable, error
	Answer []string      `json:"answer,omitempty"`
	TC     bool          `json:"tc,omitempty"`
	Took   time.Duration `json:"took"`
	Error  string        `json:"error,omitempty"`
}

// Result is a whole search.
type Result struct {
	Name     string    `json:"name"` // as asked
	Type     string    `json:"type"`
	Config   Config    `json:"config"`
	Attempts []Attempt `json:"attempts"`
	Resolved bool      `json:"resolved"`
	// Answered is the name that answered; Answer its records.
	Answered string   `json:"answered,omitempty"`
	Answer   []string `json:"answer,omitempty"`
	// Herrno is glibc's h_errno for a failed search (HostNotFound, ...).
	Herrno string `json:"herrno,omitempty"`
}

// Resolver searches names with Config.
type Resolver struct {
	Config Config
	// Dial opens a connection ("udp" or "tcp", address:port); nil is net.Dialer's.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
	// Port is the servers' port; 0 is 53.
	Port uint16

	rotation int // the first server of the next query, with rotate
}

// outcome is one name's query over all servers, as __res_context_query sees it.
type outcome struct {
	answer  *mdns.Msg // rcode NOERROR with records
	herrno  string
	rcode   int  // of the last reply, -1 without one
	refused bool // no server was reachable (errno ECONNREFUSED)
}

// Search resolves name for qtype as res_search does (see the package comment).
func (r *Resolver) Search(ctx context.Context, name string, qtype uint16) *Result {
	res := &Result{Name: name, Type: mdns.TypeToString[qtype], Config: r.Config}
	dots := strings.Count(name, ".")
	trailing := strings.HasSuffix(name, ".")
	var last outcome
	ask := func(n string) bool {
		last = r.query(ctx, res, n, qtype)
		if last.answer != nil {
			res.Resolved, res.Answered = true, mdns.Fqdn(n)
			for _, rr := range last.answer.Answer {
				res.Answer = append(res.Answer, rr.String())
			}
		}
		return last.answer != nil
	}
	saved := ""
	triedAsIs, rootOnList, searched, gotNoData, gotServfail := false, false, false, false, false
	if dots >= r.Config.Ndots || trailing {
		if ask(name) || trailing {
			return r.finish(res, last.herrno)
		}
		saved, triedAsIs = last.herrno, true
	}
	if !trailing {
	search:
		for _, d := range r.Config.Search {
			d = strings.TrimPrefix(d, ".")
			rootOnList = rootOnList || d == ""
			searched = true
			if ask(strings.TrimSuffix(name+"."+d, ".")) {
				return res
			}
			if last.refused {
				return r.finish(res, TryAgain)
			}
			switch {
			case last.herrno == NoData:
				gotNoData = true
			case last.herrno == HostNotFound:
			case last.herrno == TryAgain && last.rcode == mdns.RcodeServerFailure:
				gotServfail = true
			default:
				break search
			}
			if ctx.Err() != nil {
				return r.finish(res, TryAgain)
			}
		}
	}
	if (dots > 0 || !searched || !r.Config.NoTLDQuery) && !triedAsIs && !rootOnList {
		if ask(name) {
			return res
		}
	}
	switch {
	case saved != "":
		return r.finish(res, saved)
	case gotNoData:
		return r.finish(res, NoData)
	case gotServfail:
		return r.finish(res, TryAgain)
	}
	return r.finish(res, last.herrno)
}

func (r *Resolver) finish(res *Result, herrno string) *Result {
	if !res.Resolved {
		res.Herrno = herrno
	}
	return res
}

// query asks one name of the servers as __res_context_send does and judges the reply
// as __res_context_query does.
func (r *Resolver) query(ctx context.Context, res *Result, name string, qtype uint16) outcome {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	if r.Config.EDNS0 {
		m.SetEdns0(1200, false) // glibc's RESOLV_EDNS_BUFFER_SIZE
	}
	servers := r.Config.Nameservers
	if len(servers) == 0 {
		servers = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	}
	offset := 0
	if r.Config.Rotate {
		offset = r.rotation % len(servers)
		r.rotation++
	}
	out := outcome{rcode: -1, herrno: TryAgain, refused: true}
	for range max(r.Config.Attempts, 1) {
		for shift := range servers {
			ns := (shift + offset) % len(servers)
			server := netip.AddrPortFrom(servers[ns], r.port()).String()
			proto := "udp"
			if r.Config.UseVC {
				proto = "tcp"
			}
			reply := r.exchange(ctx, res, m, proto, server, r.Config.serverTimeout(ns))
			if reply != nil && reply.Truncated && proto == "udp" {
				reply = r.exchange(ctx, res, m, "tcp", server, r.Config.serverTimeout(ns))
			}
			if a := res.Attempts[len(res.Attempts)-1]; a.Rcode != RcodeRefused {
				out.refused = false
			}
			if ctx.Err() != nil {
				return out
			}
			if reply == nil {
				continue
			}
			out.rcode = reply.Rcode
			switch reply.Rcode {
			case mdns.RcodeServerFailure, mdns.RcodeNotImplemented, mdns.RcodeRefused:
				continue
			case mdns.RcodeSuccess:
				if len(reply.Answer) > 0 {
					out.answer = reply
					return out
				}
				out.herrno = NoData
			case mdns.RcodeNameError:
				out.herrno = HostNotFound
			default:
				out.herrno = NoRecovery
			}
			return out
		}
	}
	return out // res_send failed: TRY_AGAIN, with the last reply's rcode if any
}

func (r *Resolver) port() uint16 {
	if r.Port == 0 {
		return 53
	}
	return r.Port
}

// exchange sends m once and records the attempt; the reply is nil on timeout or error.
func (r *Resolver) exchange(ctx context.Context, res *Result, m *mdns.Msg, proto, server string, timeout time.Duration) *mdns.Msg {
	a := Attempt{Name: m.Question[0].Name, Type: mdns.TypeToString[m.Question[0].Qtype], Server: server, Proto: proto}
	start := time.Now()
	reply, err := r.roundTrip(ctx, m, proto, server, timeout)
	a.Took = time.Since(start)
	switch {
	case err == nil:
		a.Rcode = mdns.RcodeToString[reply.Rcode]
		a.TC = reply.Truncated
		for _, rr := range reply.Answer {
			a.Answer = append(a.Answer, rr.String())
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		a.Rcode = RcodeRefused
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || isTimeout(err):
		a.Rcode = RcodeTimeout
	default:
		a.Rcode, a.Error = RcodeError, err.Error()
	}
	res.Attempts = append(res.Attempts, a)
	return reply
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// roundTrip waits for the reply with m's ID until the timeout, as glibc does (other
// datagrams are dropped).
func (r *Resolver) roundTrip(ctx context.Context, m *mdns.Msg, proto, server string, timeout time.Duration) (*mdns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := r.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	c, err := dial(ctx, proto, server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	co := &mdns.Conn{Conn: c, UDPSize: mdns.MaxMsgSize}
	m.Id = mdns.Id()
	if err := co.WriteMsg(m); err != nil {
		return nil, err
	}
	for {
		reply, err := co.ReadMsg()
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w: %w", ctx.Err(), err)
			}
			return nil, err
		}
		if reply.Id == m.Id {
			return reply, nil
		}
	}
}
