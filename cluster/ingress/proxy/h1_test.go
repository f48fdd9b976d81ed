package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

// TestH1KeepAlive: sequential requests of every kind of answer share one upstream
// connection; an answer whose body the client abandons costs its connection only.
func TestH1KeepAlive(t *testing.T) {
	var conns atomic.Int32
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/chunked":
			w.Write([]byte("a"))
			w.(http.Flusher).Flush()
			w.Write([]byte("b"))
		case "/big":
			w.Write([]byte(strings.Repeat("x", 1<<20)))
		default:
			w.Write([]byte("ok"))
		}
	}))
	be.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	be.Start()
	t.Cleanup(be.Close)
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{
		route(prefix("/"), svc("be", netip.MustParseAddrPort(be.Listener.Addr().String()))),
	}}))
	s := front(t, p, table.FrontendIngress)
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/", "ok"}, {"GET", "/empty", ""}, {"HEAD", "/", ""}, {"GET", "/chunked", "ab"},
		{"POST", "/", "ok"}, {"GET", "/", "ok"},
	} {
		body := ""
		if tc.method == "POST" {
			body = "payload"
		}
		if got := do(t, http.DefaultClient, tc.method, s.URL+tc.path, "h", body); got.body != tc.body {
			t.Errorf("%s %s: got %d %q", tc.method, tc.path, got.status, got.body)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("%d upstream connections for sequential requests, want 1", n)
	}

	// The client leaves half-way through a large answer: that connection is closed,
	// the next request gets a new one and succeeds.
	c, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("GET /big HTTP/1.1\r\nHost: h\r\n\r\n"))
	io.ReadFull(c, make([]byte, 1024))
	c.Close()
	time.Sleep(50 * time.Millisecond)
	if got := do(t, http.DefaultClient, "GET", s.URL+"/", "h", ""); got.body != "ok" {
		t.Errorf("after an abandoned answer: got %d %q", got.status, got.body)
	}
}

// TestH1StaleConnection: an endpoint that closes a kept-alive connection without
// saying so costs a retry on a new connection, not a 502.
func TestH1StaleConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() { // one answer, then close, though the answer promised keep-alive
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
				}
			}()
		}
	}()
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{
		route(prefix("/"), svc("be", netip.MustParseAddrPort(ln.Addr().String()))),
	}}))
	s := front(t, p, table.FrontendIngress)
	for i := range 3 {
		if got := do(t, http.DefaultClient, "GET", s.URL+"/", "h", ""); got.status != 200 || got.body != "ok" {
			t.Errorf("request %d: got %d %q", i, got.status, got.body)
		}
		time.Sleep(20 * time.Millisecond) // the endpoint's close arrives
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

func TestH1ResponseHeaderTimeout(t *testing.T) {
	slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	})
	p := New(Options{ResponseHeaderTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{route(prefix("/"), svc("slow", slow))}}))
	s := front(t, p, table.FrontendIngress)
	if got := do(t, http.DefaultClient, "GET", s.URL+"/", "h", ""); got.status != 504 || !strings.Contains(got.body, "504 Gateway Time-out") {
		t.Errorf("got %d %q, want nginx's 504", got.status, got.body)
	}
}

// TestH1IdleExpiry: idle upstream connections are closed after IdleConnTimeout, so
// endpoints gone from the table keep no sockets.
func TestH1IdleExpiry(t *testing.T) {
	a := newBackend(t, "a")
	p := New(Options{IdleConnTimeout: 50 * time.Millisecond})
	t.Cleanup(func() { p.Close() })
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{route(prefix("/"), svc("a", a.addr()))}}))
	s := front(t, p, table.FrontendIngress)
	do(t, http.DefaultClient, "GET", s.URL+"/", "h", "")
	fast := p.forwarder("").fast
	idle := func() int {
		fast.mu.Lock()
		defer fast.mu.Unlock()
		return len(fast.idle)
	}
	if idle() != 1 {
		t.Fatalf("want the connection pooled after the request")
	}
	deadline := time.Now().Add(2 * time.Second)
	for idle() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if idle() != 0 {
		t.Error("idle connection still pooled after IdleConnTimeout")
	}
}
