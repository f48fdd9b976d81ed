package cni

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

var (
	testSubnet  = netip.MustParsePrefix("10.244.1.0/24")
	testCluster = netip.MustParsePrefix("10.244.0.0/16")
	testGateway = netip.MustParseAddr("10.244.1.1")
)

// guardRoot fails the test if the root namespace's links change.
func guardRoot(t *testing.T) {
	before := rootLinks(t)
	prefix := fmt.Sprintf("podlabcni%d", os.Getpid())
	t.Cleanup(func() { // registered first, so it runs after every namespace is removed
		if after := rootLinks(t); after != before {
			t.Errorf("root namespace links changed:\nbefore %s\nafter  %s", before, after)
		}
		if left := ipNetnsList(t, prefix); len(left) > 0 {
			t.Errorf("namespaces left behind: %v", left)
		}
	})
}

func setupNode(t testing.TB, name, plugins string, subnet netip.Prefix) (*NodeNetwork, string) {
	t.Helper()
	node := newNetns(t, fmt.Sprintf("podlabcni%d_%s_node", os.Getpid(), name))
	inNS(t, node, func() error { return netlink.LinkSetUp(&netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 1}}) })
	nn, err := NewNodeNetwork(NodeConfig{
		Lab: "citest", Node: name, NodeNetns: node, Dir: testStateDir(t),
		Subnet: subnet, ClusterCIDR: testCluster, MTU: 1400, Plugins: plugins,
	})
	if err != nil {
		t.Fatal(err)
	}
	return nn, node
}

func TestAttachIntegration(t *testing.T) {
	requireRoot(t)
	guardRoot(t)
	for _, plugins := range []string{PluginsPodlab, PluginsBridge} {
		t.Run(plugins, func(t *testing.T) { testAttach(t, plugins) })
	}
}

func testAttach(t *testing.T, plugins string) {
	ctx := context.Background()
	nn, node := setupNode(t, plugins, plugins, testSubnet)
	pid := os.Getpid()

	var pods []Attachment
	var results []*Result
	for i := 0; i < 3; i++ {
		a := Attachment{
			ContainerID:  fmt.Sprintf("c%d%s%d", pid, plugins, i),
			Netns:        newNetns(t, fmt.Sprintf("podlabcni%d_%s_pod%d", pid, plugins, i)),
			PodNamespace: "default",
			PodName:      fmt.Sprintf("web-%d", i),
		}
		if i == 2 {
			a.IP = netip.MustParseAddr("10.244.1.77")
		}
		res, err := nn.Add(ctx, a)
		if err != nil {
			t.Fatalf("ADD %s: %v", a.PodName, err)
		}
		t.Logf("%s: %s gw %s mac %s host %s", a.PodName, res.IP, res.Gateway, res.MAC, res.HostVeth)
		pods, results = append(pods, a), append(results, res)
	}
	if got := results[2].IP.Addr().String(); got != "10.244.1.77" {
		t.Errorf("requested IP not honoured: got %s", got)
	}

	for i, res := range results {
		a := pods[i]
		if !testSubnet.Contains(res.IP.Addr()) || res.IP.Bits() != 24 || res.Gateway != testGateway {
			t.Errorf("%s: IP %s gateway %s, want in %s via %s", a.PodName, res.IP, res.Gateway, testSubnet, testGateway)
		}
		assertPodSide(t, a, res)
		assertNodeSide(t, node, plugins, res)
		cached, err := nn.CachedResult(a)
		if err != nil || cached == nil || cached.IP != res.IP {
			t.Errorf("%s: libcni cache has %+v (%v), want IP %s", a.PodName, cached, err, res.IP)
		}
	}
	if _, err := os.Stat(filepath.Join(nn.CacheDir(), "results", "podlab-"+pods[0].ContainerID+"-eth0")); err != nil {
		t.Errorf("libcni cache file: %v", err)
	}

	if err := dialable(t, pods[1].Netns, pods[0].Netns, net.IP(results[0].IP.Addr().AsSlice())); err != nil {
		t.Errorf("pod1 -> pod0 TCP: %v", err)
	}
	if err := dialable(t, pods[0].Netns, pods[2].Netns, net.IP(results[2].IP.Addr().AsSlice())); err != nil {
		t.Errorf("pod0 -> pod2 TCP: %v", err)
	}

	if _, err := nn.Add(ctx, pods[0]); err == nil {
		t.Errorf("second ADD of %s succeeded, want an error", pods[0].PodName)
	} else {
		t.Logf("second ADD fails as it must: %v", err)
	}

	for _, a := range pods {
		if err := nn.Check(ctx, a); err != nil {
			t.Errorf("CHECK %s: %v", a.PodName, err)
		}
	}
	inNS(t, pods[0].Netns, func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		addr, _ := netlink.ParseAddr(results[0].IP.String())
		return netlink.AddrDel(l, addr)
	})
	if err := nn.Check(ctx, pods[0]); err == nil {
		t.Errorf("CHECK %s passed after its address was deleted", pods[0].PodName)
	} else {
		t.Logf("CHECK reports drift: %v", err)
		if plugins == PluginsPodlab && !strings.Contains(err.Error(), results[0].IP.String()) {
			t.Errorf("CHECK error does not name the address %s: %v", results[0].IP, err)
		}
	}

	if plugins == PluginsPodlab {
		testExecdPlugin(t, nn, node)
	}

	for i := 0; i < 2; i++ {
		if err := nn.Del(ctx, pods[0]); err != nil {
			t.Errorf("DEL #%d of %s: %v", i+1, pods[0].PodName, err)
		}
	}
	removeNetns(pods[2].Netns)
	if err := nn.Del(ctx, pods[2]); err != nil {
		t.Errorf("DEL after the pod netns is gone: %v", err)
	}
	if err := nn.Del(ctx, pods[1]); err != nil {
		t.Errorf("DEL %s: %v", pods[1].PodName, err)
	}
	assertNodeClean(t, nn, node)
}

