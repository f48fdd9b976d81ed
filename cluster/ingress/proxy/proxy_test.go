package proxy

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

func TestRouting(t *testing.T) {
	a, b, d := newBackend(t, "a"), newBackend(t, "b"), newBackend(t, "default")
	exact := route(table.Match{Path: table.PathMatch{Type: "Exact", Value: "/a/exact"}}, svc("b", b.addr()))
	status := route(prefix("/status"))
	status.Status = 404
	noEndpoints := route(prefix("/empty"), svc("empty"))
	invalid := route(prefix("/invalid"), &table.Backend{Weight: 1, Status: 500})
	nothing := route(prefix("/nothing"))
	tbl := oneListener(table.FrontendIngress,
		&table.VirtualHost{Hostname: "foo.example.com", Routes: []*table.Route{
			exact, route(prefix("/a"), svc("a", a.addr())), status, noEndpoints, invalid, nothing,
		}, Default: route(table.Match{}, svc("default", d.addr()))},
		&table.VirtualHost{Hostname: "*.example.com", WildcardOneLabel: true, Routes: []*table.Route{
			route(prefix("/"), svc("b", b.addr())),
		}},
	)
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(tbl)
	s := front(t, p, table.FrontendIngress)

	for _, tc := range []struct {
		host, path string
		status     int
		backend    string
		body       string // substring of a non-echo body
	}{
		{"foo.example.com", "/a", 200, "a", ""},
		{"foo.example.com", "/a/b?x=1", 200, "a", ""},
		{"FOO.example.com:8080", "/a", 200, "a", ""},                                    // case and port ignored
		{"foo.example.com", "/a/exact", 200, "b", ""},                                   // first match: Exact listed first
		{"foo.example.com", "/ab", 200, "default", ""},                                  // not an element-wise prefix
		{"foo.example.com", "/elsewhere", 200, "default", ""},                           // Default
		{"bar.example.com", "/x", 200, "b", ""},                                         // wildcard
		{"a.bar.example.com", "/x", 404, "", "<center><h1>404 Not Found</h1></center>"}, // one label only
		{"other.test", "/", 404, "", "<hr><center>nginx</center>"},
		{"foo.example.com", "/status", 404, "", "404 Not Found"},
		{"foo.example.com", "/empty", 503, "", "503 Service Temporarily Unavailable"},
		{"foo.example.com", "/invalid", 500, "", "500 Internal Server Error"},
		{"foo.example.com", "/nothing", 500, "", ""},
	} {
		got := do(t, http.DefaultClient, "GET", s.URL+tc.path, tc.host, "")
		if got.status != tc.status || got.echo.Backend != tc.backend || !strings.Contains(got.body, tc.body) {
			t.Errorf("%s%s: got %d from %q (%q), want %d from %q", tc.host, tc.path, got.status, got.echo.Backend, got.body, tc.status, tc.backend)
		}
		if tc.backend != "" && got.echo.URI != tc.path {
			t.Errorf("%s%s: backend got URI %q", tc.host, tc.path, got.echo.URI)
		}
	}
}

func TestGatewayPages(t *testing.T) {
	key := table.FrontendGateway("default", "gw")
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(key, &table.VirtualHost{Routes: []*table.Route{route(prefix("/empty"), svc("empty"))}}))
	s := front(t, p, key)
	if got := do(t, http.DefaultClient, "GET", s.URL+"/nope", "x", ""); got.status != 404 || got.body != "" {
		t.Errorf("no route: got %d %q, want Envoy's empty 404", got.status, got.body)
	}
	if got := do(t, http.DefaultClient, "GET", s.URL+"/empty", "x", ""); got.status != 503 || got.body != "no healthy upstream" {
		t.Errorf("no endpoints: got %d %q", got.status, got.body)
	}
	// A frontend or port the table does not have is a 404 too.
	s2 := front(t, p, "gateway/default/none")
	if got := do(t, http.DefaultClient, "GET", s2.URL+"/", "x", ""); got.status != 404 {
		t.Errorf("unknown frontend: got %d", got.status)
	}
}

