package netpol

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	"podlab.dev/podlab/network"
	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
)

// kernelLab is a node with a bridge (br_netfilter on, as podlab's nodes) and two pods
// on it, a (10.244.1.2) and b (10.244.1.3), and a ClusterIP-like DNAT of
// 172.30.0.10:80 to b:8080 in a table of its own (kube-proxy's place).
type kernelLab struct {
	node, a, b string // namespace names; paths are netns.Path(name)
}

func newKernelLab(t *testing.T) *kernelLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft")
	}
	prefix := fmt.Sprintf("podlab_np%d_", os.Getpid())
	l := &kernelLab{node: prefix + "node", a: prefix + "a", b: prefix + "b"}
	r := netns.New()
	for _, n := range []string{l.node, l.a, l.b} {
		if _, err := r.Create(context.Background(), runtime.Sandbox{Name: n}); err != nil {
			t.Fatalf("create netns %s: %v", n, err)
		}
		t.Cleanup(func() { _ = r.Delete(context.Background(), n) })
	}
	ip := func(ns string, args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip -n %s %v: %v\n%s", ns, args, err, out)
		}
	}
	sh := func(ns, cmd string) {
		t.Helper()
		if out, err := exec.Command("ip", "netns", "exec", ns, "sh", "-c", cmd).CombinedOutput(); err != nil {
			t.Fatalf("in %s: %s: %v\n%s", ns, cmd, err, out)
		}
	}
	ip(l.node, "link", "add", "br0", "type", "bridge")
	ip(l.node, "addr", "add", "10.244.1.1/24", "dev", "br0")
	ip(l.node, "link", "set", "br0", "up")
	sh(l.node, "sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1")
	for _, p := range []struct{ ns, host, addr string }{{l.a, "veth-a", "10.244.1.2/24"}, {l.b, "veth-b", "10.244.1.3/24"}} {
		ip(l.node, "link", "add", p.host, "type", "veth", "peer", "name", "eth0", "netns", p.ns)
		ip(l.node, "link", "set", p.host, "master", "br0", "up")
		ip(p.ns, "addr", "add", p.addr, "dev", "eth0")
		ip(p.ns, "link", "set", "eth0", "up")
		ip(p.ns, "link", "set", "lo", "up")
		ip(p.ns, "route", "add", "default", "via", "10.244.1.1")
	}
	sh(l.node, `nft -f - <<'EOF'
table ip podlab-test-dnat {
	chain prerouting { type nat hook prerouting priority dstnat; ip daddr 172.30.0.10 tcp dport 80 dnat to 10.244.1.3:8080; }
	chain bridged { type filter hook forward priority filter - 50; iifname "br0" oifname "br0" counter; }
}
EOF`)
	return l
}

// in runs fn in namespace ns; sockets made there stay there.
func in(t *testing.T, ns string, fn func() error) error {
	t.Helper()
	return nsutil.Do(netns.Path(ns), fn)
}

// serveEcho answers TCP on 8080 and UDP on 8081 in pod b until the test ends.
func serveEcho(t *testing.T, l *kernelLab) {
	var ln net.Listener
	var pc net.PacketConn
	err := in(t, l.b, func() (err error) {
		if ln, err = net.Listen("tcp4", ":8080"); err != nil {
			return err
		}
		pc, err = net.ListenPacket("udp4", ":8081")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close(); pc.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); _, _ = io.Copy(c, c) }()
		}
	}()
	go func() {
		buf := make([]byte, 64)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = pc.WriteTo(buf[:n], from)
		}
	}()
}

// echo sends one byte over c and waits briefly for it to come back.
func echo(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Write([]byte("x")); err != nil {
		return err
	}
	_, err := c.Read(make([]byte, 1))
	return err
}

// dial opens a connection from pod a (nil when it is blocked).
func dial(t *testing.T, l *kernelLab, proto, addr string) net.Conn {
	t.Helper()
	var c net.Conn
	_ = in(t, l.a, func() (err error) {
		c, err = net.DialTimeout(proto, addr, 300*time.Millisecond)
		return err
	})
	if c != nil && proto == "udp4" && echo(c) != nil {
		c.Close()
		return nil
	}
	return c
}

func reachable(t *testing.T, l *kernelLab, proto, addr string) bool {
	t.Helper()
	c := dial(t, l, proto, addr)
	if c != nil {
		c.Close()
	}
	return c != nil
}

