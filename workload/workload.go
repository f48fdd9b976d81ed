// Package workload holds the built-in servers a pod or host runs, modelled on
// Kubernetes' agnhost netexec: HTTP on TCP ports and an echo service on UDP ports.
// One supervisor process serves every pod of a lab: each listener is opened inside the
// pod's network namespace and then served from ordinary goroutines, so a pod costs
// sockets, not a process. It never creates links, addresses or routes.
package workload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"podlab.dev/podlab/nsutil"
)

// Port is one port to serve.
type Port struct {
	Port     int
	Protocol string // TCP | UDP | SCTP (SCTP is not served: this kernel has no SCTP sockets)
}

// Server is the set of listeners of one pod or host.
type Server struct {
	hostname string
	mu       sync.Mutex
	https    []*http.Server
	udps     []net.PacketConn
	closed   bool
}

// Start opens every port inside the network namespace at nsPath and serves it.
// Ports that cannot be opened are reported together; the others keep serving.
func Start(nsPath, hostname string, ports []Port) (*Server, error) {
	s := &Server{hostname: hostname}
	var tcps []net.Listener
	var errs []error
	err := nsutil.Do(nsPath, func() error {
		for _, p := range ports {
			addr := ":" + strconv.Itoa(p.Port)
			switch strings.ToUpper(p.Protocol) {
			case "", "TCP":
				l, err := net.Listen("tcp", addr)
				if err != nil {
					errs = append(errs, fmt.Errorf("listen tcp %s: %w", addr, err))
					continue
				}
				tcps = append(tcps, l)
			case "UDP":
				c, err := net.ListenPacket("udp", addr)
				if err != nil {
					errs = append(errs, fmt.Errorf("listen udp %s: %w", addr, err))
					continue
				}
				s.udps = append(s.udps, c)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, l := range tcps {
		hs := &http.Server{Handler: Handler(hostname), ReadHeaderTimeout: 10 * time.Second}
		s.https = append(s.https, hs)
		go hs.Serve(l)
	}
	for _, c := range s.udps {
		go serveUDP(c, hostname)
	}
	return s, errors.Join(errs...)
}

// Close stops every listener.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, h := range s.https {
		h.Shutdown(ctx)
	}
	for _, c := range s.udps {
		c.Close()
	}
}

// Handler answers like agnhost netexec: / and /hostname give the name, /clientip the
// peer address as seen by the server (ip:port), /echo?msg= echoes, /healthz says ok.
func Handler(hostname string) http.Handler {
	mux := http.NewServeMux()
	name := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, hostname) }
	mux.HandleFunc("/{$}", name)
	mux.HandleFunc("/hostname", name)
	mux.HandleFunc("/clientip", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.RemoteAddr) })
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.URL.Query().Get("msg")) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	return mux
}

// Reply is the UDP answer to one datagram, as agnhost netexec's UDP server gives it:
// "hostname" -> the name, "clientip" -> the peer ip:port, "echo X" -> X; anything
// else is echoed back unchanged.
func Reply(hostname, msg string, peer net.Addr) string {
	m := strings.TrimRight(msg, "\r\n")
	switch {
	case m == "hostname":
		return hostname
	case m == "clientip":
		return peer.String()
	case strings.HasPrefix(m, "echo "):
		return strings.TrimPrefix(m, "echo ")
	}
	return msg
}

func serveUDP(c net.PacketConn, hostname string) {
	buf := make([]byte, 65535)
	for {
		n, peer, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		c.WriteTo([]byte(Reply(hostname, string(buf[:n]), peer)), peer)
	}
}
