package stream

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	gwebsocket "github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/apimachinery/pkg/util/httpstream/spdy"
	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	pfconst "k8s.io/apimachinery/pkg/util/portforward"
	"k8s.io/client-go/tools/portforward"
)

// PortForwarder copies between stream and a connection to port of the pod, opened
// from inside the pod's network namespace as the kubelet does; it returns when
// either side is done. Its error is shown by kubectl ("an error occurred
// forwarding 8080 -> 80: ...") and ends that connection only.
type PortForwarder interface {
	PortForward(ctx context.Context, namespace, pod string, port int32, stream io.ReadWriteCloser) error
}

// PortForwardHandler serves .../pods/NAME/portforward for one pod: SPDY
// (portforward.k8s.io), and SPDY tunnelled in a WebSocket (SPDY/3.1+portforward.k8s.io),
// which kubectl 1.31+ tries first. Each forwarded connection is a pair of streams,
// data and error, with the same requestID header.
func PortForwardHandler(p PortForwarder, namespace, pod string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f := &forwarding{p: p, namespace: namespace, pod: pod, ctx: req.Context(), pairs: map[string]*streamPair{}}
		var conn httpstream.Connection
		if wsstream.IsWebSocketRequestWithTunnelingProtocol(req) {
			conn = f.tunnel(w, req)
		} else {
			if _, err := httpstream.Handshake(req, w, []string{pfconst.PortForwardV1Name}); err != nil {
				return // Handshake answered
			}
			conn = spdy.NewResponseUpgrader().UpgradeResponse(w, req, f.newStream)
		}
		if conn == nil {
			return // the upgrader answered
		}
		defer conn.Close()
		select {
		case <-conn.CloseChan():
		case <-req.Context().Done():
		}
		f.wg.Wait()
	})
}

// tunnel accepts the WebSocket and runs the SPDY server side over it, as the API
// server's tunnelling handler does.
func (f *forwarding) tunnel(w http.ResponseWriter, req *http.Request) httpstream.Connection {
	up := gwebsocket.Upgrader{
		Subprotocols: []string{pfconst.WebsocketsSPDYTunnelingPortForwardV1},
		CheckOrigin:  func(*http.Request) bool { return true }, // authentication is the client certificate
	}
	ws, err := up.Upgrade(w, req, nil)
	if err != nil {
		return nil // Upgrade answered with an HTTP error
	}
	conn, err := spdy.NewServerConnection(portforward.NewTunnelingConnection("server", ws), f.newStream)
	if err != nil {
		ws.Close()
		return nil
	}
	return conn
}

// forwarding is one port-forward session: the pairs of streams still waiting for
// their other half.
type forwarding struct {
	p              PortForwarder
	namespace, pod string
	ctx            context.Context
	mu             sync.Mutex
	pairs          map[string]*streamPair
	wg             sync.WaitGroup
}

type streamPair struct{ data, errs httpstream.Stream }

// newStream pairs a new stream with its other half and starts forwarding once
// both have arrived.
func (f *forwarding) newStream(s httpstream.Stream, replySent <-chan struct{}) error {
	h := s.Headers()
	id := h.Get(corev1.PortForwardRequestIDHeader)
	if id == "" {
		return fmt.Errorf("stream without a %s header: kubectl older than 1.6 is not supported", corev1.PortForwardRequestIDHeader)
	}
	f.mu.Lock()
	p := f.pairs[id]
	if p == nil {
		p = &streamPair{}
		f.pairs[id] = p
	}
	switch h.Get(corev1.StreamType) {
	case corev1.StreamTypeData:
		p.data = s
	case corev1.StreamTypeError:
		p.errs = s
	default:
		f.mu.Unlock()
		return fmt.Errorf("stream of unknown type %q", h.Get(corev1.StreamType))
	}
	complete := p.data != nil && p.errs != nil
	if complete {
		delete(f.pairs, id)
	}
	f.mu.Unlock()
	if complete {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			<-replySent
			f.forward(p)
		}()
	}
	return nil
}

// forward runs one connection and reports its error on the error stream, with the
// kubelet's words.
func (f *forwarding) forward(p *streamPair) {
	defer p.errs.Close()
	defer p.data.Close()
	portText := p.data.Headers().Get(corev1.PortHeader)
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || port == 0 {
		fmt.Fprintf(p.errs, "invalid port %q: expected a port number from 1 to 65535", portText)
		return
	}
	if err := f.p.PortForward(f.ctx, f.namespace, f.pod, int32(port), p.data); err != nil {
		fmt.Fprintf(p.errs, "error forwarding port %d to pod %s/%s: %v", port, f.namespace, f.pod, err)
	}
}
