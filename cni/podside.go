package cni

import (
	"fmt"
	"net"

	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// configurePod brings lo and the pod interface up and installs addresses and routes
// through a netlink socket opened in the pod namespace. That costs two setns on the
// current (locked) thread instead of ns.Do's goroutine hand-offs, which dominate ADD
// when a hundred run at once. A route without a gateway goes via the gateway of its
// address family (host-local/flannel semantics).
func configurePod(podNS ns.NetNS, ifName string, ips []*current.IPConfig, routes []*types.Route) error {
	h, err := netlink.NewHandleAt(netns.NsHandle(podNS.Fd()), unix.NETLINK_ROUTE)
	if err != nil {
		return fmt.Errorf("open netlink in %q: %w", podNS.Path(), err)
	}
	defer h.Close()
	return func() error {
		// lo is always ifindex 1 in a namespace: no lookup needed.
		lo := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: 1, Name: "lo"}}
		if err := h.LinkSetUp(lo); err != nil {
			return fmt.Errorf("set lo up in %q: %w", podNS.Path(), err)
		}
		link, err := h.LinkByName(ifName)
		if err != nil {
			return fmt.Errorf("look up %q in %q: %w", ifName, podNS.Path(), err)
		}
		var v4gw, v6gw net.IP
		for _, ipc := range ips {
			if err := h.AddrAdd(link, &netlink.Addr{IPNet: &ipc.Address}); err != nil {
				return fmt.Errorf("add address %s to %q in %q: %w", ipc.Address.String(), ifName, podNS.Path(), err)
			}
			if ipc.Address.IP.To4() != nil {
				if v4gw == nil {
					v4gw = ipc.Gateway
				}
			} else if v6gw == nil {
				v6gw = ipc.Gateway
			}
		}
		if err := h.LinkSetUp(link); err != nil {
			return fmt.Errorf("set %q up in %q: %w", ifName, podNS.Path(), err)
		}
		for _, r := range routes {
			gw := r.GW
			if gw == nil {
				if r.Dst.IP.To4() != nil {
					gw = v4gw
				} else {
					gw = v6gw
				}
			}
			dst := r.Dst
			route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: &dst, Gw: gw, Priority: r.Priority, MTU: r.MTU, AdvMSS: r.AdvMSS}
			if r.Table != nil {
				route.Table = *r.Table
			}
			if r.Scope != nil {
				route.Scope = netlink.Scope(*r.Scope)
			}
			if err := h.RouteAdd(route); err != nil {
				return fmt.Errorf("add route %s via %v dev %q in %q: %w", r.Dst.String(), gw, ifName, podNS.Path(), err)
			}
		}
		return nil
	}()
}
