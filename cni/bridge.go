package cni

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// bridgeMu serialises the slow path of bridge setup so that the ~100 concurrent ADDs a
// node sees at deploy do not race to create or address the same bridge. The fast path
// (bridge present, up, gateway addressed) takes no lock.
var bridgeMu sync.Mutex

// readyBridges remembers bridges this process has fully set up, per network namespace
// (device and inode of the namespace), so a node's 2nd..100th ADD costs one stat
// instead of netlink dumps that grow with the number of pods. Add forgets an entry when
// using it fails, so a bridge deleted behind our back is rebuilt.
var readyBridges sync.Map // bridgeKey -> *netlink.Bridge

type bridgeKey struct {
	dev, ino uint64
	name     string
}

func currentBridgeKey(name string) (bridgeKey, bool) {
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		return bridgeKey{}, false
	}
	return bridgeKey{dev: st.Dev, ino: st.Ino, name: name}, true
}

func forgetBridge(name string) {
	if k, ok := currentBridgeKey(name); ok {
		readyBridges.Delete(k)
	}
}

// ensureBridge returns the node's bridge, creating it, bringing it up and putting the
// gateway addresses on it if needed. It runs in the node namespace.
func ensureBridge(name string, mtu int, gws []net.IPNet) (*netlink.Bridge, error) {
	key, keyed := currentBridgeKey(name)
	if keyed {
		if br, ok := readyBridges.Load(key); ok {
			return br.(*netlink.Bridge), nil
		}
	}
	bridgeMu.Lock()
	defer bridgeMu.Unlock()
	if br, err := readyBridge(name, gws); err == nil && br != nil {
		if keyed {
			readyBridges.Store(key, br)
		}
		return br, nil
	}

	la := netlink.NewLinkAttrs()
	la.Name = name
	la.MTU = mtu
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil && !errors.Is(err, syscall.EEXIST) {
		return nil, fmt.Errorf("create bridge %q: %w", name, err)
	}
	br, err := bridgeByName(name)
	if err != nil {
		return nil, err
	}
	// Pin the MAC: otherwise the bridge takes the lowest port MAC and changes as pods come
	// and go, which breaks the pods' ARP entries for the gateway.
	if err := netlink.LinkSetHardwareAddr(br, br.HardwareAddr); err != nil {
		return nil, fmt.Errorf("pin MAC of bridge %q: %w", name, err)
	}
	_ = writeSysctlIfDifferent("/proc/sys/net/ipv6/conf/"+name+"/accept_ra", "0")
	if err := netlink.LinkSetUp(br); err != nil {
		return nil, fmt.Errorf("set bridge %q up: %w", name, err)
	}
	for i := range gws {
		if err := ensureGatewayAddr(br, &gws[i]); err != nil {
			return nil, err
		}
	}
	if len(gws) > 0 {
		if err := writeSysctlIfDifferent("/proc/sys/net/ipv4/ip_forward", "1"); err != nil {
			return nil, fmt.Errorf("enable IPv4 forwarding for bridge %q: %w", name, err)
		}
	}
	br, err = bridgeByName(name)
	if err == nil && keyed {
		readyBridges.Store(key, br)
	}
	return br, err
}

// readyBridge returns the bridge if it exists, is up and carries every gateway address;
// nil otherwise.
func readyBridge(name string, gws []net.IPNet) (*netlink.Bridge, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return nil, err
	}
	br, ok := l.(*netlink.Bridge)
	if !ok || br.Flags&net.FlagUp == 0 {
		return nil, nil
	}
	if len(gws) == 0 {
		return br, nil
	}
	addrs, err := netlink.AddrList(br, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	for _, gw := range gws {
		found := false
		for _, a := range addrs {
			if a.IPNet.String() == gw.String() {
				found = true
				break
			}
		}
		if !found {
			return nil, nil
		}
	}
	return br, nil
}

func bridgeByName(name string) (*netlink.Bridge, error) {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("look up bridge %q: %w", name, err)
	}
	br, ok := l.(*netlink.Bridge)
	if !ok {
		return nil, fmt.Errorf("%q already exists but is not a bridge", name)
	}
	return br, nil
}

// ensureGatewayAddr puts gw on the bridge; a different address of the same family in
// the way is an error (like the reference plugin without forceAddress).
func ensureGatewayAddr(br *netlink.Bridge, gw *net.IPNet) error {
	family := netlink.FAMILY_V4
	if gw.IP.To4() == nil {
		family = netlink.FAMILY_V6
	}
	addrs, err := netlink.AddrList(br, family)
	if err != nil {
		return fmt.Errorf("list addresses of bridge %q: %w", br.Name, err)
	}
	for _, a := range addrs {
		if a.IPNet.String() == gw.String() {
			return nil
		}
		if family == netlink.FAMILY_V4 || a.IPNet.Contains(gw.IP) || gw.Contains(a.IP) {
			if a.IP.IsLinkLocalUnicast() {
				continue
			}
			return fmt.Errorf("bridge %q already has address %s, different from gateway %s", br.Name, a.IPNet, gw)
		}
	}
	if err := netlink.AddrAdd(br, &netlink.Addr{IPNet: gw}); err != nil && !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("add gateway %s to bridge %q: %w", gw, br.Name, err)
	}
	return nil
}

// writeSysctlIfDifferent writes a /proc/sys value of the current thread's namespace only
// when it differs: writes are not free and forwarding is usually already on in a node.
func writeSysctlIfDifferent(path, value string) error {
	cur, err := os.ReadFile(path)
	if err == nil && len(cur) > 0 && string(cur[:len(cur)-1]) == value {
		return nil
	}
	return os.WriteFile(path, []byte(value), 0o644)
}
