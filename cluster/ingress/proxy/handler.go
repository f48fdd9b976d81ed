package proxy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

// handler serves one listener port of one frontend, for one pod (or none: Handler).
type handler struct {
	p        *Proxy
	frontend string
	port     int32
	portStr  string // X-Forwarded-Port
	pod      string
	fwd      *forwarder
	pages    *pages // nginx's or Envoy's error answers
}

// Handler is what the listener on port of frontendKey serves, dialing backends from
// the process's own network namespace: ServePod serves the same per pod, and tests
// serve it with httptest.
func (p *Proxy) Handler(frontendKey string, port int32) http.Handler {
	return p.handler(frontendKey, port, "", p.forwarder(""))
}

func (p *Proxy) handler(frontend string, port int32, pod string, fwd *forwarder) *handler {
	pg := &envoyPages
	if frontend == table.FrontendIngress {
		pg = &nginxPages
	}
	return &handler{p: p, frontend: frontend, port: port, portStr: strconv.Itoa(int(port)), pod: pod, fwd: fwd, pages: pg}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: w, h: h, start: time.Now()}
	host, uri := r.Host, r.RequestURI // as the client sent them, for the log
	var reqLen int64
	if h.p.opts.Log != nil {
		reqLen = requestLength(r)
	}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { // the client or endpoint broke the body: net/http's way out
				rec.status = 499
				h.log(rec, r, host, uri, reqLen)
				panic(v)
			}
			h.p.errorf(fmt.Errorf("ingress proxy %s port %d: panic serving %s %s: %v", h.frontend, h.port, r.Method, uri, v))
			if !rec.wroteHeader {
				h.answer(rec, http.StatusInternalServerError)
			}
			rec.status = http.StatusInternalServerError
		}
		h.log(rec, r, host, uri, reqLen)
	}()
	h.serve(rec, r)
}

func (h *handler) serve(rec *recorder, r *http.Request) {
	rec.reqID = r.Header.Get("X-Request-Id")
	if rec.reqID == "" {
		rec.reqID = newRequestID()
	}
	var l *table.Listener
	if f := h.p.table.Load().Frontends[h.frontend]; f != nil {
		l = f.Listener(h.port)
	}
	if l == nil {
		h.answer(rec, http.StatusNotFound)
		return
	}
	rec.listener = l.Name
	var query url.Values
	if r.URL.RawQuery != "" {
		query = r.URL.Query()
	}
	vh, rt := l.Route(r.Host, r.URL.Path, r.Header, query, r.Method)
	if vh != nil && vh.Listener != "" {
		rec.listener = vh.Listener
	}
	if rt == nil {
		h.answer(rec, http.StatusNotFound)
		return
	}
	rec.route = rt
	if rt.SSLRedirect && r.TLS == nil {
		rec.Header().Set("Location", "https://"+hostForURL(table.HostOnly(r.Host))+r.RequestURI)
		h.answer(rec, http.StatusPermanentRedirect)
		return
	}
	h.setForwarded(r, rec.reqID)
	if h.requestFilters(rec, r, rt.Filters, rt) {
		return
	}
	rec.filters[0] = rt.Filters
	b := pickBackend(rt.Backends)
	if b == nil {
		status := rt.Status
		if status == 0 {
			status = http.StatusInternalServerError // Gateway API: nothing to send it to
		}
		h.answer(rec, status)
		return
	}
	rec.backend = b
	if h.requestFilters(rec, r, b.Filters, rt) {
		return
	}
	rec.filters[1] = b.Filters
	switch {
	case b.Status != 0:
		h.answer(rec, b.Status)
		return
	case len(b.Endpoints) == 0:
		h.answer(rec, http.StatusServiceUnavailable)
		return
	}
	ep := b.Endpoints[0]
	if n := len(b.Endpoints); n > 1 {
		ep = b.Endpoints[rand.IntN(n)]
	}
	rec.upstream = ep.String()
	r.URL.Scheme = "http"
	if b.Protocol == "HTTPS" {
		r.URL.Scheme = "https"
	}
	r.URL.Host = rec.upstream
	if b.Timeout > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), b.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
	}
	start := time.Now()
	h.fwd.rp.ServeHTTP(rec, r)
	rec.upstreamTime = time.Since(start)
}

// pickBackend chooses one of bs at random in proportion to Weight (0: never); nil
// when none can take the request.
func pickBackend(bs []*table.Backend) *table.Backend {
	if len(bs) == 1 {
		if bs[0].Weight > 0 {
			return bs[0]
		}
		return nil
	}
	var total int64
	for _, b := range bs {
		if b.Weight > 0 {
			total += int64(b.Weight)
		}
	}
	if total == 0 {
		return nil
	}
	n := rand.Int64N(total)
	for _, b := range bs {
		if b.Weight <= 0 {
			continue
		}
		if n < int64(b.Weight) {
			return b
		}
		n -= int64(b.Weight)
	}
	return nil
}

// setForwarded puts on r the headers ingress-nginx sends upstream. The values share
// one backing array: one allocation instead of seven.
func (h *handler) setForwarded(r *http.Request, reqID string) {
	client := r.RemoteAddr
	if ip, _, err := net.SplitHostPort(client); err == nil {
		client = ip
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	xff := client
	if prior := r.Header["X-Forwarded-For"]; len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + client
	}
	v := [...]string{xff, r.Host, h.portStr, scheme, scheme, scheme, client, reqID}
	vs := v[:]
	hd := r.Header
	hd["X-Forwarded-For"] = vs[0:1:1]
	hd["X-Forwarded-Host"] = vs[1:2:2]
	hd["X-Forwarded-Port"] = vs[2:3:3]
	hd["X-Forwarded-Proto"] = vs[3:4:4]
	hd["X-Forwarded-Scheme"] = vs[4:5:5]
	hd["X-Scheme"] = vs[5:6:6]
	hd["X-Real-Ip"] = vs[6:7:7]
	hd["X-Request-Id"] = vs[7:8:8]
}

// newRequestID is ingress-nginx's $request_id: 16 random bytes in hex.
func newRequestID() string {
	const hexdigits = "0123456789abcdef"
	var b [32]byte
	for i, x := 0, rand.Uint64(); i < 16; i, x = i+1, x>>4 {
		b[i] = hexdigits[x&15]
	}
	for i, x := 16, rand.Uint64(); i < 32; i, x = i+1, x>>4 {
		b[i] = hexdigits[x&15]
	}
	return string(b[:])
}

// hostForURL brackets an IPv6 address for a URL.
func hostForURL(host string) string {
	if strings.Contains(host, ":") {
		return "[" + host + "]"
	}
	return host
}

// requestLength approximates nginx's $request_length: request line, headers, body.
func requestLength(r *http.Request) int64 {
	n := int64(len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4 + len(r.Host) + 8)
	for k, vs := range r.Header {
		for _, v := range vs {
			n += int64(len(k) + len(v) + 4)
		}
	}
	if r.ContentLength > 0 {
		n += r.ContentLength
	}
	return n + 2
}
