package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	"k8s.io/client-go/util/exec"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/kubeapi/stream"
	"podlab.dev/podlab/runtime/netns"
)

// TestStreamOnLab serves pods/exec and pods/portforward of a real pod with
// podlab's Executor and PortForwarder, and drives them with client-go as kubectl
// does: the command runs in the pod's namespace with its /etc files, exit codes,
// a missing command, a terminal's size, and a forwarded connection to the pod's
// server.
func TestStreamOnLab(t *testing.T) {
	e := newEnv(t)
	name := uniq("stream")
	st := e.deploy(name, fmt.Sprintf(smallLab, name, "web", "web"))
	testStreams(t, e, st, false)
}

// TestStreamOnDockerLab is TestStreamOnLab in a lab of runtime docker, where the
// command runs in the pod's container through the engine.
func TestStreamOnDockerLab(t *testing.T) {
	dockerEngine(t)
	e := newEnv(t)
	name := uniq("dk-stream")
	st := e.deploy(name, fmt.Sprintf("name: %s\nruntime: docker\nnodes: [{name: n1}]\npods:\n  - {name: web-1, node: n1, ports: [80]}\n", name))
	testStreams(t, e, st, true)
}

func testStreams(t *testing.T, e *env, st *api.LabState, docker bool) {
	pod := st.Pods[0]
	base := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s/", pod.Namespace, pod.Name)
	mux := http.NewServeMux()
	labExec := stream.LabExec{Binary: podlabBin, Lab: st.Lab, StateDir: e.root, InContainer: docker}
	mux.Handle(base+"exec", stream.ExecHandler(labExec, pod.Namespace, pod.Name))
	mux.Handle(base+"portforward", stream.PortForwardHandler(stream.NetnsForwarder{Pod: func(context.Context, string, string) (string, netip.Addr, error) {
		return netns.Path(pod.Netns), pod.IP, nil
	}}, pod.Namespace, pod.Name))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}

	for _, tt := range []struct {
		name     string
		command  []string
		stdin    string
		tty      bool
		want     []string
		wantErr  string
		wantCode int
	}{
		{name: "pod namespace and /etc", command: []string{"sh", "-c", "ip -4 -o addr show; cat /etc/resolv.conf"},
			want: []string{pod.IP.String() + "/", "search " + pod.Namespace + ".svc."}},
		{name: "stdin", command: []string{"cat"}, stdin: "to the pod\n", want: []string{"to the pod\n"}},
		{name: "exit code", command: []string{"sh", "-c", "exit 3"}, wantCode: 3},
		{name: "missing command", command: []string{"nosuch"}, wantErr: `exec: "nosuch": executable file not found in $PATH: unknown`},
		// The terminal starts at 100x24 and is resized to 120x40 while the command
		// sleeps (which also outwaits Docker engines before API 1.42, which size
		// an exec's terminal only after it has started).
		{name: "tty", command: []string{"sh", "-c", "sleep 1; stty -a"}, tty: true, want: []string{"rows 40; columns 120;"}},
	} {
		for _, transport := range []string{"spdy", "websocket"} {
			t.Run(tt.name+"/"+transport, func(t *testing.T) {
				q := url.Values{"command": tt.command, "stdout": {"true"}, "stderr": {"true"}}
				var stdout, stderr bytes.Buffer
				opts := remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr, Tty: tt.tty}
				if tt.stdin != "" {
					q.Set("stdin", "true")
					opts.Stdin = strings.NewReader(tt.stdin)
				}
				if tt.tty {
					q.Set("tty", "true")
					opts.Stderr = nil
					opts.TerminalSizeQueue = &resizes{sizes: []remotecommand.TerminalSize{{Width: 100, Height: 24}, {Width: 120, Height: 40}}}
				}
				u, _ := url.Parse(srv.URL + base + "exec?" + q.Encode())
				var ex remotecommand.Executor
				var err error
				if transport == "spdy" {
					ex, err = remotecommand.NewSPDYExecutor(cfg, "POST", u)
				} else {
					ex, err = remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
				}
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				err = ex.StreamWithContext(ctx, opts)
				var coded exec.ExitError
				switch {
				case tt.wantErr != "":
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("error %v, want %q", err, tt.wantErr)
					}
				case tt.wantCode != 0:
					if !errors.As(err, &coded) || coded.ExitStatus() != tt.wantCode {
						t.Errorf("error %v, want exit code %d", err, tt.wantCode)
					}
				case err != nil:
					t.Errorf("error %v (stderr %q)", err, stderr.String())
				}
				for _, w := range tt.want {
					if !strings.Contains(stdout.String(), w) {
						t.Errorf("stdout %q lacks %q (stderr %q)", stdout.String(), w, stderr.String())
					}
				}
			})
		}
	}

	t.Run("portforward", func(t *testing.T) {
		u, _ := url.Parse(srv.URL + base + "portforward")
		transport, upgrader, err := spdy.RoundTripperFor(cfg)
		if err != nil {
			t.Fatal(err)
		}
		dialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
		stop, ready := make(chan struct{}), make(chan struct{})
		fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:80"}, stop, ready, io.Discard, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- fw.ForwardPorts() }()
		defer func() { close(stop); <-done }()
		select {
		case <-ready:
		case err := <-done:
			t.Fatalf("ForwardPorts: %v", err)
		}
		ports, _ := fw.GetPorts()
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", ports[0].Local))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /hostname HTTP/1.0\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.HasSuffix(strings.TrimSpace(string(b)), pod.Name) {
			t.Errorf("GET /hostname through the forward: %q, want %s", b, pod.Name)
		}
	})
}

// resizes reports its sizes 300 ms apart, as a window being resized.
type resizes struct{ sizes []remotecommand.TerminalSize }

func (r *resizes) Next() *remotecommand.TerminalSize {
	if len(r.sizes) == 0 {
		return nil
	}
	s := r.sizes[0]
	r.sizes = r.sizes[1:]
	if len(r.sizes) == 0 {
		time.Sleep(300 * time.Millisecond)
	}
	return &s
}
