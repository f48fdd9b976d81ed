package ingress

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"time"

	"podlab.dev/podlab/cluster/ingress/proxy"
	"podlab.dev/podlab/nsutil"
)

// podServer is one proxy pod: the proxy's listeners and the health endpoint.
type podServer struct {
	proxy  io.Closer
	health *http.Server
}

// servePod opens the pod's health port and hands its network namespace to the
// proxy, which opens a listener there for each port of the frontend.
func servePod(p *proxy.Proxy, frontend, pod, netnsPath string) (*podServer, error) {
	if frontend == "" {
		return nil, fmt.Errorf("pod %s is no proxy pod", pod)
	}
	var ln net.Listener
	err := nsutil.Do(netnsPath, func() error {
		var err error
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", HealthPort))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("proxy pod %s: health port: %w", pod, err)
	}
	pc, err := p.ServePod(frontend, pod, netnsPath)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("proxy pod %s: %w", pod, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	return &podServer{proxy: pc, health: hs}, nil
}

// Close stops the pod's listeners (kubelet.Closer).
func (s *podServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.proxy.Close()
	s.health.Shutdown(ctx)
}

func sortByTime(es []proxy.Entry) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
}
