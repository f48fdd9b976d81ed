package cni

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const netnsDir = "/run/netns"

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root (creates network namespaces)")
	}
}

// newNetns creates /run/netns/<name> like `ip netns add` (unshare on a locked thread,
// bind mount, switch back) and removes it in Cleanup even when the test fails.
func newNetns(tb testing.TB, name string) string {
	tb.Helper()
	path := filepath.Join(netnsDir, name)
	if err := os.MkdirAll(netnsDir, 0o755); err != nil {
		tb.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		tb.Fatalf("create %s: %v", path, err)
	}
	f.Close()
	tb.Cleanup(func() { removeNetns(path) })

	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked if restoring fails: the thread dies with us
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("unshare: %w", err)
			return
		}
		merr := unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), path, "none", unix.MS_BIND, "")
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("switch back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- merr
	}()
	if err := <-errc; err != nil {
		tb.Fatalf("create netns %s: %v", name, err)
	}
	return path
}

func removeNetns(path string) {
	_ = unix.Unmount(path, unix.MNT_DETACH)
	_ = os.Remove(path)
}

// inNS runs fn in the namespace at path on a locked thread.
func inNS(tb testing.TB, path string, fn func() error) {
	tb.Helper()
	if err := ns.WithNetNSPath(path, func(ns.NetNS) error { return fn() }); err != nil {
		tb.Fatalf("in %s: %v", path, err)
	}
}

// rootLinks lists the root namespace's links, to prove tests leave it untouched.
func rootLinks(tb testing.TB) string {
	tb.Helper()
	links, err := netlink.LinkList()
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, l := range links {
		names = append(names, l.Attrs().Name)
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}

// ipNetnsList is `ip netns list` filtered to a prefix.
func ipNetnsList(tb testing.TB, prefix string) []string {
	tb.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		tb.Logf("ip netns list: %v %s", err, out)
		return nil
	}
	var got []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], prefix) {
			got = append(got, f[0])
		}
	}
	return got
}

// dialable checks pod-to-pod TCP: a listener in one netns, a dial from another.
func dialable(tb testing.TB, fromNS, toNS string, to net.IP) error {
	tb.Helper()
	var ln net.Listener
	inNS(tb, toNS, func() error {
		var err error
		ln, err = net.Listen("tcp4", net.JoinHostPort(to.String(), "0"))
		return err
	})
	defer ln.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			_, err = c.Write([]byte("ok"))
			c.Close()
		}
		accepted <- err
	}()
	var derr error
	_ = ns.WithNetNSPath(fromNS, func(ns.NetNS) error {
		c, err := net.DialTimeout("tcp4", ln.Addr().String(), 2e9)
		if err != nil {
			derr = err
			return nil
		}
		defer c.Close()
		buf := make([]byte, 2)
		_, derr = c.Read(buf)
		return nil
	})
	if derr != nil {
		return derr
	}
	return <-accepted
}
