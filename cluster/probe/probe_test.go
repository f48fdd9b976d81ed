package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// fakeEnv dials every address at one loopback HTTP server (or fails as told) and
// runs commands through exec; it records the addresses asked for.
type fakeEnv struct {
	server  string // the loopback address every dial reaches
	dialErr error  // returned instead of dialing, when set
	block   bool   // dials and execs block until ctx ends
	exec    func(cmd []string) (int, string, error)

	mu     sync.Mutex // http.Transport dials from its own goroutine
	dialed []string
}

func (e *fakeEnv) firstDialed() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.dialed) == 0 {
		return ""
	}
	return e.dialed[0]
}

func (e *fakeEnv) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	e.mu.Lock()
	e.dialed = append(e.dialed, addr)
	e.mu.Unlock()
	switch {
	case e.block:
		<-ctx.Done()
		return nil, ctx.Err()
	case e.dialErr != nil:
		return nil, e.dialErr
	case e.server == "":
		// No server: one end of a pipe nobody reads is enough for a tcpSocket probe.
		c, _ := net.Pipe()
		return c, nil
	}
	var d net.Dialer
	return d.DialContext(ctx, network, e.server)
}

func (e *fakeEnv) Exec(ctx context.Context, cmd []string) (int, string, error) {
	if e.block {
		<-ctx.Done()
		return -1, "", nil // what a killed command looks like to the kubelet's Env
	}
	return e.exec(cmd)
}

// app is the container the HTTP probes reach.
func app() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/broken", http.StatusFound) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://elsewhere.example/", http.StatusFound)
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "web.example" || r.Header.Get("X-Lab") != "1" || r.UserAgent() != userAgent {
			w.WriteHeader(400)
		}
	})
	return mux
}

func httpGet(path string, port intstr.IntOrString) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port}}}
}

func tcpSocket(port intstr.IntOrString) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: port}}}
}

func execProbe(cmd ...string) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: cmd}}}
}

func TestRun(t *testing.T) {
	srv := httptest.NewServer(app())
	t.Cleanup(srv.Close)
	server := srv.Listener.Addr().String()
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.ParseIP("10.244.1.2"), Port: 8080}, Err: errors.New("connect: connection refused")}
	ports := []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "metrics", ContainerPort: 9090}}
	port8080 := intstr.FromInt32(8080)
	withHeaders := httpGet("/headers", port8080)
	withHeaders.HTTPGet.HTTPHeaders = []corev1.HTTPHeader{{Name: "Host", Value: "web.example"}, {Name: "X-Lab", Value: "1"}}
	withHost := httpGet("/healthz", port8080)
	withHost.HTTPGet.Host = "10.0.0.9"
	https := httpGet("/healthz", port8080)
	https.HTTPGet.Scheme = corev1.URISchemeHTTPS
	grpc := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{Port: 8080}}}
	exits := func(code int, out string) func([]string) (int, string, error) {
		return func([]string) (int, string, error) { return code, out, nil }
	}
	for _, tc := range []struct {
		name    string
		probe   *corev1.Probe
		env     *fakeEnv
		success bool
		message string // exact, or a prefix when it ends in "..."
		dialed  string
	}{
		{"http 200", httpGet("/healthz", port8080), &fakeEnv{server: server}, true, "ok", "10.244.1.2:8080"},
		{"http 503", httpGet("/broken", port8080), &fakeEnv{server: server}, false, "HTTP probe failed with statuscode: 503", "10.244.1.2:8080"},
		{"http redirect on the same host is followed", httpGet("/moved", port8080), &fakeEnv{server: server}, false, "HTTP probe failed with statuscode: 503", "10.244.1.2:8080"},
		{"http redirect elsewhere is a success", httpGet("/away", port8080), &fakeEnv{server: server}, true, "Probe terminated redirects...", "10.244.1.2:8080"},
		{"http named port", httpGet("/healthz", intstr.FromString("metrics")), &fakeEnv{server: server}, true, "ok", "10.244.1.2:9090"},
		{"http port number as a string", httpGet("/healthz", intstr.FromString("8081")), &fakeEnv{server: server}, true, "ok", "10.244.1.2:8081"},
		{"http unknown port name", httpGet("/healthz", intstr.FromString("web")), &fakeEnv{server: server}, false, `port "web" is not a number nor the name of one of the container's ports (http, metrics)`, ""},
		{"http host", withHost, &fakeEnv{server: server}, true, "ok", "10.0.0.9:8080"},
		{"http headers", withHeaders, &fakeEnv{server: server}, true, "", "10.244.1.2:8080"},
		{"https", https, &fakeEnv{server: server}, false, "scheme HTTPS is not supported by podlab's probes...", ""},
		{"http refused", httpGet("/healthz", port8080), &fakeEnv{dialErr: refused}, false, `Get "http://10.244.1.2:8080/healthz": dial tcp 10.244.1.2:8080: connect: connection refused`, "10.244.1.2:8080"},
		{"http timeout", httpGet("/healthz", port8080), &fakeEnv{block: true}, false, `Get "http://10.244.1.2:8080/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, "10.244.1.2:8080"},
		{"tcp open", tcpSocket(intstr.FromString("http")), &fakeEnv{}, true, "", "10.244.1.2:8080"},
		{"tcp refused", tcpSocket(port8080), &fakeEnv{dialErr: refused}, false, "dial tcp 10.244.1.2:8080: connect: connection refused", "10.244.1.2:8080"},
		{"tcp timeout", tcpSocket(port8080), &fakeEnv{block: true}, false, "dial tcp 10.244.1.2:8080: i/o timeout", "10.244.1.2:8080"},
		{"tcp port out of range", tcpSocket(intstr.FromInt32(70000)), &fakeEnv{}, false, "invalid port number: 70000 (want 1 to 65535)", ""},
		{"exec exit 0", execProbe("cat", "/tmp/healthy"), &fakeEnv{exec: exits(0, "")}, true, "", ""},
		{"exec exit 1", execProbe("cat", "/tmp/healthy"), &fakeEnv{exec: exits(1, "cat: /tmp/healthy: No such file or directory")}, false, "cat: /tmp/healthy: No such file or directory", ""},
		{"exec exit 2 silently", execProbe("false"), &fakeEnv{exec: exits(2, "")}, false, `command "false" exited with code 2`, ""},
		{"exec cannot run", execProbe("nope"), &fakeEnv{exec: func([]string) (int, string, error) {
			return -1, "", errors.New(`exec: "nope": executable file not found in $PATH`)
		}}, false, `exec: "nope": executable file not found in $PATH`, ""},
		{"exec timeout", execProbe("sleep", "10"), &fakeEnv{block: true}, false, `command "sleep 10" timed out`, ""},
		{"grpc", grpc, &fakeEnv{}, false, "grpc probes are not supported by podlab yet...", ""},
		{"no handler", &corev1.Probe{}, &fakeEnv{}, false, "the probe has no handler...", ""},
		{"no probe", nil, &fakeEnv{}, true, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the timeouts take a second each
			r := Run(context.Background(), tc.probe, "10.244.1.2", ports, tc.env)
			prefix, isPrefix := strings.CutSuffix(tc.message, "...")
			if r.Success != tc.success || isPrefix && !strings.HasPrefix(r.Message, prefix) || !isPrefix && r.Message != tc.message {
				t.Errorf("Run = %+v, want success %v, message %q", r, tc.success, tc.message)
			}
			if got := tc.env.firstDialed(); tc.dialed != "" && got != tc.dialed {
				t.Errorf("dialed %q, want %q", got, tc.dialed)
			}
		})
	}
}
