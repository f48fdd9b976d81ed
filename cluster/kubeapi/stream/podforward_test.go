package stream

import (
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// TestNetnsForwarder forwards through the test's own network namespace, entered
// as a pod's would be, to a server on loopback.
func TestNetnsForwarder(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("entering a network namespace needs root")
	}
	server := listen(t, func(c net.Conn) {
		b, _ := io.ReadAll(c)
		c.Write(append([]byte("got "), b...))
	})
	f := NetnsForwarder{Pod: func(ctx context.Context, namespace, pod string) (string, netip.Addr, error) {
		return "/proc/self/ns/net", netip.MustParseAddr("127.0.0.1"), nil
	}}
	// The stream is one side of a TCP connection, so it can be half-closed as
	// kubectl's data stream is.
	client, stream := connPair(t)
	errc := make(chan error, 1)
	go func() {
		errc <- f.PortForward(context.Background(), "shop", "web-1", int32(server.Port), stream)
		stream.Close()
	}()
	io.WriteString(client, "hello")
	client.(*net.TCPConn).CloseWrite()
	client.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(client)
	if err != nil || string(b) != "got hello" {
		t.Errorf("answer %q (%v), want \"got hello\"", b, err)
	}
	if err := <-errc; err != nil {
		t.Errorf("PortForward: %v", err)
	}
	// A closed port is the forwarder's error, for kubectl's error stream.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if err := f.PortForward(context.Background(), "shop", "web-1", int32(closed), stream); err == nil {
		t.Error("PortForward to a closed port: no error")
	}
}

// listen serves each connection with fn on a loopback port until the test ends.
func listen(t *testing.T, fn func(net.Conn)) *net.TCPAddr {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); fn(c) }()
		}
	}()
	return ln.Addr().(*net.TCPAddr)
}

// connPair returns both sides of a loopback TCP connection.
func connPair(t *testing.T) (client, server net.Conn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}
