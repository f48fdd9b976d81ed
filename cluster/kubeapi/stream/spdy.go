package stream

import (
	"fmt"
	"io"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	rc "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/tools/remotecommand"
)

// spdyProtocols are the remotecommand versions served over SPDY, best first. v1
// (channel.k8s.io, whose streams arrive in a fixed order) is left out: no kubectl
// of the last ten years offers it alone.
var spdyProtocols = []string{rc.StreamProtocolV4Name, rc.StreamProtocolV3Name, rc.StreamProtocolV2Name}

type streamAndReply struct {
	httpstream.Stream
	replySent <-chan struct{}
}

// spdyStreams upgrades the request to SPDY and waits for the streams the options
// announce: one per requested stdio stream, the error stream, and from v3 on the
// resize stream with a tty. An error means the client has been answered.
func spdyStreams(w http.ResponseWriter, req *http.Request, opts options) (*streams, error) {
	protocol, err := httpstream.Handshake(req, w, spdyProtocols)
	if err != nil {
		return nil, err
	}
	arrived := make(chan streamAndReply)
	done := make(chan struct{})
	conn := spdy.NewResponseUpgrader().UpgradeResponse(w, req, func(s httpstream.Stream, replySent <-chan struct{}) error {
		select {
		case arrived <- streamAndReply{s, replySent}:
		case <-done:
		}
		return nil
	})
	if conn == nil {
		return nil, fmt.Errorf("spdy upgrade failed") // the upgrader wrote the reason
	}
	defer close(done)
	resizing := protocol != rc.StreamProtocolV2Name
	want := 1 // the error stream
	for _, b := range []bool{opts.stdin, opts.stdout, opts.stderr, opts.tty && resizing} {
		if b {
			want++
		}
	}
	s := &streams{conn: conn, jsonStatus: protocol == rc.StreamProtocolV4Name, gone: conn.CloseChan()}
	var resize io.Reader
	expired := time.After(streamCreationTimeout)
	var replies []<-chan struct{}
	for got := 0; got < want; got++ {
		select {
		case st := <-arrived:
			replies = append(replies, st.replySent)
			switch st.Headers().Get(corev1.StreamType) {
			case corev1.StreamTypeError:
				s.statusStream = st
			case corev1.StreamTypeStdin:
				s.stdin = st
			case corev1.StreamTypeStdout:
				s.stdout = st
			case corev1.StreamTypeStderr:
				s.stderr = st
			case corev1.StreamTypeResize:
				resize = st
			default:
				conn.Close()
				return nil, fmt.Errorf("unexpected stream type %q", st.Headers().Get(corev1.StreamType))
			}
		case <-expired:
			conn.Close()
			return nil, fmt.Errorf("timed out waiting for %d streams, got %d", want, got)
		}
	}
	// The client starts copying once every stream is acknowledged.
	for _, r := range replies {
		select {
		case <-r:
		case <-expired:
			conn.Close()
			return nil, fmt.Errorf("timed out waiting for the stream replies")
		}
	}
	if s.statusStream == nil {
		conn.Close()
		return nil, fmt.Errorf("the client opened no error stream")
	}
	if resize != nil {
		s.resize = make(chan remotecommand.TerminalSize)
		go readResizes(req.Context(), resize, s.resize)
	}
	return s, nil
}