func TestKernelEnforce(t *testing.T) {
	l, e := newKernelEnforcer(t, Options{Node: "test"})
	ctx := context.Background()
	a := PodRules{Namespace: "x", Name: "a", IP: netip.MustParseAddr("10.244.1.2")}
	b := PodRules{Namespace: "x", Name: "b", IP: netip.MustParseAddr("10.244.1.3")}
	sync := func(rules ...Rule) {
		t.Helper()
		b := b
		b.IngressIsolated, b.Ingress = true, rules
		if err := e.Sync(ctx, []PodRules{a, b}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Sync(ctx, []PodRules{a, b}); err != nil {
		t.Fatal(err)
	}
	est := dial(t, l, "tcp4", "10.244.1.3:8080")
	if est == nil || echo(est) != nil {
		t.Fatal("no policy: a cannot reach b")
	}
	defer est.Close()
	out, _ := exec.Command("ip", "netns", "exec", l.node, "nft", "list", "chain", "ip", "podlab-test-dnat", "bridged").CombinedOutput()
	if !strings.Contains(string(out), "counter packets") || strings.Contains(string(out), "packets 0 ") {
		t.Errorf("bridged pod-to-pod traffic did not show iifname/oifname br0 in the ip family:\n%s", out)
	}

	sync() // deny all ingress to b
	for _, dst := range []struct{ proto, addr string }{{"tcp4", "10.244.1.3:8080"}, {"udp4", "10.244.1.3:8081"}, {"tcp4", "172.30.0.10:80"}} {
		if reachable(t, l, dst.proto, dst.addr) {
			t.Errorf("deny-all: %s %s reachable", dst.proto, dst.addr)
		}
	}
	if err := echo(est); err != nil {
		t.Errorf("deny-all cut the established connection (default keeps it): %v", err)
	}

	sync(Rule{Policy: "x/allow-a", Peers: []Peer{{IPs: []netip.Addr{a.IP}}}, Ports: []Port{{Protocol: "TCP", Port: 8080}, {Protocol: "UDP", Port: 8081}}})
	for _, dst := range []struct{ proto, addr string }{{"tcp4", "10.244.1.3:8080"}, {"udp4", "10.244.1.3:8081"}, {"tcp4", "172.30.0.10:80"}} {
		if !reachable(t, l, dst.proto, dst.addr) {
			t.Errorf("allow from a to 8080/tcp, 8081/udp: %s %s blocked", dst.proto, dst.addr)
		}
	}
	// The ClusterIP's port (80) is not the backend's: judged after DNAT, it is denied.
	sync(Rule{Policy: "x/allow-80", Ports: []Port{{Protocol: "TCP", Port: 80}}})
	if reachable(t, l, "tcp4", "172.30.0.10:80") {
		t.Error("a rule for the Service port opened the backend: judged before DNAT")
	}

	counters, err := e.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := counters["drop/ingress/x/b"]; c.Packets == 0 {
		t.Errorf("drop counter of x/b did not move: %v", counters)
	}

	// EnforceEstablished: the change now cuts the open connection.
	e.SetEnforceEstablished(true)
	sync()
	if err := echo(est); err == nil {
		t.Error("EnforceEstablished: the established connection survived deny-all")
	}
}

// TestKernelSync1000 times the first sync of 1,000 isolated pods x 1,000 policies into
// a node's kernel, then a peer relabelled and a policy's pod gone. Run with
// PODLAB_BENCH=1 go test -run KernelSync1000 -v ./cluster/netpol/.
func TestKernelSync1000(t *testing.T) {
	if os.Getenv("PODLAB_BENCH") == "" {
		t.Skip("a benchmark: set PODLAB_BENCH=1")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	name := fmt.Sprintf("podlab_np%d_bench", os.Getpid())
	r := netns.New()
	if _, err := r.Create(context.Background(), runtime.Sandbox{Name: name}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Delete(context.Background(), name) })
	nft, err := network.NFT(netns.Path(name), knftables.IPv4Family, TableName)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []struct{ pods, policies int }{{1000, 1000}, {1000, 100}} {
		e := New(nft, Options{})
		rules := bigNodeRules(size.pods, size.policies)
		start := time.Now()
		if err := e.Sync(context.Background(), rules); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d pods x %d policies: first sync %v", size.pods, size.policies, time.Since(start))
		rules[5].Ingress[0].Peers = []Peer{{IPs: append([]netip.Addr{netip.MustParseAddr("10.99.0.1")}, rules[5].Ingress[0].Peers[0].IPs...)}}
		start = time.Now()
		if err := e.Sync(context.Background(), rules); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d pods x %d policies: a peer relabelled %v", size.pods, size.policies, time.Since(start))
		rules = rules[1:]
		start = time.Now()
		if err := e.Sync(context.Background(), rules); err != nil {
			t.Fatal(err)
		}
		t.Logf("%d pods x %d policies: a pod gone %v", size.pods, size.policies, time.Since(start))
	}
}
