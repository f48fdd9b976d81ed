package resolver

import (
	"cmp"
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// zone is the test server's data: what SEMANTICS.md's worked examples answer, plus
// names that fail on purpose.
func zone(w mdns.ResponseWriter, req *mdns.Msg) {
	m := new(mdns.Msg)
	m.SetReply(req)
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	a := func(ip string) {
		rr, _ := mdns.NewRR(q.Name + " 30 IN A " + ip)
		m.Answer = append(m.Answer, rr)
	}
	switch {
	case name == "web.shop.svc.cluster.local." || name == "example.com.":
		if q.Qtype == mdns.TypeA {
			a(map[string]string{"example.com.": "93.184.216.34"}[name] + map[string]string{"web.shop.svc.cluster.local.": "10.96.12.34"}[name])
		}
	case name == "shop.svc.cluster.local.":
		// NODATA: the namespace exists
	case name == "fail.example.":
		m.Rcode = mdns.RcodeServerFailure
	case name == "big.example.":
		for i := range 60 {
			a(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}).String())
		}
	default:
		m.Rcode = mdns.RcodeNameError
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		m.Truncate(512)
	}
	w.WriteMsg(m)
}

// serve starts the zone on UDP and TCP of addr:port (port 0: any free one, the same for
// both) and returns the port.
func serve(t *testing.T, addr string, port int) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			t.Fatal(err)
		}
		p := pc.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(p)))
		if err != nil {
			pc.Close()
			if port != 0 {
				t.Fatal(err)
			}
			continue
		}
		for _, s := range []*mdns.Server{{PacketConn: pc, Handler: mdns.HandlerFunc(zone)}, {Listener: l, Handler: mdns.HandlerFunc(zone)}} {
			started := make(chan struct{})
			s.NotifyStartedFunc = func() { close(started) }
			go s.ActivateAndServe()
			<-started
			t.Cleanup(func() { s.Shutdown() })
		}
		return p
	}
	t.Fatal("no free port for UDP and TCP")
	return 0
}

// silent binds addr:port on UDP and never answers.
func silent(t *testing.T, addr string, port int) {
	pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
}

const podConf = "search shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n"

func TestSearch(t *testing.T) {
	port := serve(t, "127.0.0.1", 0)
	silent(t, "127.0.0.5", port)
	for _, tc := range []struct {
		name, conf, query string
		qtype             uint16
		attempts          []string // name/server/rcode of each query
		answered, herrno  string
		timeout           time.Duration // 1 s (a loaded machine's loopback) unless a test waits out timeouts
	}{
		{name: "a Service's short name: the first search domain answers", conf: podConf, query: "web", qtype: mdns.TypeA,
			attempts: []string{"web.shop.svc.cluster.local. NOERROR"}, answered: "web.shop.svc.cluster.local."},
		{name: "ndots:5 amplification: example.com walks the whole search list first", conf: podConf, query: "example.com", qtype: mdns.TypeA,
			attempts: []string{"example.com.shop.svc.cluster.local. NXDOMAIN", "example.com.svc.cluster.local. NXDOMAIN", "example.com.cluster.local. NXDOMAIN", "example.com. NOERROR"},
			answered: "example.com."},
		{name: "a trailing dot: asked as it is, no search", conf: podConf, query: "example.com.", qtype: mdns.TypeA,
			attempts: []string{"example.com. NOERROR"}, answered: "example.com."},
		{name: "a trailing dot that fails ends there", conf: podConf, query: "nosuch.example.", qtype: mdns.TypeA,
			attempts: []string{"nosuch.example. NXDOMAIN"}, herrno: HostNotFound},
		{name: "dots >= ndots: as it is first", conf: strings.Replace(podConf, "ndots:5", "ndots:1", 1), query: "example.com", qtype: mdns.TypeA,
			attempts: []string{"example.com. NOERROR"}, answered: "example.com."},
		{name: "dots >= ndots and not found: then the search list, and the as-is failure is reported",
			conf: strings.Replace(podConf, "ndots:5", "ndots:1", 1), query: "nosuch.example", qtype: mdns.TypeA,
			attempts: []string{"nosuch.example. NXDOMAIN", "nosuch.example.shop.svc.cluster.local. NXDOMAIN", "nosuch.example.svc.cluster.local. NXDOMAIN", "nosuch.example.cluster.local. NXDOMAIN"},
			herrno:   HostNotFound},
		{name: "NODATA at the end", conf: podConf, query: "example.com", qtype: mdns.TypeAAAA,
			attempts: []string{"example.com.shop.svc.cluster.local. NXDOMAIN", "example.com.svc.cluster.local. NXDOMAIN", "example.com.cluster.local. NXDOMAIN", "example.com. NOERROR"},
			herrno:   NoData},
		{name: "NODATA goes on to the next domain and is the failure reported", conf: "search svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n", query: "shop", qtype: mdns.TypeA,
			attempts: []string{"shop.svc.cluster.local. NOERROR", "shop.cluster.local. NXDOMAIN", "shop. NXDOMAIN"}, herrno: NoData},
		{name: "SERVFAIL: every attempt, then the next domain", conf: "search example\nnameserver 127.0.0.1\n", query: "fail", qtype: mdns.TypeA,
			attempts: []string{"fail.example. SERVFAIL", "fail.example. SERVFAIL", "fail. NXDOMAIN"}, herrno: TryAgain},
		{name: "the root on the search list: no last as-is query", conf: "search example .\nnameserver 127.0.0.1\n", query: "nosuch", qtype: mdns.TypeA,
			attempts: []string{"nosuch.example. NXDOMAIN", "nosuch. NXDOMAIN"}, herrno: HostNotFound},
		{name: "no-tld-query: a dotless name is never asked alone", conf: "search example\nnameserver 127.0.0.1\noptions no-tld-query\n", query: "nosuch", qtype: mdns.TypeA,
			attempts: []string{"nosuch.example. NXDOMAIN"}, herrno: HostNotFound},
		{name: "nothing listens: the search ends at the first name", conf: "search shop.svc.cluster.local svc.cluster.local\nnameserver 127.0.0.4\noptions ndots:5\n", query: "web", qtype: mdns.TypeA,
			attempts: []string{"web.shop.svc.cluster.local.@127.0.0.4 unreachable", "web.shop.svc.cluster.local.@127.0.0.4 unreachable"}, herrno: TryAgain},
		{name: "timeouts end the search list, the name is still asked as it is", conf: "search a b\nnameserver 127.0.0.5\noptions ndots:5\n", query: "web", qtype: mdns.TypeA,
			attempts: []string{"web.a.@127.0.0.5 timeout", "web.a.@127.0.0.5 timeout", "web.@127.0.0.5 timeout", "web.@127.0.0.5 timeout"}, herrno: TryAgain,
			timeout: 100 * time.Millisecond},
		{name: "a server that does not answer: the next one does", conf: "nameserver 127.0.0.5\nnameserver 127.0.0.1\n", query: "example.com", qtype: mdns.TypeA,
			attempts: []string{"example.com.@127.0.0.5 timeout", "example.com. NOERROR"}, answered: "example.com."},
		{name: "truncated over UDP: again over TCP", conf: "nameserver 127.0.0.1\n", query: "big.example", qtype: mdns.TypeA,
			attempts: []string{"big.example./udp NOERROR", "big.example./tcp NOERROR"}, answered: "big.example."},
		{name: "use-vc: TCP only", conf: "nameserver 127.0.0.1\noptions use-vc\n", query: "example.com", qtype: mdns.TypeA,
			attempts: []string{"example.com./tcp NOERROR"}, answered: "example.com."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConf(tc.conf)
			if err != nil {
				t.Fatal(err)
			}
			c.Timeout = cmp.Or(tc.timeout, time.Second)
			r := &Resolver{Config: c, Port: uint16(port)}
			res := r.Search(context.Background(), tc.query, tc.qtype)
			var got []string
			for _, a := range res.Attempts {
				got = append(got, describe(a, tc.attempts))
			}
			if strings.Join(got, "\n") != strings.Join(tc.attempts, "\n") {
				t.Errorf("attempts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.attempts, "\n"))
			}
			if res.Answered != tc.answered || res.Resolved != (tc.answered != "") || res.Herrno != tc.herrno {
				t.Errorf("answered %q resolved %v herrno %q, want %q and %q", res.Answered, res.Resolved, res.Herrno, tc.answered, tc.herrno)
			}
			if res.Resolved && len(res.Answer) == 0 {
				t.Errorf("resolved without an answer")
			}
		})
	}
}

