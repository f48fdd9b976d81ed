package proxy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

// TestNoGoroutineLeak runs forwarded, mirrored, unrouted and abandoned requests and
// checks every goroutine the proxy started is gone after Close.
func TestNoGoroutineLeak(t *testing.T) {
	a, m := newBackend(t, "a"), newBackend(t, "mirror")
	slow := newBackendFunc(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		http.NewResponseController(w).Flush()
		select { // a body that never ends until the request does
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	baseline := runtime.NumGoroutine()

	mirrored := route(prefix("/mirror"), svc("a", a.addr()))
	mirrored.Filters = []table.Filter{{Type: table.FilterMirror, Mirror: svc("mirror", m.addr()), Percent: 100}}
	p := New(Options{})
	p.Update(oneListener(table.FrontendIngress, &table.VirtualHost{Routes: []*table.Route{
		mirrored, route(prefix("/slow"), svc("slow", slow)), route(prefix("/"), svc("a", a.addr())),
	}}))
	s := httptest.NewServer(p.Handler(table.FrontendIngress, 80))
	tr := &http.Transport{MaxIdleConnsPerHost: 16}
	c := &http.Client{Transport: tr}

	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 20 {
				path := []string{"/", "/mirror", "/slow", "/x"}[(i+j)%4]
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
				req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+path, nil)
				if resp, err := c.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body) // /slow: the client gives up mid-body
					resp.Body.Close()
				}
				cancel()
			}
		}()
	}
	wg.Wait()
	tr.CloseIdleConnections()
	s.Close()
	p.Close()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseline {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
	}
	if len(m.received()) == 0 {
		t.Error("no mirror arrived")
	}
}
