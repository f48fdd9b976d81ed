package network

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"podlab.dev/podlab/plan"
)

// VXLAN is a node's flannel-style VXLAN device.
type VXLAN struct {
	Name  string
	VNI   int
	Port  int
	Local netip.Addr   // the node's underlay address
	Dev   string       // the uplink
	MAC   string       // VTEP MAC
	Addr  netip.Prefix // the node subnet's .0 as /32
	MTU   int
}

// SetupVXLAN creates the VXLAN device like flannel: learning off, the node's VTEP MAC,
// the subnet's .0/32 on it, up.
func SetupVXLAN(nsPath, lab string, v VXLAN) error {
	h, ns, err := handle(nsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	up, err := h.LinkByName(v.Dev)
	if err != nil {
		return fmt.Errorf("uplink %q: %w", v.Dev, err)
	}
	mac, err := net.ParseMAC(v.MAC)
	if err != nil {
		return fmt.Errorf("VTEP MAC %q: %w", v.MAC, err)
	}
	dev := &netlink.Vxlan{
		LinkAttrs:    netlink.LinkAttrs{Name: v.Name, MTU: v.MTU, HardwareAddr: mac},
		VxlanId:      v.VNI,
		VtepDevIndex: up.Attrs().Index,
		SrcAddr:      v.Local.AsSlice(),
		Port:         v.Port,
		Learning:     false,
	}
	if err := h.LinkAdd(dev); err != nil {
		return fmt.Errorf("create vxlan device %q: %w", v.Name, err)
	}
	h.LinkSetAlias(dev, Alias(lab))
	if err := h.AddrAdd(dev, &netlink.Addr{IPNet: ipnet(v.Addr)}); err != nil {
		return fmt.Errorf("address %s on %s: %w", v.Addr, v.Name, err)
	}
	if err := h.LinkSetUp(dev); err != nil {
		return fmt.Errorf("set %q up: %w", v.Name, err)
	}
	return nil
}

// ApplyOverlay installs a node's routes, permanent neighbours and FDB entries.
// Existing identical entries are replaced, so it can run again after a peer changes.
func ApplyOverlay(nsPath string, o plan.Overlay) error {
	h, ns, err := handle(nsPath)
	if err != nil {
		return err
	}
	defer ns.Close()
	defer h.Close()
	links := map[string]netlink.Link{}
	link := func(name string) (netlink.Link, error) {
		if l, ok := links[name]; ok {
			return l, nil
		}
		l, err := h.LinkByName(name)
		if err != nil {
			return nil, fmt.Errorf("link %q: %w", name, err)
		}
		links[name] = l
		return l, nil
	}
	for _, nb := range o.Neighbours {
		l, err := link(nb.Dev)
		if err != nil {
			return err
		}
		mac, _ := net.ParseMAC(nb.MAC)
		if err := h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_INET, State: netlink.NUD_PERMANENT, IP: nb.IP.AsSlice(), HardwareAddr: mac}); err != nil {
			return fmt.Errorf("neighbour %s on %s: %w", nb.IP, nb.Dev, err)
		}
	}
	for _, f := range o.FDB {
		l, err := link(f.Dev)
		if err != nil {
			return err
		}
		mac, _ := net.ParseMAC(f.MAC)
		if err := h.NeighSet(&netlink.Neigh{LinkIndex: l.Attrs().Index, Family: unix.AF_BRIDGE, Flags: netlink.NTF_SELF, State: netlink.NUD_PERMANENT, IP: f.Dst.AsSlice(), HardwareAddr: mac}); err != nil {
			return fmt.Errorf("fdb %s dst %s on %s: %w", f.MAC, f.Dst, f.Dev, err)
		}
	}
	for _, r := range o.Routes {
		l, err := link(r.Dev)
		if err != nil {
			return err
		}
		rt := &netlink.Route{LinkIndex: l.Attrs().Index, Dst: ipnet(r.Dst), Gw: r.Via.AsSlice()}
		if r.Onlink {
			rt.Flags = int(netlink.FLAG_ONLINK)
		}
		if err := h.RouteReplace(rt); err != nil {
			return fmt.Errorf("route %s via %s dev %s: %w", r.Dst, r.Via, r.Dev, err)
		}
	}
	return nil
}
