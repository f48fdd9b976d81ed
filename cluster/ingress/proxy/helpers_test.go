package proxy

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"podlab.dev/podlab/cluster/ingress/table"
)

// echo is what the test backends answer: the request as they received it.
type echo struct {
	Backend string
	Method  string
	URI     string
	Host    string
	Header  http.Header
	Body    string
}

// backend is an httptest server on loopback that answers echo as JSON and counts
// what it received.
type backend struct {
	*httptest.Server
	name string
	mu   sync.Mutex
	got  []echo
}

func newBackend(t testing.TB, name string) *backend {
	b := &backend{name: name}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e := echo{Backend: name, Method: r.Method, URI: r.RequestURI, Host: r.Host, Header: r.Header, Body: string(body)}
		b.mu.Lock()
		b.got = append(b.got, e)
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", name)
		json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) received() []echo {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]echo(nil), b.got...)
}

// addr is the backend's endpoint for the table.
func (b *backend) addr() netip.AddrPort {
	return netip.MustParseAddrPort(b.Listener.Addr().String())
}

func svc(name string, eps ...netip.AddrPort) *table.Backend {
	return &table.Backend{Namespace: "default", Service: name, Port: 80, Weight: 1, Endpoints: eps}
}

func prefix(p string) table.Match {
	return table.Match{Path: table.PathMatch{Type: "Prefix", Value: p}}
}

func route(m table.Match, bs ...*table.Backend) *table.Route {
	return &table.Route{Source: table.Source{Kind: "HTTPRoute", Namespace: "default", Name: "r"}, Match: m, Backends: bs}
}

// oneListener is a table with frontend key serving vhs on HTTP port 80.
func oneListener(key string, vhs ...*table.VirtualHost) *table.Table {
	return &table.Table{Frontends: map[string]*table.Frontend{key: {Key: key, Listeners: []*table.Listener{
		{Name: "http", Port: 80, Protocol: "HTTP", VirtualHosts: vhs},
	}}}}
}

// front serves p's frontend key port 80 on loopback and returns the server.
func front(t testing.TB, p *Proxy, key string) *httptest.Server {
	s := httptest.NewServer(p.Handler(key, 80))
	t.Cleanup(s.Close)
	return s
}

type answer struct {
	status int
	header http.Header
	body   string
	echo   echo
}

// get sends method url with Host host (and extra headers "K: v") through the client.
func do(t testing.TB, c *http.Client, method, url, host string, body string, hdr ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s (Host %s): %v", method, url, host, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		json.Unmarshal(b, &a.echo)
	}
	return a
}

// noRedirects is a client that returns redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
