package stream

import (
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/httpstream/wsstream"
	rc "k8s.io/apimachinery/pkg/util/remotecommand"
	"k8s.io/client-go/tools/remotecommand"
)

// webSocketStartDelay is how long a WebSocket exec waits before the command runs
// (see webSocketStreams).
const webSocketStartDelay = 50 * time.Millisecond

// WebSocket remotecommand channels: the first three are the stdio file descriptors.
const (
	stdinChannel = iota
	stdoutChannel
	stderrChannel
	errorChannel
	resizeChannel
)

// webSocketStreams accepts a WebSocket remotecommand connection: v5.channel.k8s.io
// (kubectl 1.30+, where the client's CLOSE signal ends stdin), v4 and the older
// channel protocols the kubelet serves. An error means the client has been answered.
func webSocketStreams(w http.ResponseWriter, req *http.Request, opts options) (*streams, error) {
	channel := func(real bool, t wsstream.ChannelType) wsstream.ChannelType {
		if real {
			return t
		}
		return wsstream.IgnoreChannel
	}
	channels := []wsstream.ChannelType{
		stdinChannel:  channel(opts.stdin, wsstream.ReadChannel),
		stdoutChannel: channel(opts.stdout, wsstream.WriteChannel),
		stderrChannel: channel(opts.stderr, wsstream.WriteChannel),
		errorChannel:  wsstream.WriteChannel,
		resizeChannel: wsstream.ReadChannel,
	}
	binary := wsstream.ChannelProtocolConfig{Binary: true, Channels: channels}
	base64 := wsstream.ChannelProtocolConfig{Binary: false, Channels: channels}
	conn := wsstream.NewConn(map[string]wsstream.ChannelProtocolConfig{
		"":                                      binary,
		wsstream.ChannelWebSocketProtocol:       binary,
		wsstream.Base64ChannelWebSocketProtocol: base64,
		rc.StreamProtocolV4Name:                 binary,
		"v4." + wsstream.Base64ChannelWebSocketProtocol: base64,
		rc.StreamProtocolV5Name:                         binary,
	})
	watched := watchHijack(w)
	protocol, chans, err := conn.Open(watched, req)
	if err != nil {
		return nil, err
	}
	// client-go's WebSocket client starts reading before it has made its streams and
	// drops what comes for a stream it does not have yet ("Unknown stream id 1,
	// discarding message"): on a loaded machine the whole output of `kubectl exec
	// POD -- echo hello` was lost. A container runtime's exec takes tens of
	// milliseconds to start the process; podlab's starts it at once, so it waits a
	// little before anything is written (the kubelet's empty first message included).
	time.Sleep(webSocketStartDelay)
	// An empty message on the first writable channel tells the client the
	// connection is established, as the kubelet does.
	switch {
	case opts.stdout:
		chans[stdoutChannel].Write(nil)
	case opts.stderr:
		chans[stderrChannel].Write(nil)
	default:
		chans[errorChannel].Write(nil)
	}
	s := &streams{
		conn:         conn,
		gone:         watched.gone,
		statusStream: chans[errorChannel],
		jsonStatus:   protocol == rc.StreamProtocolV4Name || protocol == rc.StreamProtocolV5Name || protocol == "v4."+wsstream.Base64ChannelWebSocketProtocol,
		stdout:       nilWriteCloser(chans[stdoutChannel], opts.stdout),
		stderr:       nilWriteCloser(chans[stderrChannel], opts.stderr),
	}
	if opts.stdin {
		s.stdin = chans[stdinChannel]
	}
	if opts.tty {
		s.resize = make(chan remotecommand.TerminalSize)
		go readResizes(req.Context(), chans[resizeChannel], s.resize)
	}
	return s, nil
}