func TestForwardedHeaders(t *testing.T) {
	a := newBackend(t, "a")
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{route(prefix("/"), svc("a", a.addr()))}}))
	s := front(t, p, table.FrontendIngress)

	got := do(t, http.DefaultClient, "GET", s.URL+"/x", "foo.example.com:8080", "").echo
	want := map[string]string{
		"X-Forwarded-For": "127.0.0.1", "X-Real-Ip": "127.0.0.1", "X-Forwarded-Host": "foo.example.com:8080",
		"X-Forwarded-Port": "80", "X-Forwarded-Proto": "http", "X-Forwarded-Scheme": "http",
	}
	for k, v := range want {
		if g := got.Header.Get(k); g != v {
			t.Errorf("%s: got %q, want %q", k, g, v)
		}
	}
	if got.Host != "foo.example.com:8080" {
		t.Errorf("Host: got %q, want it unchanged", got.Host)
	}
	if id := got.Header.Get("X-Request-Id"); !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("X-Request-Id: got %q, want 32 hex digits", id)
	}

	got = do(t, http.DefaultClient, "GET", s.URL+"/x", "h", "", "X-Forwarded-For: 10.0.0.1", "X-Request-ID: abc").echo
	if g := got.Header.Get("X-Forwarded-For"); g != "10.0.0.1, 127.0.0.1" {
		t.Errorf("X-Forwarded-For: got %q, want the client appended", g)
	}
	if g := got.Header.Get("X-Request-Id"); g != "abc" {
		t.Errorf("X-Request-Id: got %q, want the client's kept", g)
	}
}

func TestHeaderModifiers(t *testing.T) {
	a := newBackend(t, "a")
	rt := route(prefix("/"), svc("a", a.addr()))
	rt.Filters = []table.Filter{
		{Type: table.FilterRequestHeaders, Set: []table.Header{{Name: "x-set", Value: "new"}},
			Add: []table.Header{{Name: "X-Add", Value: "bar,baz"}}, Remove: []string{"x-remove"}},
		{Type: table.FilterResponseHeaders, Set: []table.Header{{Name: "X-Backend", Value: "hidden"}},
			Add: []table.Header{{Name: "X-Resp", Value: "1"}}, Remove: []string{"content-type"}},
	}
	rt.Backends[0].Filters = []table.Filter{{Type: table.FilterRequestHeaders, Add: []table.Header{{Name: "X-Per-Backend", Value: "yes"}}}}
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendGateway("ns", "gw"), &table.VirtualHost{Routes: []*table.Route{rt}}))
	s := front(t, p, table.FrontendGateway("ns", "gw"))

	got := do(t, http.DefaultClient, "GET", s.URL+"/", "h", "", "X-Set: old", "X-Add: foo", "X-Remove: gone")
	if len(a.received()) != 1 {
		t.Fatalf("backend got %d requests", len(a.received()))
	}
	e := a.received()[0]
	for k, v := range map[string]string{"X-Set": "new", "X-Add": "foo,bar,baz", "X-Remove": "", "X-Per-Backend": "yes"} {
		if g := strings.Join(e.Header.Values(k), "|"); g != v {
			t.Errorf("request %s: got %q, want %q", k, g, v)
		}
	}
	for k, v := range map[string]string{"X-Backend": "hidden", "X-Resp": "1", "Content-Type": ""} {
		if g := got.header.Get(k); g != v {
			t.Errorf("response %s: got %q, want %q", k, g, v)
		}
	}
}

func TestRedirectLocation(t *testing.T) {
	prefixFoo := route(prefix("/foo"))
	for _, tc := range []struct {
		name     string
		tls      bool
		port     int32 // the listener's
		url      string
		f        table.Filter
		location string
	}{
		{"scheme https: its port", false, 80, "http://foo.example.com/a?b=c", table.Filter{Scheme: "https"}, "https://foo.example.com/a?b=c"},
		{"scheme http from https", true, 443, "https://foo.example.com/a", table.Filter{Scheme: "http"}, "http://foo.example.com/a"},
		{"scheme https on a non-default listener", false, 8080, "http://foo:8080/", table.Filter{Scheme: "https"}, "https://foo/"},
		{"no scheme: the listener's port", false, 8080, "http://foo:8080/a", table.Filter{Hostname: "bar.example.com"}, "http://bar.example.com:8080/a"},
		{"no scheme, port 80", false, 80, "http://foo/a", table.Filter{Hostname: "bar"}, "http://bar/a"},
		{"explicit port", false, 80, "http://foo/a", table.Filter{Port: 8443, Scheme: "https"}, "https://foo:8443/a"},
		{"explicit default port", false, 8080, "http://foo/a", table.Filter{Port: 80}, "http://foo/a"},
		{"https 443 kept out", true, 443, "https://foo/a", table.Filter{Hostname: "bar"}, "https://bar/a"},
		{"full path", false, 80, "http://foo/foo/bar?q=1", table.Filter{PathType: "ReplaceFullPath", Path: "/new"}, "http://foo/new?q=1"},
		{"prefix", false, 80, "http://foo/foo/bar", table.Filter{PathType: "ReplacePrefixMatch", Path: "/xyz"}, "http://foo/xyz/bar"},
		{"host port stripped", false, 80, "http://Foo.Example.com:80/x", table.Filter{}, "http://foo.example.com/x"},
	} {
		r, _ := http.NewRequest("GET", tc.url, nil)
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := redirectLocation(r, tc.port, &tc.f, prefixFoo); got != tc.location {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.location)
		}
	}
}

