package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"podlab.dev/podlab/cluster/ingress/table"
	"podlab.dev/podlab/nsutil"
)

// PodServer is one proxy pod's listeners: a port for each Listener of its frontend,
// opened inside the pod's network namespace and kept in step with Update.
type PodServer struct {
	p                   *Proxy
	frontend, pod, path string
	fwd                 *forwarder
	ports               map[int32]*portServer // guarded by p.mu
	closed              bool
}

type portServer struct {
	tls  bool
	srv  *http.Server
	done chan struct{} // closed when Serve has returned
}

// ServePod serves proxy pod (namespace/name) of frontendKey: every Listener port of
// the frontend is opened inside the network namespace at netnsPath, and backends are
// dialed from there. Ports follow later Updates; Close stops them all.
func (p *Proxy) ServePod(frontendKey, pod, netnsPath string) (*PodServer, error) {
	ps := &PodServer{p: p, frontend: frontendKey, pod: pod, path: netnsPath,
		fwd: p.forwarder(netnsPath), ports: map[int32]*portServer{}}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("ingress proxy pod %s: the proxy is closed", pod)
	}
	err := ps.sync(p.table.Load())
	if err == nil {
		p.pods[ps] = struct{}{}
	}
	p.mu.Unlock()
	if err != nil {
		ps.close()
		return nil, err
	}
	return ps, nil
}

// Close stops the pod's listeners and their connections, and drops the upstream
// connections dialed from its namespace unless another pod shares it (a pod's
// namespace goes with the pod; a new one gets a new path).
func (ps *PodServer) Close() error {
	p := ps.p
	p.mu.Lock()
	delete(p.pods, ps)
	shared := false
	for o := range p.pods {
		shared = shared || o.path == ps.path
	}
	var gone *forwarder
	if !shared && ps.path != "" && p.forwards[ps.path] == ps.fwd {
		gone = ps.fwd
		delete(p.forwards, ps.path)
	}
	p.mu.Unlock()
	ps.close()
	if gone != nil {
		gone.closeIdle()
	}
	return nil
}

// Ports are the ports the pod listens on now, for tests and inspection.
func (ps *PodServer) Ports() []int32 {
	ps.p.mu.Lock()
	defer ps.p.mu.Unlock()
	var out []int32
	for port := range ps.ports {
		out = append(out, port)
	}
	return out
}

func (ps *PodServer) close() {
	ps.p.mu.Lock()
	ports := ps.ports
	ps.ports = map[int32]*portServer{}
	ps.closed = true
	ps.p.mu.Unlock()
	for _, s := range ports {
		s.close()
	}
}

func (s *portServer) close() {
	s.srv.Close()
	<-s.done
}

// sync opens the ports t has for the pod's frontend and closes the others (a port
// whose protocol changed is reopened); the caller holds p.mu.
func (ps *PodServer) sync(t *table.Table) error {
	if ps.closed {
		return nil
	}
	want := map[int32]bool{} // port -> TLS
	if f := t.Frontends[ps.frontend]; f != nil {
		for _, l := range f.Listeners {
			want[l.Port] = l.Protocol == "HTTPS"
		}
	}
	for port, s := range ps.ports {
		if isTLS, ok := want[port]; !ok || isTLS != s.tls {
			s.close()
			delete(ps.ports, port)
		}
	}
	var open []int32
	for port := range want {
		if ps.ports[port] == nil {
			open = append(open, port)
		}
	}
	if len(open) == 0 {
		return nil
	}
	lns := make([]net.Listener, len(open))
	var errs []error
	listen := func() error {
		for i, port := range open {
			ln, err := net.Listen("tcp", ":"+strconv.Itoa(int(port)))
			if err != nil {
				errs = append(errs, fmt.Errorf("listen on port %d: %w", port, err))
				continue
			}
			lns[i] = ln
		}
		return nil
	}
	if ps.path == "" {
		listen()
	} else if err := nsutil.Do(ps.path, listen); err != nil {
		errs = append(errs, err)
	}
	for i, ln := range lns {
		if ln != nil {
			ps.ports[open[i]] = ps.serve(ln, open[i], want[open[i]])
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ingress proxy pod %s (%s): %w", ps.pod, ps.frontend, err)
	}
	return nil
}

func (ps *PodServer) serve(ln net.Listener, port int32, isTLS bool) *portServer {
	o := &ps.p.opts
	srv := &http.Server{
		Handler:           ps.p.handler(ps.frontend, port, ps.pod, ps.fwd),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		ErrorLog:          log.New(io.Discard, "", 0), // failed handshakes and scans are not the supervisor's news
	}
	s := &portServer{tls: isTLS, srv: srv, done: make(chan struct{})}
	if isTLS {
		srv.TLSConfig = &tls.Config{GetCertificate: ps.p.certificates(ps.frontend, port)}
	}
	go func() {
		defer close(s.done)
		if isTLS {
			srv.ServeTLS(ln, "", "") // adds h2 to ALPN: HTTP/2 and HTTP/1.1
		} else {
			srv.Serve(ln)
		}
	}()
	return s
}

// certificates picks the certificate of the listener on port by SNI from the table
// current at the handshake: the first Cert whose Hosts match (the compiler orders
// them precise before wildcard, longer first), else the Default; with neither the
// handshake fails, as nginx's ssl_reject_handshake would.
func (p *Proxy) certificates(frontend string, port int32) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		var l *table.Listener
		if f := p.table.Load().Frontends[frontend]; f != nil {
			l = f.Listener(port)
		}
		if l == nil {
			return nil, fmt.Errorf("no HTTPS listener on port %d", port)
		}
		if c := pickCert(l, hello.ServerName); c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("no certificate for server name %q on port %d", hello.ServerName, port)
	}
}

func pickCert(l *table.Listener, serverName string) *tls.Certificate {
	name := strings.ToLower(strings.TrimSuffix(serverName, "."))
	if name != "" {
		for _, c := range l.Certs {
			if c.Cert == nil {
				continue
			}
			if len(c.Hosts) == 0 {
				return c.Cert
			}
			for _, h := range c.Hosts {
				// A certificate's wildcard covers exactly one label (RFC 6125).
				if table.HostnameMatches(h, name, true) {
					return c.Cert
				}
			}
		}
	}
	return l.Default
}

// bufferPool lends ReverseProxy its copy buffers, so a request costs no 32 KiB.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

func (bufferPool) Get() []byte  { return *buffers.Get().(*[]byte) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }
