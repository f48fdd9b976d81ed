// Package workload holds the servers a pod or host runs. One supervisor process serves
// every pod of a lab: each listener is opened inside the pod's network namespace and
// then served from ordinary goroutines, so a pod costs sockets, not a process. It owns
// those sockets and what they answer; it never creates links, addresses or routes, and
// never restarts anything itself (the kubelet does, told through Options.OnExit).
//
// A pod behaves as its image would (EmulatedPorts says which ports it listens on):
//
//   - nginx, any registry or tag: nginx's default page on port 80 (only 80, whatever
//     the spec declares), `Server: nginx`, nginx's 404 page for other paths.
//   - httpd: "It works!" on port 80.
//   - agnhost netexec: HTTP on --http-port (8080) with /, /hostname, /clientip,
//     /echo?msg=&code=, /healthz, /redirect, /exit and /shutdown; /shell, /upload and
//     /dial answer 501. UDP on --udp-port (8081; -1 for none) answering "hostname",
//     "clientip" and "echo X".
//   - agnhost serve-hostname: the hostname on --port (9376) over HTTP, or over raw
//     --tcp and --udp with --http=false. Both at once exits with code 1, as the real
//     one does.
//   - agnhost with no args (pause): nothing.
//   - Gateway API's echo-basic (any registry path ending in echo-basic, any tag; and
//     the older .../ingressconformance/echoserver): HTTP on $HTTP_PORT (3000) and h2c
//     on $H2C_PORT (3001), whatever the spec declares. Every request is echoed as
//     indented JSON (path, host, method, proto, headers, httpPort, namespace,
//     ingress, service, pod; $NAMESPACE and $POD_NAME, else the pod's own), with the
//     response headers X-Echo-Set-Header: "name:value,..." asks for and ?delay=D;
//     /health is "OK", /status/NNN answers NNN, /retry/ fails N times per uuid. It
//     logs "Echoing back request made to PATH to client (ADDR)". Not emulated:
//     HTTPS on 8443 (TLS_SERVER_CERT names a file a podlab pod lacks), /ws, and its
//     GRPC_, TCP_ and UDP_ECHO_SERVER modes (podlab's own server instead).
//   - any other image, or a command that runs something else: podlab's own server on
//     each declared port, HTTP on TCP (/ and /hostname give the name, /clientip,
//     /echo?msg=, /healthz) and an echo on UDP ("hostname", "clientip", "echo X").
//
// Break endpoints, on every HTTP server whatever the image, for lessons on probes
// and restarts:
//
//	/exit?code=N&wait=D     the container exits with code N (default 0) after D
//	                        (default 0s); the kubelet restarts it
//	/podlab/fail-readiness  /readyz and /healthz answer 503 until /podlab/recover
//	/podlab/fail-liveness   /livez and /healthz answer 503 until /podlab/recover
//	/podlab/recover         all three answer 200 again
//	/readyz, /livez         200 "ok" unless broken; /healthz is the image's own
//	/podlab/exit            as /exit
//
// echo-basic echoes /exit, /readyz, /livez and /healthz as the real one does (the
// conformance suite may ask for any path): there only /podlab/... is podlab's, and
// the health paths answer 503 only while broken.
//
// A restarted container is a new Server, so a restart also clears a break, as it
// would clear a real process's state.
package workload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"podlab.dev/podlab/nsutil"
)

// Port is one port to serve.
type Port struct {
	Port     int
	Protocol string // TCP | UDP | SCTP (SCTP is not served: this kernel has no SCTP sockets)
}

// Options describe one container to serve.
type Options struct {
	NetnsPath string // the pod's network namespace; "" is the caller's own
	Hostname  string
	Image     string   // "nginx:1.27", "registry.k8s.io/e2e-test-images/agnhost:2.53", ...
	Command   []string // the container spec's command and args
	Args      []string
	Ports     []Port // the declared containerPorts
	// Env is the container's environment as resolved by the kubelet (value, and the
	// downward API's fieldRef); images that read variables read them here.
	Env map[string]string
	// Namespace and PodName are the pod's identity, for images that report it when
	// the environment does not say (echo-basic's NAMESPACE and POD_NAME).
	Namespace, PodName string
	// OnExit is called, once and from its own goroutine, when the container is asked
	// to exit (/exit). The caller closes the Server and starts a new one when the
	// restart back-off allows. Without it /exit is refused.
	OnExit func(code int)
	// OnRequest, when set, learns every HTTP request and UDP datagram the servers
	// answer (the pod's request log); it must not block.
	OnRequest func(Request)
}

// Server is the set of listeners of one pod or host.
type Server struct {
	opts              Options
	prog              program
	notReady, notLive atomic.Bool

	mu      sync.Mutex
	https   []*http.Server
	closers []io.Closer // UDP sockets and raw TCP listeners
	closed  bool
	exited  bool
}

// New is the Server for o without opening any socket: its Handler can be served
// elsewhere (tests, httptest).
func New(o Options) *Server {
	return &Server{opts: o, prog: emulate(o)}
}

// StartPod opens every port the emulated image listens on inside o.NetnsPath and
// serves them. Ports that cannot be opened are reported together; the others keep
// serving. When the image's program would exit at once the error is an *ExitError,
// nothing is served and OnExit is not called: the caller records the exit itself.
// The Server is never nil.
func StartPod(o Options) (*Server, error) {
	s := New(o)
	if s.prog.exit != nil {
		return s, s.prog.exit
	}
	return s, s.open()
}

// Start serves podlab's own server on ports inside the namespace at nsPath: StartPod
// with no image.
func Start(nsPath, hostname string, ports []Port) (*Server, error) {
	return StartPod(Options{NetnsPath: nsPath, Hostname: hostname, Ports: ports})
}

func (s *Server) open() error {
	type opened struct {
		socket
		l net.Listener
		c net.PacketConn
	}
	var socks []opened
	var errs []error
	listen := func() error {
		for _, so := range s.prog.sockets {
			addr := ":" + strconv.Itoa(so.Port.Port)
			o := opened{socket: so}
			var err error
			if so.Protocol == "UDP" {
				o.c, err = net.ListenPacket("udp", addr)
			} else {
				o.l, err = net.Listen("tcp", addr)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("listen %s %s: %w", so.Protocol, addr, err))
				continue
			}
			socks = append(socks, o)
		}
		return nil
	}
	if s.opts.NetnsPath == "" {
		listen()
	} else if err := nsutil.Do(s.opts.NetnsPath, listen); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range socks {
		switch {
		case o.c != nil:
			s.closers = append(s.closers, o.c)
			go s.serveUDP(o.c, o.kind)
		case o.kind == hostnameTCP:
			s.closers = append(s.closers, o.l)
			go s.serveHostnameTCP(o.l)
		default:
			hs := &http.Server{Handler: logRequests(s.handler(o.kind), s.opts.OnRequest), ReadHeaderTimeout: 10 * time.Second}
			if o.kind == echoH2C { // HTTP/2 without TLS, by prior knowledge, as echo-basic's
				hs.Protocols = new(http.Protocols)
				hs.Protocols.SetHTTP1(true)
				hs.Protocols.SetUnencryptedHTTP2(true)
			}
			s.https = append(s.https, hs)
			go hs.Serve(o.l)
		}
	}
	return errors.Join(errs...)
}

// Handler is what the HTTP server on TCP port answers, break endpoints included; nil
// when the emulated image serves no HTTP there.
func (s *Server) Handler(port int) http.Handler {
	for _, so := range s.prog.sockets {
		if so.Port.Port == port && so.Protocol == "TCP" && so.kind != hostnameTCP {
			return s.handler(so.kind)
		}
	}
	return nil
}

func (s *Server) handler(k kind) http.Handler {
	var h http.Handler
	switch k {
	case nginxHTTP:
		h = nginxSite
	case httpdHTTP:
		h = httpdSite
	case netexecHTTP:
		h = s.netexecHandler()
	case hostnameHTTP:
		h = s.serveHostnameHandler()
	case echoHTTP:
		return s.echoBasicHandler()
	case echoH2C:
		return s.echoH2CHandler()
	default:
		h = s.plainHandler()
	}
	return s.withBreaks(h)
}

// Handler is podlab's own HTTP server for hostname, break endpoints included.
func Handler(hostname string) http.Handler {
	return New(Options{Hostname: hostname}).handler(plainHTTP)
}

// Ready is false while /podlab/fail-readiness is in force.
func (s *Server) Ready() bool { return !s.notReady.Load() }

// Live is false while /podlab/fail-liveness is in force.
func (s *Server) Live() bool { return !s.notLive.Load() }

// Healthy is what /healthz says: ready and live.
func (s *Server) Healthy() bool { return s.Ready() && s.Live() }

// Close stops every listener.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	https, closers := s.https, s.closers
	s.mu.Unlock() // a request in flight may need it (/exit) before Shutdown returns
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, h := range https {
		h.Shutdown(ctx)
	}
	for _, c := range closers {
		c.Close()
	}
}