// describe writes an attempt in the form the table expects: the name, @server and
// /proto only when the expectation mentions them, then the rcode.
func describe(a Attempt, want []string) string {
	s := a.Name
	all := strings.Join(want, " ")
	if strings.Contains(all, "@") {
		s += "@" + strings.Split(a.Server, ":")[0]
		if strings.HasPrefix(a.Server, "127.0.0.1:") {
			s = a.Name
		}
	}
	if strings.Contains(all, "/") {
		s += "/" + a.Proto
	}
	return s + " " + a.Rcode
}

// The answer's records and time are in each attempt; a server's address is
// address:port.
func TestAttemptDetails(t *testing.T) {
	port := serve(t, "127.0.0.1", 0)
	c, _ := ParseConf(podConf)
	res := (&Resolver{Config: c, Port: uint16(port)}).Search(context.Background(), "web", mdns.TypeA)
	a := res.Attempts[0]
	if a.Server != "127.0.0.1:"+strconv.Itoa(port) || a.Proto != "udp" || a.Type != "A" || a.Took <= 0 ||
		len(a.Answer) != 1 || !strings.HasSuffix(a.Answer[0], "A\t10.96.12.34") {
		t.Errorf("attempt %+v", a)
	}
	if len(res.Answer) != 1 || res.Answer[0] != a.Answer[0] {
		t.Errorf("answer %q", res.Answer)
	}
}

// A canceled context ends the search without waiting out the timeouts.
func TestSearchCanceled(t *testing.T) {
	port := serve(t, "127.0.0.1", 0)
	silent(t, "127.0.0.5", port)
	c, _ := ParseConf("search a b c\nnameserver 127.0.0.5\noptions ndots:5 timeout:5\n")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := (&Resolver{Config: c, Port: uint16(port)}).Search(ctx, "web", mdns.TypeA)
	if time.Since(start) > 2*time.Second || res.Resolved || res.Herrno != TryAgain {
		t.Errorf("took %v, %+v", time.Since(start), res)
	}
}

func TestParseConf(t *testing.T) {
	c, err := ParseConf("# comment\n; comment\nnameserver 10.0.0.1\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver 10.0.0.4\n" +
		"search a b\ndomain c\noptions ndots:20 timeout:2\noptions attempts:9 rotate edns0 single-request\nsortlist 10.0.0.0/8\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Nameservers) != 3 || c.Nameservers[2].String() != "10.0.0.3" {
		t.Errorf("nameservers %v: want the first 3", c.Nameservers)
	}
	if strings.Join(c.Search, " ") != "c" {
		t.Errorf("search %v: the last of search and domain wins", c.Search)
	}
	if c.Ndots != 15 || c.Timeout != 2*time.Second || c.Attempts != 5 || !c.Rotate || !c.EDNS0 {
		t.Errorf("options %+v", c)
	}
	if len(c.Ignored) != 3 {
		t.Errorf("ignored %q: want the 4th nameserver, single-request and sortlist", c.Ignored)
	}
	d, _ := ParseConf("search x\n")
	if len(d.Nameservers) != 1 || d.Nameservers[0].String() != "127.0.0.1" || d.Ndots != 1 || d.Timeout != 5*time.Second || d.Attempts != 2 {
		t.Errorf("defaults %+v", d)
	}
	if _, err := ParseConf("nameserver dns.example\n"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a nameserver that is no address: %v", err)
	}
	// send_dg's wait per server: (timeout << i) / servers, whole seconds.
	c.Timeout = 5 * time.Second
	for i, want := range []time.Duration{5 * time.Second, 3 * time.Second, 6 * time.Second} {
		if got := c.serverTimeout(i); got != want {
			t.Errorf("server %d waits %v, want %v", i, got, want)
		}
	}
}
