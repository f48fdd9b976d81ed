package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"

	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/runtime/netns"
)

// dial opens a connection whose socket lives in the namespace named ns.
func dial(ns, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := nsutil.Do(netns.Path(ns), func() error {
		var err error
		c, err = net.DialTimeout(network, addr, 2*time.Second)
		return err
	})
	return c, err
}

// httpGet fetches http://addr/path from inside namespace ns.
func httpGet(ns, addr, path string) (string, error) {
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		Dial:              func(network, a string) (net.Conn, error) { return dial(ns, network, a) },
	}}
	resp, err := client.Get("http://" + addr + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// udpAsk sends msg to addr from inside ns and returns the answer.
func udpAsk(ns, addr, msg string) (string, error) {
	c, err := dial(ns, "udp", addr)
	if err != nil {
		return "", err
	}
	defer c.Close()
	buf := make([]byte, 1500)
	for try := 0; try < 3; try++ {
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err := c.Write([]byte(msg)); err != nil {
			return "", err
		}
		n, err := c.Read(buf)
		if err == nil {
			return strings.TrimSpace(string(buf[:n])), nil
		}
	}
	return "", fmt.Errorf("udp %s: no answer", addr)
}

// ping sends one ICMP echo from inside ns to ip and waits for the reply.
func ping(ns, ip string) error {
	var c *icmp.PacketConn
	err := nsutil.Do(netns.Path(ns), func() error {
		var err error
		c, err = icmp.ListenPacket("ip4:icmp", "0.0.0.0")
		return err
	})
	if err != nil {
		return err
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	msg := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("podlab")}}
	b, _ := msg.Marshal(nil)
	dst := &net.IPAddr{IP: net.ParseIP(ip)}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.WriteTo(b, dst); err != nil {
			return err
		}
		c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		buf := make([]byte, 1500)
		for {
			n, peer, err := c.ReadFrom(buf)
			if err != nil {
				break
			}
			rm, err := icmp.ParseMessage(1, buf[:n])
			if err == nil && rm.Type == ipv4.ICMPTypeEchoReply && peer.String() == ip {
				if e, ok := rm.Body.(*icmp.Echo); ok && e.ID == id {
					return nil
				}
			}
		}
	}
	return fmt.Errorf("no echo reply from %s", ip)
}
