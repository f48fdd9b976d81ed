package network

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/plan"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/topology"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
}

// testbed is a two-node lab built by hand: an underlay namespace with its bridge, two
// node namespaces wired to it, and the plan that describes them.
type testbed struct {
	lab      string
	underlay string
	paths    map[string]string // node name -> netns path
	plan     *plan.Plan
}

// rootLinks lists the root namespace's links, to check a test left them alone.
func rootLinks(t *testing.T) []string {
	t.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		out = append(out, l.Attrs().Name)
	}
	sort.Strings(out)
	return out
}

func newTestbed(t *testing.T) *testbed {
	t.Helper()
	needRoot(t)
	before := rootLinks(t)
	t.Cleanup(func() {
		if after := rootLinks(t); !reflect.DeepEqual(before, after) {
			t.Errorf("root namespace links changed: %q -> %q", before, after)
		}
	})
	// "ut<pid>x" names no real lab; namespaces carry podlab_ut<pid>x_ as their mark.
	lab := "ut" + strconv.Itoa(os.Getpid()) + "x"
	rt := netns.New()
	mk := func(name string) string {
		full := plan.NetnsPrefix(lab) + name
		path, err := rt.Create(context.Background(), podruntime.Sandbox{Lab: lab, Name: full, Sysctls: plan.Sysctls()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := rt.Delete(context.Background(), full); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		return path
	}
	p := &plan.Plan{
		Lab:     lab,
		Cluster: topology.Cluster{Overlay: topology.OverlayVXLAN, MTU: 1500, PodCIDR: netip.MustParsePrefix("10.244.0.0/16")},
		Nodes: []plan.Node{
			{Name: "n1", IP: netip.MustParsePrefix("172.30.0.10/24"), PodCIDR: netip.MustParsePrefix("10.244.1.0/24"), VTEPMAC: "0e:00:00:00:01:01"},
			{Name: "n2", IP: netip.MustParsePrefix("172.30.0.11/24"), PodCIDR: netip.MustParsePrefix("10.244.2.0/24"), VTEPMAC: "0e:00:00:00:02:02"},
		},
	}
	tb := &testbed{lab: lab, underlay: mk("underlay"), paths: map[string]string{}, plan: p}
	if err := Underlay(tb.underlay, plan.UnderlayBridge, lab, p.Cluster.MTU); err != nil {
		t.Fatal(err)
	}
	for i, n := range p.Nodes {
		tb.paths[n.Name] = mk("node_" + n.Name)
		if err := Uplink(tb.underlay, plan.UnderlayBridge, tb.paths[n.Name], "p"+strconv.Itoa(i), plan.Uplink, lab, n.IP, p.Cluster.MTU); err != nil {
			t.Fatal(err)
		}
	}
	return tb
}

func (tb *testbed) vxlan(n *plan.Node) VXLAN {
	return VXLAN{
		Name: plan.VXLANDevice, VNI: plan.VXLANVNI, Port: plan.VXLANPort, Local: n.IP.Addr(), Dev: plan.Uplink,
		MAC: n.VTEPMAC, Addr: netip.PrefixFrom(n.PodCIDR.Masked().Addr(), 32), MTU: tb.plan.Cluster.MTU - plan.VXLANOverhead,
	}
}

func (tb *testbed) overlay(t *testing.T) {
	t.Helper()
	for i := range tb.plan.Nodes {
		n := &tb.plan.Nodes[i]
		if err := SetupVXLAN(tb.paths[n.Name], tb.lab, tb.vxlan(n)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range tb.plan.Nodes {
		n := &tb.plan.Nodes[i]
		if err := ApplyOverlay(tb.paths[n.Name], tb.plan.OverlayFor(n)); err != nil {
			t.Fatal(err)
		}
	}
}

func handleAt(t *testing.T, path string) *netlink.Handle {
	t.Helper()
	h, ns, err := handle(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(); ns.Close() })
	return h
}

func TestUnderlayAndUplink(t *testing.T) {
	tb := newTestbed(t)
	uh := handleAt(t, tb.underlay)
	br, err := uh.LinkByName(plan.UnderlayBridge)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := br.(*netlink.Bridge); !ok {
		t.Errorf("%s is a %s, want a bridge", plan.UnderlayBridge, br.Type())
	}
	if a := br.Attrs(); a.Alias != Alias(tb.lab) || a.MTU != 1500 || a.Flags&net.FlagUp == 0 {
		t.Errorf("bridge alias %q mtu %d flags %v", a.Alias, a.MTU, a.Flags)
	}
	for i := range tb.plan.Nodes {
		port, err := uh.LinkByName("p" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		if port.Attrs().MasterIndex != br.Attrs().Index || port.Attrs().Alias != Alias(tb.lab) {
			t.Errorf("port p%d: master %d (bridge %d), alias %q", i, port.Attrs().MasterIndex, br.Attrs().Index, port.Attrs().Alias)
		}
	}
	n1 := handleAt(t, tb.paths["n1"])
	eth0, err := n1.LinkByName(plan.Uplink)
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := n1.AddrList(eth0, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0].IPNet.String() != "172.30.0.10/24" {
		t.Errorf("n1 eth0 addresses %v, want 172.30.0.10/24", addrs)
	}
	if lo, err := n1.LinkByName("lo"); err != nil || lo.Attrs().Flags&net.FlagUp == 0 {
		t.Errorf("lo in n1 is not up: %v", err)
	}
	// A second bridge of the same name is refused with its name.
	if err := Underlay(tb.underlay, plan.UnderlayBridge, tb.lab, 1500); err == nil || !strings.Contains(err.Error(), plan.UnderlayBridge) {
		t.Errorf("second Underlay: %v", err)
	}
}

func TestVXLANOverlay(t *testing.T) {
	tb := newTestbed(t)
	tb.overlay(t)
	n1, n2 := &tb.plan.Nodes[0], &tb.plan.Nodes[1]
	h := handleAt(t, tb.paths["n1"])

	link, err := h.LinkByName(plan.VXLANDevice)
	if err != nil {
		t.Fatal(err)
	}
	vx, ok := link.(*netlink.Vxlan)
	if !ok {
		t.Fatalf("%s is a %s, want vxlan", plan.VXLANDevice, link.Type())
	}
	eth0, err := h.LinkByName(plan.Uplink)
	if err != nil {
		t.Fatal(err)
	}
	if vx.VxlanId != 1 || vx.Port != 8472 || vx.Learning || vx.MTU != 1450 || vx.VtepDevIndex != eth0.Attrs().Index ||
		!vx.SrcAddr.Equal(net.ParseIP("172.30.0.10")) || vx.HardwareAddr.String() != n1.VTEPMAC ||
		vx.Alias != Alias(tb.lab) || vx.Flags&net.FlagUp == 0 {
		t.Errorf("vxlan: vni %d port %d learning %v mtu %d dev %d (eth0 %d) local %v mac %v alias %q flags %v",
			vx.VxlanId, vx.Port, vx.Learning, vx.MTU, vx.VtepDevIndex, eth0.Attrs().Index, vx.SrcAddr, vx.HardwareAddr, vx.Alias, vx.Flags)
	}
	addrs, err := h.AddrList(vx, unix.AF_INET)
	if err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 1 || addrs[0].IPNet.String() != "10.244.1.0/32" {
		t.Errorf("flannel.1 addresses %v, want 10.244.1.0/32", addrs)
	}

	check := func(t *testing.T) {
		t.Helper()
		routes, err := h.RouteListFiltered(unix.AF_INET, &netlink.Route{Dst: ipnet(n2.PodCIDR)}, netlink.RT_FILTER_DST)
		if err != nil {
			t.Fatal(err)
		}
		if len(routes) != 1 {
			t.Fatalf("routes to %s: %v, want exactly one", n2.PodCIDR, routes)
		}
		r := routes[0]
		if r.LinkIndex != vx.Index || !r.Gw.Equal(net.ParseIP("10.244.2.0")) || r.Flags&int(netlink.FLAG_ONLINK) == 0 {
			t.Errorf("route %v, want 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink", r)
		}

		neighs, err := h.NeighList(vx.Index, unix.AF_INET)
		if err != nil {
			t.Fatal(err)
		}
		if len(neighs) != 1 || !neighs[0].IP.Equal(net.ParseIP("10.244.2.0")) || neighs[0].HardwareAddr.String() != n2.VTEPMAC || neighs[0].State != netlink.NUD_PERMANENT {
			t.Errorf("neighbours on flannel.1 %+v, want 10.244.2.0 lladdr %s PERMANENT", neighs, n2.VTEPMAC)
		}

		fdb, err := h.NeighList(vx.Index, unix.AF_BRIDGE)
		if err != nil {
			t.Fatal(err)
		}
		var mine []netlink.Neigh
		for _, f := range fdb {
			if f.HardwareAddr.String() == n2.VTEPMAC {
				mine = append(mine, f)
			}
		}
		if len(mine) != 1 {
			t.Fatalf("fdb entries for %s: %+v, want exactly one (all: %+v)", n2.VTEPMAC, mine, fdb)
		}
		if f := mine[0]; !f.IP.Equal(net.ParseIP("172.30.0.11")) || f.Flags&netlink.NTF_SELF == 0 || f.State != netlink.NUD_PERMANENT {
			t.Errorf("fdb %+v, want dst 172.30.0.11 self permanent", f)
		}
	}
	check(t)

	// Applying the same overlay again changes nothing and duplicates nothing.
	if err := ApplyOverlay(tb.paths["n1"], tb.plan.OverlayFor(n1)); err != nil {
		t.Fatalf("second ApplyOverlay: %v", err)
	}
	check(t)

	// A second VXLAN device of the same name is refused with its name.
	if err := SetupVXLAN(tb.paths["n1"], tb.lab, tb.vxlan(n1)); err == nil || !strings.Contains(err.Error(), plan.VXLANDevice) {
		t.Errorf("second SetupVXLAN: %v", err)
	}

	// n1 reaches n2's flannel.1 address through the overlay: a TCP connection from
	// n1 to a listener in n2 on 10.244.2.0.
	var ln net.Listener
	if err := nsutil.Do(tb.paths["n2"], func() error {
		var err error
		ln, err = net.Listen("tcp", "10.244.2.0:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	type accepted struct {
		peer string
		msg  string
		err  error
	}
	acc := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			acc <- accepted{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		acc <- accepted{peer: c.RemoteAddr().String(), msg: string(b), err: err}
	}()
	var c net.Conn
	if err := nsutil.Do(tb.paths["n1"], func() error {
		var err error
		c, err = net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		return err
	}); err != nil {
		t.Fatalf("n1 -> %s over the overlay: %v", ln.Addr(), err)
	}
	c.Write([]byte("hello"))
	c.Close()
	select {
	case a := <-acc:
		if a.err != nil || a.msg != "hello" {
			t.Errorf("n2 received %q, %v", a.msg, a.err)
		}
		// The source is n1's flannel.1 address: the packet came over the overlay.
		if host, _, _ := net.SplitHostPort(a.peer); host != "10.244.1.0" {
			t.Errorf("n2 saw the connection from %s, want 10.244.1.0", a.peer)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("n2 never accepted")
	}
}

func TestHostGWRoutes(t *testing.T) {
	tb := newTestbed(t)
	tb.plan.Cluster.Overlay = topology.OverlayHostGW
	n1 := &tb.plan.Nodes[0]
	if err := ApplyOverlay(tb.paths["n1"], tb.plan.OverlayFor(n1)); err != nil {
		t.Fatal(err)
	}
	h := handleAt(t, tb.paths["n1"])
	routes, err := h.RouteListFiltered(unix.AF_INET, &netlink.Route{Dst: ipnet(tb.plan.Nodes[1].PodCIDR)}, netlink.RT_FILTER_DST)
	if err != nil {
		t.Fatal(err)
	}
	if len(routes) != 1 || !routes[0].Gw.Equal(net.ParseIP("172.30.0.11")) || routes[0].Flags&int(netlink.FLAG_ONLINK) != 0 {
		t.Errorf("host-gw routes %v, want 10.244.2.0/24 via 172.30.0.11", routes)
	}
	// A missing device is an error naming it.
	err = ApplyOverlay(tb.paths["n1"], plan.Overlay{Routes: []plan.Route{{Dst: netip.MustParsePrefix("10.9.0.0/24"), Via: netip.MustParseAddr("10.9.0.1"), Dev: "nosuch0"}}})
	if err == nil || !strings.Contains(err.Error(), "nosuch0") {
		t.Errorf("ApplyOverlay with a missing device: %v", err)
	}
}

func TestSysctls(t *testing.T) {
	tb := newTestbed(t)
	const key = "net/ipv4/ip_forward"
	rootBefore, err := os.ReadFile("/proc/sys/" + key)
	if err != nil {
		t.Fatal(err)
	}
	want := "1"
	if strings.TrimSpace(string(rootBefore)) == "1" {
		want = "0" // make the write inside differ from the root value either way
	}
	if err := Sysctls(tb.paths["n1"], map[string]string{key: want, "net/ipv4/conf/all/rp_filter": "0"}); err != nil {
		t.Fatal(err)
	}
	var inside string
	if err := nsutil.Do(tb.paths["n1"], func() error {
		b, err := os.ReadFile("/proc/sys/" + key)
		inside = strings.TrimSpace(string(b))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if inside != want {
		t.Errorf("%s inside = %q, want %q", key, inside, want)
	}
	if rootAfter, _ := os.ReadFile("/proc/sys/" + key); !bytes.Equal(rootAfter, rootBefore) {
		t.Errorf("root namespace's %s changed from %q to %q", key, rootBefore, rootAfter)
	}
	err = Sysctls(tb.paths["n1"], map[string]string{"net/ipv4/no_such_knob": "1"})
	if err == nil || !strings.Contains(err.Error(), "no_such_knob") {
		t.Errorf("Sysctls with a bad key: %v", err)
	}
}

func nftIn(t *testing.T, path string, args ...string) (string, error) {
	t.Helper()
	var out []byte
	var runErr error
	err := nsutil.Do(path, func() error {
		// The child inherits the namespace of the locked thread that starts it.
		out, runErr = exec.Command("nft", args...).CombinedOutput()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(out), runErr
}

func TestMasqueradeInNamespace(t *testing.T) {
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft is not installed")
	}
	tb := newTestbed(t)
	rootBefore, err := exec.Command("nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset: %v: %s", err, rootBefore)
	}
	cidr := netip.MustParsePrefix("10.244.0.0/16")
	for i := 0; i < 2; i++ { // a second run replaces, not duplicates
		if err := Masquerade(context.Background(), tb.paths["n1"], tb.lab, cidr); err != nil {
			t.Fatalf("Masquerade #%d: %v", i+1, err)
		}
	}
	out, err := nftIn(t, tb.paths["n1"], "list", "table", "ip", NATTable)
	if err != nil {
		t.Fatalf("nft list table inside: %v: %s", err, out)
	}
	for _, want := range []string{
		`comment "podlab lab ` + tb.lab + `"`,
		"type nat hook postrouting priority srcnat",
		"ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade fully-random",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "masquerade fully-random"); n != 1 {
		t.Errorf("%d masquerade rules, want 1:\n%s", n, out)
	}
	// Only n1 got the table.
	if out, err := nftIn(t, tb.paths["n2"], "list", "tables"); err != nil || strings.Contains(out, NATTable) {
		t.Errorf("n2 tables: %q, %v; want no podlab table", out, err)
	}
	rootAfter, err := exec.Command("nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rootBefore, rootAfter) {
		t.Errorf("root namespace ruleset changed:\nbefore:\n%s\nafter:\n%s", rootBefore, rootAfter)
	}
}
