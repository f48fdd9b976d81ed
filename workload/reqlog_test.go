package workload

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The request log keeps the last n requests and formats them when read: nginx's
// combined format, agnhost's lines, podlab's plain line; a readiness probe shows
// kube-probe/1.32.
func TestRequestLog(t *testing.T) {
	l := NewRequestLog(2)
	h := logRequests(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("hello")) }), l.Add)
	for _, p := range []string{"/a", "/b", "/readyz"} {
		r := httptest.NewRequest("GET", p, nil)
		r.Header.Set("User-Agent", "kube-probe/1.32")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	reqs := l.Requests()
	if len(reqs) != 2 || reqs[0].URI != "/b" || reqs[1].URI != "/readyz" {
		t.Fatalf("ring: %+v", reqs)
	}
	r := reqs[1]
	r.Time = time.Date(2025, 3, 1, 10, 2, 3, 0, time.UTC)
	if got, want := r.Format(StyleNginx), `192.0.2.1 - - [01/Mar/2025:10:02:03 +0000] "GET /readyz HTTP/1.1" 200 5 "-" "kube-probe/1.32"`; got != want {
		t.Errorf("nginx:\n got %s\nwant %s", got, want)
	}
	if got := r.Format(StyleAgnhost); got != "2025/03/01 10:02:03 GET /readyz" {
		t.Errorf("agnhost: %s", got)
	}
	if got := r.Format(StylePlain); !strings.Contains(got, "192.0.2.1:1234 GET /readyz 200 5 \"kube-probe/1.32\"") {
		t.Errorf("plain: %s", got)
	}
	u := Request{Time: r.Time, Client: "10.244.1.5:4000", UDP: true, URI: "hostname", Bytes: 8}
	if got := u.Format(StylePlain); !strings.Contains(got, `10.244.1.5:4000 UDP "hostname" 8 bytes`) {
		t.Errorf("plain UDP: %s", got)
	}
	if StyleOf(Options{Image: "nginx:1.27"}) != StyleNginx || StyleOf(Options{Image: "registry.k8s.io/e2e-test-images/agnhost:2.53", Args: []string{"netexec"}}) != StyleAgnhost ||
		StyleOf(Options{Image: "busybox", Ports: []Port{{Port: 80, Protocol: "TCP"}}}) != StylePlain {
		t.Errorf("StyleOf")
	}
}
