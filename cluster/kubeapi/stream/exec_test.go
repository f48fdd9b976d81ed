package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	rc "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"
)

// fakeExec plays a few commands, by name, against the streams it is given.
type fakeExec struct{}

func (fakeExec) Exec(ctx context.Context, namespace, pod, container string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	if cmd == nil || cmd[0] == "sh" {
		cmd = []string{"echo", "attached", namespace, pod}
	}
	switch cmd[0] {
	case "echo":
		fmt.Fprintln(out, strings.Join(cmd[1:], " "))
		if errOut != nil {
			fmt.Fprintln(errOut, "to stderr")
		}
		return nil
	case "cat": // until stdin's EOF
		_, err := io.Copy(out, in)
		return err
	case "exit":
		var code int
		fmt.Sscan(cmd[1], &code)
		return ExitCode(code)
	case "block": // until the request ends
		<-ctx.Done()
		blocked <- ctx.Err()
		return ctx.Err()
	case "size": // the first terminal size, and whether stderr was given
		select {
		case s := <-resize:
			fmt.Fprintf(out, "%dx%d tty=%v stderr=%v\n", s.Width, s.Height, tty, errOut != nil)
		case <-time.After(5 * time.Second):
			return errors.New("no resize event")
		}
		return nil
	}
	return NotFoundError(cmd[0])
}

// blocked receives the end of each "block" command.
var blocked = make(chan error, 10)

// oneSize is a TerminalSizeQueue that reports one size, then the end.
type oneSize struct{ sent bool }

func (q *oneSize) Next() *remotecommand.TerminalSize {
	if q.sent {
		return nil
	}
	q.sent = true
	return &remotecommand.TerminalSize{Width: 132, Height: 43}
}

// executors are the client transports kubectl uses: WebSocket v5 first, SPDY v4
// on refusal, and each one alone.
var executors = map[string]func(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error){
	"spdy": func(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error) {
		return remotecommand.NewSPDYExecutor(cfg, "POST", u)
	},
	"websocket": func(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error) {
		return remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	},
	"websocket-v4": func(cfg *rest.Config, u *url.URL) (remotecommand.Executor, error) {
		return remotecommand.NewWebSocketExecutorForProtocols(cfg, "GET", u.String(), rc.StreamProtocolV4Name)
	},
}

func TestExec(t *testing.T) {
	srv := httptest.NewServer(ExecHandler(fakeExec{}, "shop", "web-1"))
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	tests := []struct {
		name           string
		query          string
		stdin          string
		tty            bool
		wantOut        string
		wantErr        string
		wantStderr     string
		wantCode       int
		path           string
		spdyOnlyStderr bool
	}{
		{name: "stdout and stderr", query: "command=echo&command=hello&command=world&stdout=true&stderr=true",
			wantOut: "hello world\n", wantStderr: "to stderr\n"},
		{name: "stdin until EOF", query: "command=cat&stdin=true&stdout=true&stderr=true",
			stdin: "line 1\nline 2\n", wantOut: "line 1\nline 2\n"},
		{name: "exit code", query: "command=exit&command=3&stdout=true&stderr=true",
			wantErr: "command terminated with exit code 3", wantCode: 3},
		{name: "missing command", query: "command=nosuch&stdout=true&stderr=true",
			wantErr: `Internal error occurred: error executing command in container: failed to exec in container: failed to start exec "`},
		{name: "tty and resize", query: "command=size&stdin=true&stdout=true&stderr=true&tty=true", tty: true,
			wantOut: "132x43 tty=true stderr=false\n"},
		{name: "attach", path: "/attach", query: "stdout=true&stderr=true",
			wantOut: "attached shop web-1\n", wantStderr: "to stderr\n"},
	}
	for transport, newExec := range executors {
		for _, tt := range tests {
			t.Run(transport+"/"+tt.name, func(t *testing.T) {
				if transport == "websocket-v4" && tt.stdin != "" {
					t.Skip("v4 over WebSocket cannot say stdin ended: v5 added the CLOSE signal for it")
				}
				path := "/api/v1/namespaces/shop/pods/web-1/exec"
				if tt.path != "" {
					path = strings.TrimSuffix(path, "/exec") + tt.path
				}
				u, _ := url.Parse(srv.URL + path + "?" + tt.query)
				e, err := newExec(cfg, u)
				if err != nil {
					t.Fatal(err)
				}
				var stdout, stderr bytes.Buffer
				opts := remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr, Tty: tt.tty}
				if strings.Contains(tt.query, "stdin=true") {
					opts.Stdin = strings.NewReader(tt.stdin)
				}
				if tt.tty {
					opts.Stderr = nil
					opts.TerminalSizeQueue = &oneSize{}
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = e.StreamWithContext(ctx, opts)
				if tt.wantErr == "" && err != nil {
					t.Fatalf("Stream: %v", err)
				}
				if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Fatalf("Stream error = %v, want %q", err, tt.wantErr)
				}
				var coded exec.ExitError
				if tt.wantCode != 0 && (!errors.As(err, &coded) || coded.ExitStatus() != tt.wantCode) {
					t.Errorf("exit code: error %#v, want an exec.ExitError with status %d", err, tt.wantCode)
				}
				if stdout.String() != tt.wantOut || stderr.String() != tt.wantStderr {
					t.Errorf("stdout %q stderr %q, want %q and %q", stdout.String(), stderr.String(), tt.wantOut, tt.wantStderr)
				}
			})
		}
	}
}

