package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/runtime/netns"
)

// openFlow is a connection opened from inside a pod that outlives a policy change: an
// HTTP/1.1 keep-alive connection (the built-in servers keep it open) or a connected UDP
// socket (one conntrack flow for as long as it keeps talking).
type openFlow struct {
	c net.Conn
	r *bufio.Reader
}

func dialFlow(t *testing.T, ns, network, addr string) *openFlow {
	t.Helper()
	var c net.Conn
	if err := nsutil.Do(netns.Path(ns), func() (err error) {
		c, err = net.DialTimeout(network, addr, time.Second)
		return err
	}); err != nil {
		t.Fatalf("%s %s from %s: %v", network, addr, ns, err)
	}
	t.Cleanup(func() { c.Close() })
	return &openFlow{c: c, r: bufio.NewReader(c)}
}

// ask sends one request on the open flow and says whether it was answered within 1 s.
func (f *openFlow) ask() error {
	f.c.SetDeadline(time.Now().Add(time.Second))
	if _, ok := f.c.(*net.UDPConn); ok {
		if _, err := f.c.Write([]byte("hostname")); err != nil {
			return err
		}
		buf := make([]byte, 64)
		_, err := f.c.Read(buf)
		return err
	}
	if _, err := fmt.Fprintf(f.c, "GET /hostname HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(f.r, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.Close {
		return fmt.Errorf("the server closed the keep-alive connection")
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// A policy change never affects new connections differently, but what happens to the
// ones already open is the lab's choice: by default they keep flowing (as in Calico and
// Cilium); with cluster.networkPolicy.enforceEstablished they are cut at their next packet.
func TestNetworkPolicyEstablished(t *testing.T) {
	e := newEnv(t)
	for _, enforce := range []bool{false, true} {
		t.Run(fmt.Sprintf("enforceEstablished=%v", enforce), func(t *testing.T) {
			e := &env{t: t, root: e.root}
			name := uniq(fmt.Sprintf("npest%d", map[bool]int{false: 0, true: 1}[enforce]))
			st := e.deploy(name, fmt.Sprintf(`name: %s
cluster:
  networkPolicy:
    enforceEstablished: %v
nodes: [{name: control-plane, role: control-plane}, {name: worker-1}, {name: worker-2}]
pods:
  - {name: a, namespace: "x", node: worker-1, labels: {pod: a}, ports: [80, "81/udp"]}
  - {name: b, namespace: "y", node: worker-2, labels: {pod: b}, ports: [80, "81/udp"]}
`, name, enforce))
			var a, bIP string
			for _, p := range st.Pods {
				switch p.Name {
				case "a":
					a = p.Netns
				case "b":
					bIP = p.IP.String()
				}
			}
			tcp := dialFlow(t, a, "tcp", net.JoinHostPort(bIP, "80"))
			udp := dialFlow(t, a, "udp", net.JoinHostPort(bIP, "81"))
			for what, f := range map[string]*openFlow{"TCP keep-alive": tcp, "UDP flow": udp} {
				if err := f.ask(); err != nil {
					t.Fatalf("%s a -> b before any policy: %v", what, err)
				}
			}

			e.must("apply", "--name", name, "-f", writeLab(t, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-all, namespace: "y"}
spec: {podSelector: {}, policyTypes: [Ingress]}
`))
			for what, f := range map[string]*openFlow{"TCP keep-alive": tcp, "UDP flow": udp} {
				err := f.ask()
				switch {
				case !enforce && err != nil:
					t.Errorf("%s opened before deny-all: %v; want it to keep flowing (the default)", what, err)
				case enforce && err == nil:
					t.Errorf("%s opened before deny-all still answered; want it cut (enforceEstablished: true)", what)
				}
			}
			// New connections are judged in both modes.
			for _, p := range [][2]string{{"tcp", "80"}, {"udp", "81"}} {
				if answers(a, p[0], net.JoinHostPort(bIP, p[1])) {
					t.Errorf("a new %s connection a -> b:%s answered with deny-all in place", p[0], p[1])
				}
			}
		})
	}
}
