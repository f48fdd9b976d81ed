package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
)

// fakeForwarder answers on port 80 with what it reads, prefixed with the pod, and
// refuses every other port.
type fakeForwarder struct{}

func (fakeForwarder) PortForward(ctx context.Context, namespace, pod string, port int32, stream io.ReadWriteCloser) error {
	if port != 80 {
		return fmt.Errorf("dial tcp 10.244.1.5:%d: connect: connection refused", port)
	}
	b, err := io.ReadAll(stream)
	if err != nil {
		return err
	}
	fmt.Fprintf(stream, "%s/%s:%d got %s", namespace, pod, port, b)
	return nil
}

// syncBuffer is a bytes.Buffer the forwarder's goroutines may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestPortForward(t *testing.T) {
	// client-go reports a forwarding error through the runtime's error handlers
	// (kubectl's stderr), not through ForwardPorts' writers.
	var errOut syncBuffer
	saved := utilruntime.ErrorHandlers
	utilruntime.ErrorHandlers = append(saved[:len(saved):len(saved)], func(_ context.Context, err error, _ string, _ ...any) {
		fmt.Fprintln(&errOut, err)
	})
	t.Cleanup(func() { utilruntime.ErrorHandlers = saved })
	var mu sync.Mutex
	var upgrades []string
	h := PortForwardHandler(fakeForwarder{}, "shop", "web-1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		upgrades = append(upgrades, r.Header.Get("Upgrade"))
		mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/shop/pods/web-1/portforward")
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spdyDialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	tunnel, err := portforward.NewSPDYOverWebsocketDialer(u, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// kubectl 1.32: the WebSocket tunnel first, SPDY when the upgrade is refused.
	fallback := portforward.NewFallbackDialer(tunnel, spdyDialer, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
	for _, tt := range []struct {
		name    string
		dialer  httpstream.Dialer
		upgrade string
	}{
		{"spdy", spdyDialer, "SPDY/3.1"},
		{"websocket tunnel", tunnel, "websocket"},
		{"kubectl fallback", fallback, "websocket"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			upgrades = nil
			mu.Unlock()
			stop, ready := make(chan struct{}), make(chan struct{})
			var out syncBuffer
			fw, err := portforward.NewOnAddresses(tt.dialer, []string{"127.0.0.1"}, []string{"0:80", "0:81"}, stop, ready, &out, &out)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- fw.ForwardPorts() }()
			select {
			case <-ready:
			case err := <-done:
				t.Fatalf("ForwardPorts: %v", err)
			case <-time.After(10 * time.Second):
				t.Fatal("port-forward never got ready")
			}
			defer func() { close(stop); <-done }()
			ports, err := fw.GetPorts()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 { // two connections over one session
				got := roundTrip(t, ports[0].Local, fmt.Sprintf("hello %d", i))
				if want := fmt.Sprintf("shop/web-1:80 got hello %d", i); got != want {
					t.Errorf("answer %q, want %q", got, want)
				}
			}
			errOut.Reset()
			if got := roundTrip(t, ports[1].Local, "hello"); got != "" {
				t.Errorf("refused port answered %q", got)
			}
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(errOut.String(), "port 81") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if want := "error forwarding port 81 to pod shop/web-1: dial tcp 10.244.1.5:81: connect: connection refused"; !strings.Contains(errOut.String(), want) {
				t.Errorf("kubectl's stderr %q lacks %q", errOut.String(), want)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(upgrades) != 1 || upgrades[0] != tt.upgrade {
				t.Errorf("upgrades %q, want one %s", upgrades, tt.upgrade)
			}
		})
	}
}

// roundTrip sends msg to the local port, ends its side and reads the answer.
func roundTrip(t *testing.T, port uint16, msg string) string {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, msg)
	c.(*net.TCPConn).CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}