func assertPodSide(t *testing.T, a Attachment, res *Result) {
	t.Helper()
	inNS(t, a.Netns, func() error {
		l, err := netlink.LinkByName("eth0")
		if err != nil {
			return err
		}
		if l.Attrs().HardwareAddr.String() != res.MAC || l.Attrs().MTU != 1400 || l.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("%s eth0: mac %s mtu %d flags %v, want mac %s mtu 1400 up", a.PodName, l.Attrs().HardwareAddr, l.Attrs().MTU, l.Attrs().Flags, res.MAC)
		}
		addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
		if len(addrs) != 1 || addrs[0].IPNet.String() != res.IP.String() {
			t.Errorf("%s eth0 addresses %v, want %s", a.PodName, addrs, res.IP)
		}
		routes, _ := netlink.RouteList(l, netlink.FAMILY_V4)
		gw := net.IP(testGateway.AsSlice())
		_, cluster, _ := net.ParseCIDR(testCluster.String())
		if !hasRoute(routes, net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}, gw) || !hasRoute(routes, *cluster, gw) {
			t.Errorf("%s routes %v, want default and %s via %s", a.PodName, routes, testCluster, gw)
		}
		lo, _ := netlink.LinkByName("lo")
		if lo == nil || lo.Attrs().Flags&net.FlagUp == 0 {
			t.Errorf("%s: lo is not up", a.PodName)
		}
		return nil
	})
}

func assertNodeSide(t *testing.T, node, plugins string, res *Result) {
	t.Helper()
	inNS(t, node, func() error {
		br, err := bridgeByName("cni0")
		if err != nil {
			return err
		}
		addrs, _ := netlink.AddrList(br, netlink.FAMILY_V4)
		if len(addrs) != 1 || addrs[0].IPNet.String() != "10.244.1.1/24" {
			t.Errorf("cni0 addresses %v, want 10.244.1.1/24", addrs)
		}
		host, err := netlink.LinkByName(res.HostVeth)
		if err != nil {
			return fmt.Errorf("host veth: %w", err)
		}
		if host.Attrs().MasterIndex != br.Index {
			t.Errorf("%s is not a port of cni0", res.HostVeth)
		}
		if pi, err := netlink.LinkGetProtinfo(host); err != nil || !pi.Hairpin {
			t.Errorf("%s hairpin: %+v %v", res.HostVeth, pi, err)
		}
		if plugins == PluginsPodlab && host.Attrs().Alias != "podlab:citest" {
			t.Errorf("%s alias %q, want podlab:citest", res.HostVeth, host.Attrs().Alias)
		}
		return nil
	})
}

// assertNodeClean: no port left on the bridge, no address left in IPAM.
func assertNodeClean(t *testing.T, nn *NodeNetwork, node string) {
	t.Helper()
	inNS(t, node, func() error {
		br, err := bridgeByName("cni0")
		if err != nil {
			return err
		}
		links, _ := netlink.LinkList()
		for _, l := range links {
			if l.Attrs().MasterIndex == br.Index {
				t.Errorf("port %s left on cni0", l.Attrs().Name)
			}
		}
		return nil
	})
	entries, _ := os.ReadDir(filepath.Join(nn.cfg.Dir, "ipam", NetworkName))
	for _, e := range entries {
		if net.ParseIP(e.Name()) != nil {
			t.Errorf("IPAM still holds %s", e.Name())
		}
	}
}

// testExecdPlugin drives podlab-bridge as a separate process (the test binary through
// the bin/podlab-bridge link, see TestMain) with the same conflist.
func testExecdPlugin(t *testing.T, nn *NodeNetwork, node string) {
	ctx := context.Background()
	exe := &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}}
	c := libcni.NewCNIConfigWithCacheDir([]string{filepath.Join(nn.cfg.Dir, "bin")}, filepath.Join(nn.cfg.Dir, "cache-exec"), exe)
	a := Attachment{ContainerID: fmt.Sprintf("exec%d", os.Getpid()), Netns: newNetns(t, fmt.Sprintf("podlabcni%d_execpod", os.Getpid()))}
	rt := nn.runtimeConf(a)
	err := nn.inNode(func() error {
		res, err := c.AddNetworkList(ctx, nn.list, rt)
		if err != nil {
			return fmt.Errorf("exec'd ADD: %w", err)
		}
		t.Logf("exec'd ADD result: %s", res)
		if err := c.CheckNetworkList(ctx, nn.list, rt); err != nil {
			return fmt.Errorf("exec'd CHECK: %w", err)
		}
		if err := c.GetStatusNetworkList(ctx, nn.list); err != nil {
			return fmt.Errorf("exec'd STATUS: %w", err)
		}
		return c.DelNetworkList(ctx, nn.list, rt)
	})
	if err != nil {
		t.Error(err)
	}
}

// testStateDir is a node state dir, on tmpfs (/dev/shm) when there is one: podlab's state
// dir belongs on tmpfs (see the package report), and IPAM file creation on a churned
// ext4 costs up to a millisecond per pod.
func testStateDir(t testing.TB) string {
	var st unix.Statfs_t
	if unix.Statfs("/dev/shm", &st) == nil && st.Type == unix.TMPFS_MAGIC {
		d, err := os.MkdirTemp("/dev/shm", "podlab-cni-test-")
		if err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}
