package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"syscall"

	"podlab.dev/podlab/nsutil"
)

// forwarder sends requests to endpoints from one network namespace (so keep-alive
// connections are pooled per proxy pod): ReverseProxy over h1 for plain HTTP, and
// an http.Transport for HTTPS endpoints, upgrades and mirrors.
type forwarder struct {
	transport *http.Transport // HTTPS endpoints, upgrades, mirrors
	fast      *h1             // plain HTTP/1.1 endpoints
	rp        *httputil.ReverseProxy
}

// closeIdle is the forwarder's end: its pooled connections are closed, and those
// still in use are closed when their requests end.
func (f *forwarder) closeIdle() {
	f.fast.close()
	f.transport.CloseIdleConnections()
}

// forwarder for the network namespace at netnsPath ("" = the process's own), made
// at first use and kept until Close.
func (p *Proxy) forwarder(netnsPath string) *forwarder {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f := p.forwards[netnsPath]; f != nil {
		return f
	}
	d := &net.Dialer{Timeout: p.opts.DialTimeout, KeepAlive: -1}
	dial := d.DialContext
	if netnsPath != "" {
		dial = func(ctx context.Context, network, addr string) (c net.Conn, err error) {
			// The socket is made on this locked thread, inside the pod's namespace;
			// the address is an IP literal, so the dial starts no resolver goroutine.
			err = nsutil.Do(netnsPath, func() error {
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		}
	}
	t := &http.Transport{
		DialContext:           dial,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   256, // wrk -c 64 and more per endpoint stay on keep-alive
		IdleConnTimeout:       p.opts.IdleConnTimeout,
		ResponseHeaderTimeout: p.opts.ResponseHeaderTimeout,
		TLSHandshakeTimeout:   p.opts.DialTimeout,
		// HTTPS backends are not verified, as ingress-nginx's backend-protocol: HTTPS.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
		// A proxy passes Accept-Encoding through and never decompresses an answer.
		DisableCompression: true,
	}
	f := &forwarder{transport: t, fast: &h1{dial: dial, next: t, maxIdle: t.MaxIdleConnsPerHost,
		idleTimeout: p.opts.IdleConnTimeout, respTimeout: p.opts.ResponseHeaderTimeout, idle: map[string][]*h1Conn{}}}
	f.rp = &httputil.ReverseProxy{
		Rewrite:      restoreForwarded,
		Transport:    f.fast,
		ErrorHandler: upstreamError,
		ErrorLog:     log.New(io.Discard, "", 0),
		BufferPool:   bufferPool{},
	}
	p.forwards[netnsPath] = f
	return f
}

// forwardedHeaders are the ones ReverseProxy strips from the outgoing request
// before Rewrite; the handler has already put the values ingress-nginx sends on the
// incoming request, so Rewrite copies them back (the request is cloned, so this
// needs no per-request state).
var forwardedHeaders = [...]string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"}

func restoreForwarded(pr *httputil.ProxyRequest) {
	for _, k := range forwardedHeaders {
		if v := pr.In.Header[k]; v != nil {
			pr.Out.Header[k] = v
		}
	}
}

// upstreamError answers as nginx does: 504 when the endpoint timed out, 502 when it
// refused or broke the connection, and 499 (logged only: nobody is listening) when
// the client went away first.
func upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	switch {
	case r.Context().Err() != nil && !errors.Is(r.Context().Err(), context.DeadlineExceeded):
		status = 499
	case isTimeout(err):
		status = http.StatusGatewayTimeout
	}
	if rec, ok := w.(*recorder); ok {
		rec.upstreamFailed = true
		rec.h.answer(rec, status)
		return
	}
	w.WriteHeader(status)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, syscall.ETIMEDOUT) || (errors.As(err, &ne) && ne.Timeout())
}
