// Package network wires a lab's namespaces together with netlink: the underlay
// bridge, each node's and host's uplink, and the overlay between nodes (flannel-style
// VXLAN or host-gw routes) plus the masquerade of pod traffic leaving the cluster. It
// works on namespaces by path and never on the root namespace; pod interfaces are the
// CNI plugin's business, not this package's.
package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"podlab.dev/podlab/nsutil"
)

// Alias marks every link podlab creates with the lab it belongs to.
func Alias(lab string) string { return "podlab:" + lab }

// handle opens a netlink handle bound to the namespace at path.
func handle(path string) (*netlink.Handle, vnetns.NsHandle, error) {
	ns, err := vnetns.GetFromPath(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open network namespace %s: %w", path, err)
	}
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		ns.Close()
		return nil, 0, fmt.Errorf("netlink in %s: %w", path, err)
	}
	return h, ns, nil
}

// Underlay creates the lab's L2 segment: a bridge in the underlay namespace.
func Underlay(nsPath, bridge, lab string, mtu int) error {
	h, ns, err := handle(nsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: bridge, MTU: mtu}}
	if err := h.LinkAdd(br); err != nil {
		return fmt.Errorf("create underlay bridge %q: %w", bridge, err)
	}
	if err := h.LinkSetAlias(br, Alias(lab)); err != nil {
		return err
	}
	if err := h.LinkSetUp(br); err != nil {
		return fmt.Errorf("set underlay bridge %q up: %w", bridge, err)
	}
	lo, err := h.LinkByName("lo")
	if err == nil {
		h.LinkSetUp(lo)
	}
	return nil
}

// Uplink connects the namespace at nsPath to the underlay bridge with a veth pair:
// `port` on the bridge side, `ifname` inside with address addr, both up, lo up too.
func Uplink(underlayPath, bridge, nsPath, port, ifname, lab string, addr netip.Prefix, mtu int) error {
	uh, uns, err := handle(underlayPath)
	if err != nil {
		return err
	}
	defer uns.Close()
	defer uh.Close()
	th, tns, err := handle(nsPath)
	if err != nil {
		return err
	}
	defer tns.Close()
	defer th.Close()

	br, err := uh.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("underlay bridge %q: %w", bridge, err)
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: port, MTU: mtu, MasterIndex: br.Attrs().Index},
		PeerName:      ifname,
		PeerNamespace: netlink.NsFd(int(tns)),
	}
	if err := uh.LinkAdd(veth); err != nil {
		return fmt.Errorf("create veth %q/%q: %w", port, ifname, err)
	}
	uh.LinkSetAlias(veth, Alias(lab))
	if err := uh.LinkSetUp(veth); err != nil {
		return fmt.Errorf("set %q up: %w", port, err)
	}
	in, err := th.LinkByName(ifname)
	if err != nil {
		return fmt.Errorf("veth peer %q: %w", ifname, err)
	}
	th.LinkSetAlias(in, Alias(lab))
	if err := th.AddrAdd(in, &netlink.Addr{IPNet: ipnet(addr)}); err != nil {
		return fmt.Errorf("address %s on %s: %w", addr, ifname, err)
	}
	if err := th.LinkSetUp(in); err != nil {
		return fmt.Errorf("set %q up: %w", ifname, err)
	}
	if lo, err := th.LinkByName("lo"); err == nil {
		th.LinkSetUp(lo)
	}
	return nil
}

// Sysctls writes net sysctls inside the namespace at nsPath (e.g.
// "net/ipv4/ip_forward": "1"). /proc/sys/net shows the namespace of the thread
// that opens it, so the writes happen on a thread switched into the namespace.
func Sysctls(nsPath string, kv map[string]string) error {
	return nsutil.Do(nsPath, func() error {
		var errs []error
		for k, v := range kv {
			if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil {
				errs = append(errs, fmt.Errorf("sysctl %s=%s: %w", k, v, err))
			}
		}
		return errors.Join(errs...)
	})
}

func ipnet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func isExist(err error) bool { return errors.Is(err, unix.EEXIST) }
