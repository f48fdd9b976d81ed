package stream

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strconv"

	"podlab.dev/podlab/nsutil"
)

// PodAddr finds a pod's network namespace (a path, such as netns.Path gives) and
// address; the error says why there is none (no such pod, Pending).
type PodAddr func(ctx context.Context, namespace, pod string) (netnsPath string, ip netip.Addr, err error)

// NetnsForwarder is podlab's PortForwarder: it connects to the pod's address from
// inside the pod's network namespace, as `podlab port-forward` does, so a server
// listening on the pod's address or on any address answers.
type NetnsForwarder struct{ Pod PodAddr }

func (f NetnsForwarder) PortForward(ctx context.Context, namespace, pod string, port int32, stream io.ReadWriteCloser) error {
	path, ip, err := f.Pod(ctx, namespace, pod)
	if err != nil {
		return err
	}
	conn, err := nsutil.Dialer(path)(ctx, "tcp", net.JoinHostPort(ip.String(), strconv.Itoa(int(port))))
	if err != nil {
		return err
	}
	defer conn.Close()
	go func() {
		io.Copy(conn, stream)
		// The client is done sending: pass the half-close on.
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	// The pod's answer ending ends the connection: kubectl then resets both streams.
	_, err = io.Copy(stream, conn)
	return err
}
