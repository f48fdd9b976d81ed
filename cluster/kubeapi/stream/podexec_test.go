package stream

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"
)

// fakePodlab stands in for `podlab exec ... -- CMD`: it runs CMD and checks the
// arguments LabExec gives before the --.
const fakePodlab = `#!/bin/sh
[ "$*" = "${*#exec --name lab1 --state-dir /tmp/state -n shop web-1 -- }" ] && { echo "bad arguments: $*" >&2; exit 99; }
while [ "$1" != "--" ]; do shift; done
shift
exec "$@"
`

func TestLabExec(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "podlab")
	if err := os.WriteFile(bin, []byte(fakePodlab), 0o755); err != nil {
		t.Fatal(err)
	}
	e := LabExec{Binary: bin, Lab: "lab1", StateDir: "/tmp/state"}
	srv := httptest.NewServer(ExecHandler(e, "shop", "web-1"))
	t.Cleanup(srv.Close)
	cfg := &rest.Config{Host: srv.URL}
	tests := []struct {
		name     string
		command  []string
		stdin    string
		tty      bool
		wantOut  string
		wantErr  string
		wantCode int
	}{
		{name: "stdout and stderr", command: []string{"sh", "-c", "echo out; echo err >&2"}, wantOut: "out\n", wantErr: "err\n"},
		{name: "stdin EOF ends cat", command: []string{"cat"}, stdin: "a\nb\n", wantOut: "a\nb\n"},
		{name: "exit code", command: []string{"sh", "-c", "exit 3"}, wantCode: 3},
		{name: "killed", command: []string{"sh", "-c", "kill -9 $$"}, wantCode: 137},
		{name: "exits with stdin open", command: []string{"true"}, stdin: "never read"},
		{name: "tty size and TERM", command: []string{"sh", "-c", "stty size; echo $TERM; tty >/dev/null && echo tty"}, tty: true,
			wantOut: "43 132\r\nxterm\r\ntty\r\n"},
	}
	for transport, newExec := range executors {
		if transport == "websocket-v4" {
			continue // no stdin EOF on v4 over WebSocket
		}
		for _, tt := range tests {
			t.Run(transport+"/"+tt.name, func(t *testing.T) {
				q := url.Values{"command": tt.command, "stdout": {"true"}, "stderr": {"true"}}
				opts := remotecommand.StreamOptions{Tty: tt.tty}
				var stdout, stderr bytes.Buffer
				opts.Stdout, opts.Stderr = &stdout, &stderr
				if tt.stdin != "" {
					q.Set("stdin", "true")
					opts.Stdin = strings.NewReader(tt.stdin)
				}
				if tt.name == "exits with stdin open" {
					r, w, _ := os.Pipe() // never closed until the end of the test
					t.Cleanup(func() { w.Close(); r.Close() })
					opts.Stdin = r
				}
				if tt.tty {
					q.Set("tty", "true")
					opts.Stderr = nil
					opts.TerminalSizeQueue = &oneSize{}
				}
				u, _ := url.Parse(srv.URL + "/api/v1/namespaces/shop/pods/web-1/exec?" + q.Encode())
				ex, err := newExec(cfg, u)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				err = ex.StreamWithContext(ctx, opts)
				var coded exec.ExitError
				switch {
				case tt.wantCode != 0 && (!errors.As(err, &coded) || coded.ExitStatus() != tt.wantCode):
					t.Errorf("error %v, want exit code %d", err, tt.wantCode)
				case tt.wantCode == 0 && err != nil:
					t.Errorf("error %v", err)
				}
				if stdout.String() != tt.wantOut || stderr.String() != tt.wantErr {
					t.Errorf("stdout %q stderr %q, want %q and %q", stdout.String(), stderr.String(), tt.wantOut, tt.wantErr)
				}
			})
		}
	}
}

func TestLabExecMissingCommand(t *testing.T) {
	srv := httptest.NewServer(ExecHandler(LabExec{Binary: "/bin/false"}, "shop", "web-1"))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + "/api/v1/namespaces/shop/pods/web-1/exec?command=nosuch-podlab&stdout=true")
	ex, err := remotecommand.NewSPDYExecutor(&rest.Config{Host: srv.URL}, "POST", u)
	if err != nil {
		t.Fatal(err)
	}
	err = ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: &bytes.Buffer{}})
	want := `exec: "nosuch-podlab": executable file not found in $PATH: unknown`
	if err == nil || !strings.HasPrefix(err.Error(), "Internal error occurred: error executing command in container: failed to exec in container: failed to start exec ") || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %v, want containerd's, ending %q", err, want)
	}
}
