package nsutil

import (
	"context"
	"net"
)

// Dialer returns a dial function whose sockets are made inside the network
// namespace at path: the connection stays in that namespace after the thread
// switches back, so a pod's address is reached from the pod itself (port-forward,
// probes, DNS queries as the pod sends them).
func Dialer(path string) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		var c net.Conn
		err := Do(path, func() error {
			var d net.Dialer
			var err error
			c, err = d.DialContext(ctx, network, address)
			return err
		})
		return c, err
	}
}