func TestRedirect(t *testing.T) {
	rt := route(prefix("/"))
	rt.Filters = []table.Filter{{Type: table.FilterRedirect, Scheme: "https"}}
	moved := route(prefix("/moved"))
	moved.Filters = []table.Filter{{Type: table.FilterRedirect, Hostname: "new.example.com", StatusCode: 301}}
	ssl := route(prefix("/"))
	ssl.SSLRedirect = true
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress,
		&table.VirtualHost{Hostname: "secure.example.com", Routes: []*table.Route{ssl}},
		&table.VirtualHost{Routes: []*table.Route{moved, rt}}))
	s := front(t, p, table.FrontendIngress)
	for _, tc := range []struct {
		host, path string
		status     int
		location   string
	}{
		{"foo.example.com", "/a?x=1", 302, "https://foo.example.com/a?x=1"},
		{"foo.example.com", "/moved/x", 301, "http://new.example.com/moved/x"},
		{"secure.example.com:80", "/p?q", 308, "https://secure.example.com/p?q"},
	} {
		got := do(t, noRedirects, "GET", s.URL+tc.path, tc.host, "")
		if got.status != tc.status || got.header.Get("Location") != tc.location {
			t.Errorf("%s%s: got %d %q, want %d %q", tc.host, tc.path, got.status, got.header.Get("Location"), tc.status, tc.location)
		}
	}
}

func TestRewritePath(t *testing.T) {
	re := regexp.MustCompile(`/something(/|$)(.*)`)
	for _, tc := range []struct {
		match, path string
		f           table.Filter
		want        string
	}{
		// SEMANTICS.md §6b, verbatim.
		{"/foo", "/foo/bar", table.Filter{PathType: "ReplacePrefixMatch", Path: "/xyz"}, "/xyz/bar"},
		{"/foo", "/foo/", table.Filter{PathType: "ReplacePrefixMatch", Path: "/xyz"}, "/xyz/"},
		{"/foo", "/foo/bar", table.Filter{PathType: "ReplacePrefixMatch", Path: ""}, "/bar"},
		{"/foo", "/foo/bar", table.Filter{PathType: "ReplacePrefixMatch", Path: "/"}, "/bar"},
		{"/foo", "/foo", table.Filter{PathType: "ReplacePrefixMatch", Path: ""}, "/"},
		{"/foo", "/foo", table.Filter{PathType: "ReplacePrefixMatch", Path: "/"}, "/"},
		// Gateway API conformance (httproute-rewrite-path).
		{"/prefix/one", "/prefix/one/two", table.Filter{PathType: "ReplacePrefixMatch", Path: "/one"}, "/one/two"},
		{"/foo/", "/foo/bar", table.Filter{PathType: "ReplacePrefixMatch", Path: "/xyz/"}, "/xyz/bar"},
		{"/", "/foo/bar", table.Filter{PathType: "ReplacePrefixMatch", Path: "/xyz"}, "/xyz/foo/bar"},
		{"/foo", "/foo/bar", table.Filter{PathType: "ReplaceFullPath", Path: "/full"}, "/full"},
		{"/foo", "/foo/bar", table.Filter{}, "/foo/bar"},
		// ingress-nginx rewrite-target.
		{"", "/something/new/x", table.Filter{PathType: "RegexReplace", Path: "/$2", Regex: re}, "/new/x"},
		{"", "/something", table.Filter{PathType: "RegexReplace", Path: "/$2", Regex: re}, "/"},
		{"", "/something/a", table.Filter{PathType: "RegexReplace", Path: "/p/$2x$9", Regex: re}, "/p/ax"},
	} {
		rt := route(prefix(tc.match))
		if got := rewritePath(tc.path, &tc.f, rt); got != tc.want {
			t.Errorf("%s %q on %q: got %q, want %q", tc.f.PathType, tc.f.Path, tc.path, got, tc.want)
		}
	}
}

