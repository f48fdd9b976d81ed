package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/nsutil"
)

// Ports of a CoreDNS pod, as kubeadm's manifest declares and probes them.
const (
	PortDNS     = 53
	PortHealth  = 8080 // /health: the livenessProbe
	PortReady   = 8181 // /ready: the readinessProbe
	PortMetrics = 9153
)

// PodServer is what one CoreDNS pod serves: DNS on UDP and TCP 53 from the server's
// zone, and the health, ready and metrics endpoints.
type PodServer struct {
	dns  []*mdns.Server
	http []*http.Server
	once sync.Once
}

// podHandler answers the queries a pod takes: names outside the cluster are forwarded
// from the pod's own namespace, as the pod's CoreDNS would.
type podHandler struct {
	s          *Server
	pod, netns string
}

func (h *podHandler) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	h.s.serve(w, req, h.pod, func(network, addr string) (c net.Conn, err error) {
		err = nsutil.Do(h.netns, func() error {
			c, err = net.DialTimeout(network, addr, 2*time.Second)
			return err
		})
		return c, err
	})
}

// ServePod opens the ports of CoreDNS pod (namespace/name) inside the network
// namespace at netnsPath and serves them from s (one process serves every pod's
// sockets).
func (s *Server) ServePod(pod, netnsPath string) (*PodServer, error) {
	var pc net.PacketConn
	var ls [4]net.Listener // dns-tcp, health, ready, metrics
	err := nsutil.Do(netnsPath, func() error {
		var err error
		if pc, err = net.ListenPacket("udp", fmt.Sprintf(":%d", PortDNS)); err != nil {
			return err
		}
		for i, p := range []int{PortDNS, PortHealth, PortReady, PortMetrics} {
			if ls[i], err = net.Listen("tcp", fmt.Sprintf(":%d", p)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if pc != nil {
			pc.Close()
		}
		for _, l := range ls {
			if l != nil {
				l.Close()
			}
		}
		return nil, fmt.Errorf("coredns pod: %w", err)
	}
	h := &podHandler{s: s, pod: pod, netns: netnsPath}
	ps := &PodServer{dns: []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ls[0], Handler: h}}}
	ok := func(body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })
	}
	health := http.NewServeMux()
	health.Handle("/health", ok("OK"))
	ready := http.NewServeMux()
	ready.Handle("/ready", ok("OK"))
	metrics := http.NewServeMux()
	metrics.Handle("/metrics", ok("# podlab's cluster DNS serves no Prometheus metrics yet\n"))
	for i, h := range []http.Handler{health, ready, metrics} {
		hs := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		ps.http = append(ps.http, hs)
		go hs.Serve(ls[i+1])
	}
	for _, d := range ps.dns {
		go d.ActivateAndServe()
	}
	return ps, nil
}

// Close stops every listener of the pod.
func (p *PodServer) Close() {
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var errs []error
		for _, d := range p.dns {
			errs = append(errs, d.ShutdownContext(ctx))
		}
		for _, h := range p.http {
			errs = append(errs, h.Shutdown(ctx))
		}
		_ = errors.Join(errs...)
	})
}
