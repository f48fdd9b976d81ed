package stream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	rc "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/tools/remotecommand"
)

// Executor runs a command in a pod's container with the given streams. in is nil
// without stdin, out and errOut are nil when not asked for (errOut always is with a
// tty); resize delivers the client's terminal sizes when tty is set. An error with
// an ExitCode() int method (an *exec.ExitError) reports the command's exit code;
// any other error is reported to the client as an internal error, as the kubelet
// does. For pods/attach cmd is nil.
type Executor interface {
	Exec(ctx context.Context, namespace, pod, container string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error
}

// streamCreationTimeout bounds how long the client may take to open the streams it
// announced, as the kubelet's default.
const streamCreationTimeout = rc.DefaultStreamCreationTimeout

// ExecHandler serves POST/GET .../pods/NAME/exec and .../pods/NAME/attach (told
// apart by the last path element) for one pod, with the query parameters of
// PodExecOptions: command (repeated), container, stdin, stdout, stderr, tty.
func ExecHandler(e Executor, namespace, pod string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		attach := strings.HasSuffix(strings.TrimSuffix(req.URL.Path, "/"), "/attach")
		opts, err := execOptions(req, attach)
		if err != nil {
			writeStatus(w, badRequest(err.Error()))
			return
		}
		var s *streams
		if wsstream.IsWebSocketRequest(req) {
			s, err = webSocketStreams(w, req, opts)
		} else {
			s, err = spdyStreams(w, req, opts)
		}
		if err != nil {
			return // the upgrade has answered the client already
		}
		defer s.close()
		ctx, cancel := context.WithCancel(req.Context())
		defer cancel()
		if s.gone != nil {
			// A hijacked request's context outlives the client: end the command
			// when the connection does, as the kubelet's runtime does.
			go func() {
				select {
				case <-s.gone:
					cancel()
				case <-ctx.Done():
				}
			}()
		}
		err = e.Exec(ctx, namespace, pod, opts.container, opts.command, s.stdin, s.stdout, s.stderr, opts.tty, s.resize)
		s.closeOutput()
		s.writeStatus(execStatus(err, attach))
	})
}

// options are a PodExecOptions (or PodAttachOptions) read from the query.
type options struct {
	container                  string
	command                    []string
	stdin, stdout, stderr, tty bool
}

// execOptions reads the query as the API server decodes PodExecOptions, with its
// validation messages.
func execOptions(req *http.Request, attach bool) (options, error) {
	q := req.URL.Query()
	flag := func(name string) (bool, error) {
		v := q.Get(name)
		if v == "" {
			return false, nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, fmt.Errorf("query parameter %s=%s: expected true or false", name, v)
		}
		return b, nil
	}
	var o options
	var errs []error
	for _, f := range []struct {
		name string
		to   *bool
	}{{"stdin", &o.stdin}, {"stdout", &o.stdout}, {"stderr", &o.stderr}, {"tty", &o.tty}} {
		v, err := flag(f.name)
		errs = append(errs, err)
		*f.to = v
	}
	if err := errors.Join(errs...); err != nil {
		return o, err
	}
	o.container = q.Get("container")
	o.command = q["command"]
	if !attach && len(o.command) == 0 {
		return o, errors.New("you must specify at least one command for the container")
	}
	if attach {
		o.command = nil
	}
	if !o.stdin && !o.stdout && !o.stderr {
		return o, errors.New("you must specify at least 1 of stdin, stdout, stderr")
	}
	if o.tty && o.stderr {
		o.stderr = false // a terminal merges stderr into stdout, as the kubelet does
	}
	return o, nil
}

// execStatus is what the error stream carries at the end: success, the exit code
// (kubectl prints "command terminated with exit code N" and exits with N) or the
// kubelet's internal error.
func execStatus(err error, attach bool) metav1.Status {
	if err == nil {
		return metav1.Status{Status: metav1.StatusSuccess}
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) && coded.ExitCode() > 0 {
		return metav1.Status{
			Status:  metav1.StatusFailure,
			Reason:  rc.NonZeroExitCodeReason,
			Message: fmt.Sprintf("command terminated with non-zero exit code: %v", err),
			Details: &metav1.StatusDetails{Causes: []metav1.StatusCause{{Type: rc.ExitCodeCauseType, Message: strconv.Itoa(coded.ExitCode())}}},
		}
	}
	what := "error executing command in container"
	if attach {
		what = "error attaching to container"
	}
	return internalError(fmt.Errorf("%s: %w", what, err))
}

func internalError(err error) metav1.Status {
	return metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
		Reason: metav1.StatusReasonInternalError, Message: "Internal error occurred: " + err.Error()}
}

func badRequest(msg string) metav1.Status {
	return metav1.Status{Status: metav1.StatusFailure, Code: http.StatusBadRequest, Reason: metav1.StatusReasonBadRequest, Message: msg}
}

// writeStatus answers a request that was not upgraded with a Status, as the API
// server does.
func writeStatus(w http.ResponseWriter, s metav1.Status) {
	s.Kind, s.APIVersion = "Status", "v1"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(s.Code))
	json.NewEncoder(w).Encode(s)
}

// NotFoundError is the error a missing command gives in a real cluster (containerd
// and runc), so kubectl prints the same line a tutorial shows.
func NotFoundError(command string) error {
	id := make([]byte, 32)
	rand.Read(id)
	return fmt.Errorf("failed to exec in container: failed to start exec %q: OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH: unknown", hex.EncodeToString(id), command)
}

// streams are one exec's connection: its data streams, the resize events and how
// the final status is written.
type streams struct {
	stdin          io.Reader
	stdout, stderr io.WriteCloser
	resize         chan remotecommand.TerminalSize
	statusStream   io.WriteCloser
	jsonStatus     bool // v4 and v5 send a Status; older protocols its message only
	conn           io.Closer
	gone           <-chan bool // closed when the client's connection is (SPDY only)
}

// closeOutput ends stdout and stderr so the client has all output before the status.
func (s *streams) closeOutput() {
	for _, w := range []io.WriteCloser{s.stdout, s.stderr} {
		if w != nil {
			w.Close()
		}
	}
}

func (s *streams) writeStatus(st metav1.Status) {
	if s.jsonStatus {
		st.Kind, st.APIVersion = "Status", "v1"
		b, _ := json.Marshal(st)
		s.statusStream.Write(b)
	} else if st.Status != metav1.StatusSuccess {
		s.statusStream.Write([]byte(st.Message))
	}
	s.statusStream.Close()
}

func (s *streams) close() { s.conn.Close() }

// readResizes decodes the JSON terminal sizes the client sends, one after another,
// until the stream ends or the request does.
func readResizes(ctx context.Context, r io.Reader, out chan<- remotecommand.TerminalSize) {
	defer close(out)
	dec := json.NewDecoder(r)
	for {
		var size remotecommand.TerminalSize
		if err := dec.Decode(&size); err != nil {
			return
		}
		select {
		case out <- size:
		case <-ctx.Done():
			return
		}
	}
}

// nilWriteCloser turns a typed nil into an untyped one, so an Executor can test
// out == nil.
func nilWriteCloser(w io.WriteCloser, real bool) io.WriteCloser {
	if !real {
		return nil
	}
	return w
}
