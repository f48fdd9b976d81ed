package proxy

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

func TestEntryString(t *testing.T) {
	at := time.Date(2026, 12, 2, 10, 28, 51, 0, time.UTC)
	for _, tc := range []struct {
		name string
		e    Entry
		want string
	}{{
		"forwarded",
		Entry{Time: at, Client: "192.168.1.10:51234", Method: "GET", Path: "/api/x?y=1", Proto: "HTTP/1.1",
			Status: 200, BytesSent: 612, UserAgent: "curl/8.5.0", RequestLength: 78, Duration: 2500 * time.Microsecond,
			Namespace: "default", Service: "web", ServicePort: 80, Upstream: "10.244.1.5:8080", UpstreamStatus: 200,
			UpstreamDuration: 2 * time.Millisecond, RequestID: "0123456789abcdef0123456789abcdef",
			Matched: table.Source{Kind: "Ingress", Namespace: "default", Name: "web", Rule: 0, Match: 1}},
		`192.168.1.10 - - [02/Dec/2026:10:28:51 +0000] "GET /api/x?y=1 HTTP/1.1" 200 612 "-" "curl/8.5.0" 78 0.003 [default-web-80] [] 10.244.1.5:8080 612 0.002 200 0123456789abcdef0123456789abcdef matched=Ingress/default/web rules[0].paths[1]`,
	}, {
		"no route",
		Entry{Time: at, Client: "[fd00::1]:4000", Method: "POST", Path: "/", Proto: "HTTP/2.0", Status: 404, BytesSent: 146,
			Referer: `http://x/"q"`, RequestLength: 40, RequestID: "id"},
		`fd00::1 - - [02/Dec/2026:10:28:51 +0000] "POST / HTTP/2.0" 404 146 "http://x/\x22q\x22" "-" 40 0.000 [] [] - - - - id matched=-`,
	}, {
		"HTTPRoute, upstream failed",
		Entry{Time: at, Client: "10.0.0.1:1", Method: "GET", Path: "/", Proto: "HTTP/1.1", Status: 502, Upstream: "10.1.0.2:80",
			Namespace: "ns", Service: "api", ServicePort: 8080, RequestID: "id",
			Matched: table.Source{Kind: "HTTPRoute", Namespace: "ns", Name: "r", Rule: 2, Match: 0}},
		`10.0.0.1 - - [02/Dec/2026:10:28:51 +0000] "GET / HTTP/1.1" 502 0 "-" "-" 0 0.000 [ns-api-8080] [] 10.1.0.2:80 0 0.000 - id matched=HTTPRoute/ns/r rules[2].matches[0]`,
	}} {
		if got := tc.e.String(); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if got := Matched(table.Source{Kind: "Ingress", Namespace: "a", Name: "b", Rule: -1}); got != "Ingress/a/b defaultBackend" {
		t.Errorf("defaultBackend: got %q", got)
	}
}

func TestAccessLog(t *testing.T) {
	a := newBackend(t, "a")
	var mu sync.Mutex
	var got []Entry
	p := New(Options{Log: func(e Entry) { mu.Lock(); got = append(got, e); mu.Unlock() }})
	t.Cleanup(func() { p.Close() })
	rt := route(prefix("/"), svc("web", a.addr()))
	rt.Source = table.Source{Kind: "Ingress", Namespace: "default", Name: "web", Rule: 0, Match: 1}
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Hostname: "foo", Routes: []*table.Route{rt}}))
	s := front(t, p, table.FrontendIngress)
	do(t, http.DefaultClient, "GET", s.URL+"/a?b=c", "foo:80", "", "User-Agent: test/1", "X-Request-ID: rid")
	do(t, http.DefaultClient, "GET", s.URL+"/", "bar", "")

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("got %d entries, want 2", len(got))
	}
	e := got[0]
	if e.Frontend != "ingress" || e.Listener != "http" || e.Method != "GET" || e.Host != "foo:80" || e.Path != "/a?b=c" ||
		e.Proto != "HTTP/1.1" || e.Status != 200 || e.BytesSent == 0 || e.Upstream != a.addr().String() || e.UpstreamStatus != 200 ||
		e.UserAgent != "test/1" || e.RequestID != "rid" || e.Service != "web" || e.Matched != rt.Source || e.RequestLength == 0 {
		t.Errorf("forwarded request: %+v", e)
	}
	if !strings.HasPrefix(e.Client, "127.0.0.1:") || !strings.HasSuffix(e.String(), " rid matched=Ingress/default/web rules[0].paths[1]") {
		t.Errorf("forwarded request: %s", e)
	}
	if e := got[1]; e.Status != 404 || e.Upstream != "" || e.Matched.Kind != "" || len(e.RequestID) != 32 {
		t.Errorf("404: %+v", e)
	}
}
