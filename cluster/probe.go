package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	vnetns "github.com/vishvananda/netns"

	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/plan"
)

// dialIn opens a connection from inside the namespace ns: the socket belongs to the
// namespace of the thread that creates it.
func dialIn(ns vnetns.NsHandle, network, addr string, timeout time.Duration) (net.Conn, error) {
	var c net.Conn
	err := nsutil.DoHandle(ns, func() error {
		var err error
		c, err = net.DialTimeout(network, addr, timeout)
		return err
	})
	return c, err
}

// probe checks a pod from its node, as kubelet's readiness probe would: an HTTP GET of
// /healthz on its first TCP port, or a UDP echo when it serves only UDP. A pod that
// serves nothing is ready once its interface exists (deploy made it).
func probe(ctx context.Context, nodeNS vnetns.NsHandle, pod *plan.Pod) Readiness {
	const timeout = time.Second
	for _, pt := range pod.Ports {
		addr := net.JoinHostPort(pod.IP.String(), strconv.Itoa(pt.Port))
		switch pt.Protocol {
		case "TCP", "":
			c, err := dialIn(nodeNS, "tcp", addr, timeout)
			if err != nil {
				return Readiness{Reason: fmt.Sprintf("tcp %s: %v", addr, err)}
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(timeout))
			fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", addr)
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				return Readiness{Reason: fmt.Sprintf("http %s: %v", addr, err)}
			}
			io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				return Readiness{Reason: fmt.Sprintf("http %s: status %d", addr, resp.StatusCode)}
			}
			return Readiness{Ready: true}
		}
	}
	for _, pt := range pod.Ports {
		if pt.Protocol != "UDP" {
			continue
		}
		addr := net.JoinHostPort(pod.IP.String(), strconv.Itoa(pt.Port))
		c, err := dialIn(nodeNS, "udp", addr, timeout)
		if err != nil {
			return Readiness{Reason: fmt.Sprintf("udp %s: %v", addr, err)}
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		c.Write([]byte("hostname"))
		buf := make([]byte, 512)
		n, err := c.Read(buf)
		if err != nil || strings.TrimSpace(string(buf[:n])) != pod.Name {
			return Readiness{Reason: fmt.Sprintf("udp %s: no echo (%v)", addr, err)}
		}
		return Readiness{Ready: true}
	}
	return Readiness{Ready: true}
}