func TestURLRewrite(t *testing.T) {
	a := newBackend(t, "a")
	rt := route(prefix("/api"), svc("a", a.addr()))
	rt.Filters = []table.Filter{{Type: table.FilterRewrite, Hostname: "internal.svc", PathType: "ReplacePrefixMatch", Path: "/v2"}}
	rx := route(table.Match{Path: table.PathMatch{Type: "RegexPrefix", Regex: regexp.MustCompile(`/old(/|$)(.*)`)}}, svc("a", a.addr()))
	rx.Filters = []table.Filter{{Type: table.FilterRewrite, PathType: "RegexReplace", Path: "/new/$2?from=old", Regex: rx.Match.Path.Regex}}
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{rt, rx}}))
	s := front(t, p, table.FrontendIngress)

	got := do(t, http.DefaultClient, "GET", s.URL+"/api/users?id=7", "public.example.com", "").echo
	if got.URI != "/v2/users?id=7" || got.Host != "internal.svc" || got.Header.Get("X-Forwarded-Host") != "public.example.com" {
		t.Errorf("prefix rewrite: got %s Host %s (X-Forwarded-Host %s)", got.URI, got.Host, got.Header.Get("X-Forwarded-Host"))
	}
	got = do(t, http.DefaultClient, "GET", s.URL+"/old/a%20b?x=1", "h", "").echo
	if got.URI != "/new/a%20b?from=old&x=1" {
		t.Errorf("regex rewrite: got %s", got.URI)
	}
}

func TestWeights(t *testing.T) {
	bs := []*table.Backend{{Service: "one", Weight: 1}, {Service: "three", Weight: 3}, {Service: "zero", Weight: 0}}
	n := map[string]int{}
	const total = 40000
	for range total {
		n[pickBackend(bs).Service]++
	}
	if n["zero"] != 0 {
		t.Errorf("weight 0 got %d requests", n["zero"])
	}
	if share := float64(n["three"]) / total; share < 0.73 || share > 0.77 {
		t.Errorf("weight 3 of 4 got %.3f of the requests", share)
	}
	if pickBackend([]*table.Backend{{Weight: 0}}) != nil || pickBackend(nil) != nil {
		t.Error("only weight 0 (or none): want no backend")
	}
}