// TestExecFallback is kubectl 1.32's path: WebSocket v5 first, SPDY when refused.
// The handler accepts v5 itself, so the fallback must not be needed.
func TestExecFallback(t *testing.T) {
	var upgrades []string
	h := ExecHandler(fakeExec{}, "shop", "web-1")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		upgrades = append(upgrades, r.Header.Get("Upgrade"))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/shop/pods/web-1/exec?command=echo&command=hi&stdout=true")
	ws, err := remotecommand.NewWebSocketExecutor(cfg, "GET", u.String())
	if err != nil {
		t.Fatal(err)
	}
	sp, err := remotecommand.NewSPDYExecutor(cfg, "POST", u)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := remotecommand.NewFallbackExecutor(ws, sp, func(err error) bool { return true })
	var out bytes.Buffer
	if err := e.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: &out}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "hi\n" || len(upgrades) != 1 || upgrades[0] != "websocket" {
		t.Errorf("out %q after upgrades %q, want \"hi\\n\" after one websocket upgrade", out.String(), upgrades)
	}
}

func TestExecBadRequest(t *testing.T) {
	srv := httptest.NewServer(ExecHandler(fakeExec{}, "shop", "web-1"))
	t.Cleanup(srv.Close)
	for _, tt := range []struct{ query, want string }{
		{"stdout=true", "you must specify at least one command for the container"},
		{"command=ls", "you must specify at least 1 of stdin, stdout, stderr"},
		{"command=ls&stdout=yes", "query parameter stdout=yes: expected true or false"},
	} {
		resp, err := http.Post(srv.URL+"/api/v1/namespaces/shop/pods/web-1/exec?"+tt.query, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d %s, want 400 with %q", tt.query, resp.StatusCode, body, tt.want)
		}
	}
}

// TestExecClientGone: a client that goes away ends the command.
func TestExecClientGone(t *testing.T) {
	srv := httptest.NewServer(ExecHandler(fakeExec{}, "shop", "web-1"))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/shop/pods/web-1/exec?command=block&stdout=true")
	for transport, newExec := range executors {
		t.Run(transport, func(t *testing.T) {
			e, err := newExec(&rest.Config{Host: srv.URL}, u)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			e.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard})
			select {
			case err := <-blocked:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("the command ended with %v, want context.Canceled", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("the command outlived its client")
			}
		})
	}
}

// TestAttachByExec: kubectl attach starts the container's command.
func TestAttachByExec(t *testing.T) {
	for _, tt := range []struct {
		command []string
		want    string
	}{
		{[]string{"echo", "from", "spec"}, "from spec\n"},
		{nil, "attached shop web-1\n"}, // fakeExec's answer to a shell
	} {
		a := AttachByExec{Executor: fakeExec{}, Command: func(ctx context.Context, namespace, pod, container string) ([]string, error) {
			if container != "app" {
				t.Errorf("container %q, want app", container)
			}
			return tt.command, nil
		}}
		srv := httptest.NewServer(ExecHandler(a, "shop", "web-1"))
		u, _ := url.Parse(srv.URL + "/api/v1/namespaces/shop/pods/web-1/attach?container=app&stdout=true")
		e, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: srv.URL}, "POST", u)
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := e.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: &out}); err != nil || out.String() != tt.want {
			t.Errorf("attach with command %q: %q, %v; want %q", tt.command, out.String(), err, tt.want)
		}
		srv.Close()
	}
}
