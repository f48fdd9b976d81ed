package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"podlab.dev/podlab/cluster/ingress/table"
)

// benchTable routes like a small lab: a few hosts, paths ahead of the one taken.
func benchTable(be *backend) *table.Table {
	var routes []*table.Route
	for _, p := range []string{"/api/v2", "/api/v1", "/static", "/login"} {
		routes = append(routes, route(prefix(p), svc("other", be.addr())))
	}
	routes = append(routes, route(prefix("/"), svc("web", be.addr())))
	return oneListener(table.FrontendIngress,
		&table.VirtualHost{Hostname: "api.example.com", Routes: routes[:2]},
		&table.VirtualHost{Hostname: "*.example.com", WildcardOneLabel: true, Routes: routes[2:4]},
		&table.VirtualHost{Hostname: "www.example.org", Routes: routes})
}

// BenchmarkProxy is a client over keep-alive connections through the proxy to a
// local backend answering 13 bytes: the proxy's cost per request, with the access
// log on (discarding its entries).
func BenchmarkProxy(b *testing.B) {
	be := &backend{}
	be.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world\n")
	}))
	defer be.Close()
	p := New(Options{Log: func(Entry) {}})
	defer p.Close()
	p.Update(benchTable(be))
	s := httptest.NewServer(p.Handler(table.FrontendIngress, 80))
	defer s.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest("GET", s.URL+"/index.html?x=1", nil)
		req.Host = "www.example.org"
		for pb.Next() {
			resp, err := c.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkRoute is the handler's own work on a request nothing forwards (a 404
// after walking every virtual host and route): lookup, answer and log entry.
func BenchmarkRoute(b *testing.B) {
	be := newBackend(b, "x")
	p := New(Options{Log: func(Entry) {}})
	defer p.Close()
	p.Update(benchTable(be))
	h := p.Handler(table.FrontendIngress, 80)
	req := httptest.NewRequest("GET", "http://api.example.com/nothing/here", nil)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, req)
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
