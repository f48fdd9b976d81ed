package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"
)

// kubectlServer is just enough of an API server for kubectl exec, attach and
// port-forward against pod shop/web-1: version, discovery, the pod, and the
// handlers under test.
func kubectlServer(t *testing.T, e Executor, p PortForwarder, upgrades chan<- string) string {
	pod := &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop"},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "podlab"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	mux := http.NewServeMux()
	reply := func(path string, v any) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		})
	}
	reply("/version", map[string]string{"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"})
	reply("/api", metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
	reply("/apis", metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}})
	reply("/api/v1", metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList"}, GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "pods", Namespaced: true, Kind: "Pod", Verbs: metav1.Verbs{"get", "list"}, ShortNames: []string{"po"}},
		{Name: "pods/exec", Namespaced: true, Kind: "PodExecOptions", Verbs: metav1.Verbs{"create", "get"}},
		{Name: "pods/attach", Namespaced: true, Kind: "PodAttachOptions", Verbs: metav1.Verbs{"create", "get"}},
		{Name: "pods/portforward", Namespaced: true, Kind: "PodPortForwardOptions", Verbs: metav1.Verbs{"create", "get"}},
	}})
	reply("/api/v1/namespaces/shop/pods/web-1", pod)
	base := "/api/v1/namespaces/shop/pods/web-1/"
	mux.Handle(base+"exec", ExecHandler(e, "shop", "web-1"))
	mux.Handle(base+"attach", ExecHandler(e, "shop", "web-1"))
	mux.Handle(base+"portforward", PortForwardHandler(p, "shop", "web-1"))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if up := r.Header.Get("Upgrade"); up != "" {
			select {
			case upgrades <- up:
			default:
			}
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	kubeconfig := filepath.Join(t.TempDir(), "config")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: %q}}]
users: [{name: fake, user: {}}]
contexts: [{name: fake, context: {cluster: fake, user: fake, namespace: shop}}]
current-context: fake
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return kubeconfig
}

// TestKubectl runs the real kubectl against the handlers: its WebSocket-first
// exec, the exit code it exits with, and its error line.
func TestKubectl(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl in PATH")
	}
	upgrades := make(chan string, 10)
	kubeconfig := kubectlServer(t, fakeExec{}, fakeForwarder{}, upgrades)
	for _, tt := range []struct {
		name, stdin, wantOut, wantErr, upgrade string
		args                                   []string
		wantCode                               int
	}{
		{name: "echo", args: []string{"exec", "web-1", "--", "echo", "hello"}, wantOut: "hello\n", wantErr: "to stderr\n", upgrade: "websocket"},
		{name: "stdin", args: []string{"exec", "-i", "web-1", "--", "cat"}, stdin: "piped\n", wantOut: "piped\n"},
		{name: "exit code", args: []string{"exec", "web-1", "--", "exit", "3"}, wantErr: "command terminated with exit code 3\n", wantCode: 3},
		{name: "missing command", args: []string{"exec", "web-1", "--", "nosuch"}, wantCode: 1,
			wantErr: `error: Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "`},
		{name: "spdy", args: []string{"exec", "web-1", "--", "echo", "over", "spdy"}, wantOut: "over spdy\n", wantErr: "to stderr\n", upgrade: "SPDY/3.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, kubectl, tt.args...)
			cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
			if tt.name == "spdy" {
				cmd.Env = append(cmd.Env, "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false")
			}
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.wantCode || stdout.String() != tt.wantOut || !strings.HasPrefix(stderr.String(), tt.wantErr) {
				t.Errorf("kubectl %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr starting %q",
					strings.Join(tt.args, " "), code, stdout.String(), stderr.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
			var got []string
			for len(upgrades) > 0 {
				got = append(got, <-upgrades)
			}
			if tt.upgrade != "" && (len(got) != 1 || got[0] != tt.upgrade) {
				t.Errorf("upgrades %q, want one %s", got, tt.upgrade)
			}
		})
	}
}

// TestKubectlPortForward runs kubectl port-forward (its WebSocket tunnel) against
// the handler and sends one connection through it.
func TestKubectlPortForward(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl in PATH")
	}
	upgrades := make(chan string, 10)
	kubeconfig := kubectlServer(t, fakeExec{}, fakeForwarder{}, upgrades)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "port-forward", "pod/web-1", "0:80")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var local uint16
	line := make([]byte, 200)
	n, _ := out.Read(line) // Forwarding from 127.0.0.1:NNNNN -> 80
	if _, err := fmt.Sscanf(string(line[:n]), "Forwarding from 127.0.0.1:%d -> 80", &local); err != nil {
		t.Fatalf("kubectl port-forward said %q (stderr %q)", line[:n], stderr.String())
	}
	if got := roundTrip(t, local, "hi"); got != "shop/web-1:80 got hi" {
		t.Errorf("answer %q, want \"shop/web-1:80 got hi\"", got)
	}
	if up := <-upgrades; up != "websocket" {
		t.Errorf("kubectl upgraded with %q, want the WebSocket tunnel", up)
	}
}

// TestKubectlTTY runs kubectl exec -it on a pseudo-terminal of 132x43: the
// command must see a tty of that size.
func TestKubectlTTY(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("no kubectl in PATH")
	}
	kubeconfig := kubectlServer(t, fakeExec{}, fakeForwarder{}, make(chan string, 10))
	pty, tty, err := openPTY()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer pty.Close()
	setSize(pty, remotecommand.TerminalSize{Width: 132, Height: 43})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, "exec", "-it", "web-1", "--", "size")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() { out.ReadFrom(pty); close(copied) }()
	err = cmd.Wait()
	pty.SetReadDeadline(time.Now().Add(time.Second))
	<-copied
	if err != nil || !strings.Contains(out.String(), "132x43 tty=true stderr=false") {
		t.Errorf("kubectl exec -it: %v, output %q, want the command to see a 132x43 tty", err, out.String())
	}
}