func TestMirror(t *testing.T) {
	a, m := newBackend(t, "a"), newBackend(t, "mirror")
	rt := route(prefix("/"), svc("a", a.addr()))
	rt.Filters = []table.Filter{
		{Type: table.FilterRequestHeaders, Set: []table.Header{{Name: "X-Before", Value: "1"}}},
		{Type: table.FilterMirror, Mirror: svc("mirror", m.addr()), Percent: 100},
	}
	never := route(prefix("/never"), svc("a", a.addr()))
	never.Filters = []table.Filter{{Type: table.FilterMirror, Mirror: svc("mirror", m.addr()), Percent: 0}}
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{never, rt}}))
	s := front(t, p, table.FrontendIngress)

	got := do(t, http.DefaultClient, "POST", s.URL+"/x?y=1", "h", "payload")
	do(t, http.DefaultClient, "GET", s.URL+"/never", "h", "")
	if got.echo.Backend != "a" || got.echo.Body != "payload" {
		t.Fatalf("main request: got %+v", got.echo)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(m.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	p.Close() // waits for mirrors in flight
	mg := m.received()
	if len(mg) != 1 {
		t.Fatalf("mirror got %d requests, want 1", len(mg))
	}
	if mg[0].URI != "/x?y=1" || mg[0].Body != "payload" || mg[0].Header.Get("X-Before") != "1" || mg[0].Host != "h" {
		t.Errorf("mirror got %+v", mg[0])
	}
}

func TestUpstreamErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	timeout := svc("slow", slow)
	timeout.Timeout = 50 * time.Millisecond
	var mu sync.Mutex
	var log []Entry
	p := New(Options{Log: func(e Entry) { mu.Lock(); log = append(log, e); mu.Unlock() }})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{
		route(prefix("/refused"), svc("gone", refused)), route(prefix("/slow"), timeout),
	}}))
	s := front(t, p, table.FrontendIngress)
	if got := do(t, http.DefaultClient, "GET", s.URL+"/refused", "h", ""); got.status != 502 || !strings.Contains(got.body, "502 Bad Gateway") {
		t.Errorf("refused: got %d %q", got.status, got.body)
	}
	if got := do(t, http.DefaultClient, "GET", s.URL+"/slow", "h", ""); got.status != 504 {
		t.Errorf("timeout: got %d %q", got.status, got.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(log) != 2 || log[0].Status != 502 || log[0].Upstream != refused.String() || log[0].UpstreamStatus != 0 || log[1].Status != 504 {
		t.Errorf("log: %+v", log)
	}
}

func newBackendFunc(t testing.TB, f http.HandlerFunc) netip.AddrPort {
	b := &backend{}
	b.Server = httptest.NewServer(f)
	t.Cleanup(b.Close)
	return b.addr()
}

func TestPanicIsA500(t *testing.T) {
	a := newBackend(t, "a")
	var errs []error
	p := New(Options{Errors: func(err error) { errs = append(errs, err) }})
	t.Cleanup(func() { p.Close() })
	// A RegexPrefix without its Regex is a compiler bug: the walk panics.
	broken := route(table.Match{Path: table.PathMatch{Type: "RegexPrefix"}}, svc("a", a.addr()))
	p.Update(oneListener(table.FrontendIngress,
		&table.VirtualHost{Hostname: "broken", Routes: []*table.Route{broken}},
		&table.VirtualHost{Routes: []*table.Route{route(prefix("/"), svc("a", a.addr()))}}))
	s := front(t, p, table.FrontendIngress)
	if got := do(t, http.DefaultClient, "GET", s.URL+"/", "broken", ""); got.status != 500 {
		t.Errorf("panic: got %d, want 500", got.status)
	}
	if got := do(t, http.DefaultClient, "GET", s.URL+"/", "fine", ""); got.status != 200 {
		t.Errorf("after the panic: got %d, want 200", got.status)
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "panic serving GET /") {
		t.Errorf("errors: %v", errs)
	}
}

func TestHTTPSBackendAndUpgrade(t *testing.T) {
	tlsBackend := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("over tls"))
	}))
	t.Cleanup(tlsBackend.Close)
	upgrade := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	})
	secure := svc("secure", netip.MustParseAddrPort(tlsBackend.Listener.Addr().String()))
	secure.Protocol = "HTTPS"
	var mu sync.Mutex
	var log []Entry
	p := New(Options{Log: func(e Entry) { mu.Lock(); log = append(log, e); mu.Unlock() }})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{
		route(prefix("/secure"), secure), route(prefix("/ws"), svc("ws", upgrade)),
	}}))
	s := front(t, p, table.FrontendIngress)
	if got := do(t, http.DefaultClient, "GET", s.URL+"/secure", "h", ""); got.status != 200 || got.body != "over tls" {
		t.Errorf("HTTPS backend: got %d %q", got.status, got.body)
	}

	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	conn.Write([]byte("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"))
	buf := make([]byte, 512)
	var got string
	for !strings.Contains(got, "echo hello\n") {
		if strings.HasSuffix(got, "\r\n\r\n") { // the 101 is in: talk the new protocol, as a WebSocket client would
			conn.Write([]byte("hello\n"))
		}
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("upgrade: %v after %q", err, got)
		}
		got += string(buf[:n])
	}
	if !strings.HasPrefix(got, "HTTP/1.1 101 Switching Protocols") {
		t.Errorf("upgrade: got %q", got)
	}
}

func TestClientGoneIs499(t *testing.T) {
	slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	logged := make(chan Entry, 1)
	p := New(Options{Log: func(e Entry) { logged <- e }})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{route(prefix("/"), svc("slow", slow))}}))
	s := front(t, p, table.FrontendIngress)
	c := &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := c.Get(s.URL + "/"); err == nil {
		t.Fatal("want the client's timeout")
	}
	select {
	case e := <-logged:
		if e.Status != 499 || e.UpstreamStatus != 0 {
			t.Errorf("client gone: logged %d (upstream %d), want 499", e.Status, e.UpstreamStatus)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no log entry")
	}
}
