package cni

import (
	"errors"
	"fmt"
	"net"

	"github.com/containernetworking/cni/pkg/skel"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// Check compares prevResult (the stored ADD result) with the kernel and names the first
// object that drifted.
func Check(args *skel.CmdArgs) error {
	n, err := loadNetConf(args.StdinData)
	if err != nil {
		return err
	}
	if n.RawPrevResult == nil {
		return errors.New("podlab-bridge: CHECK needs prevResult")
	}
	if err := version.ParsePrevResult(&n.PluginConf); err != nil {
		return fmt.Errorf("podlab-bridge: parse prevResult: %w", err)
	}
	prev, err := current.NewResultFromResult(n.PrevResult)
	if err != nil {
		return fmt.Errorf("podlab-bridge: convert prevResult: %w", err)
	}
	if err := ipamCheck(args); err != nil {
		return fmt.Errorf("podlab-bridge: %w", err)
	}

	var brIf, hostIf, podIf *current.Interface
	for _, i := range prev.Interfaces {
		switch {
		case i.Sandbox == "" && i.Name == n.BrName:
			brIf = i
		case i.Sandbox == "":
			hostIf = i
		case i.Name == args.IfName:
			podIf = i
		}
	}
	if brIf == nil || hostIf == nil || podIf == nil {
		return fmt.Errorf("podlab-bridge: prevResult lacks the bridge %q, host veth or pod interface %q", n.BrName, args.IfName)
	}
	if podIf.Sandbox != args.Netns {
		return fmt.Errorf("podlab-bridge: prevResult puts %q in netns %q, not %q", args.IfName, podIf.Sandbox, args.Netns)
	}

	br, err := bridgeByName(brIf.Name)
	if err != nil {
		return fmt.Errorf("podlab-bridge: %w", err)
	}
	if err := sameMAC("bridge", brIf, br); err != nil {
		return err
	}
	host, err := netlink.LinkByName(hostIf.Name)
	if err != nil {
		return fmt.Errorf("podlab-bridge: host veth %q from prevResult not found: %w", hostIf.Name, err)
	}
	if _, ok := host.(*netlink.Veth); !ok {
		return fmt.Errorf("podlab-bridge: host interface %q is a %s, not a veth", hostIf.Name, host.Type())
	}
	if host.Attrs().MasterIndex != br.Index {
		return fmt.Errorf("podlab-bridge: host veth %q is not a port of bridge %q", hostIf.Name, br.Name)
	}
	if err := sameMAC("host veth", hostIf, host); err != nil {
		return err
	}
	if n.HairpinMode {
		pi, err := netlink.LinkGetProtinfo(host)
		if err != nil {
			return fmt.Errorf("podlab-bridge: read bridge port flags of %q: %w", hostIf.Name, err)
		}
		if !pi.Hairpin {
			return fmt.Errorf("podlab-bridge: hairpin mode is off on bridge port %q", hostIf.Name)
		}
	}

	podNS, err := ns.GetNS(args.Netns)
	if err != nil {
		return fmt.Errorf("podlab-bridge: open netns %q: %w", args.Netns, err)
	}
	defer podNS.Close()
	return podNS.Do(func(ns.NetNS) error {
		return checkPod(args, podIf, host, prev)
	})
}

// checkPod runs inside the pod namespace.
func checkPod(args *skel.CmdArgs, podIf *current.Interface, host netlink.Link, prev *current.Result) error {
	where := fmt.Sprintf("interface %q in netns %q", args.IfName, args.Netns)
	link, err := netlink.LinkByName(args.IfName)
	if err != nil {
		return fmt.Errorf("podlab-bridge: %s not found: %w", where, err)
	}
	if _, ok := link.(*netlink.Veth); !ok {
		return fmt.Errorf("podlab-bridge: %s is a %s, not a veth", where, link.Type())
	}
	if link.Attrs().ParentIndex != host.Attrs().Index {
		return fmt.Errorf("podlab-bridge: %s is not the peer of host veth %q", where, host.Attrs().Name)
	}
	if err := sameMAC(where, podIf, link); err != nil {
		return err
	}
	addrs, err := netlink.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("podlab-bridge: list addresses of %s: %w", where, err)
	}
	for _, ipc := range prev.IPs {
		found := false
		for _, a := range addrs {
			if a.IPNet.String() == ipc.Address.String() {
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("podlab-bridge: address %s from prevResult is missing on %s", ipc.Address.String(), where)
		}
	}
	routes, err := netlink.RouteList(link, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("podlab-bridge: list routes of %s: %w", where, err)
	}
	for _, want := range prev.Routes {
		if !hasRoute(routes, want.Dst, want.GW) {
			return fmt.Errorf("podlab-bridge: route %s via %v from prevResult is missing on %s", want.Dst.String(), want.GW, where)
		}
	}
	return nil
}

func hasRoute(routes []netlink.Route, dst net.IPNet, gw net.IP) bool {
	wantOnes, wantBits := dst.Mask.Size()
	for _, r := range routes {
		if r.Dst == nil {
			if wantOnes != 0 {
				continue
			}
			// default route: family must match
			if (r.Gw.To4() != nil) != (dst.IP.To4() != nil) {
				continue
			}
		} else {
			ones, bits := r.Dst.Mask.Size()
			if ones != wantOnes || bits != wantBits || !r.Dst.IP.Equal(dst.IP) {
				continue
			}
		}
		if gw == nil || gw.Equal(r.Gw) {
			return true
		}
	}
	return false
}

func sameMAC(what string, want *current.Interface, l netlink.Link) error {
	if want.Mac == "" {
		return nil
	}
	if got := l.Attrs().HardwareAddr.String(); got != want.Mac {
		return fmt.Errorf("podlab-bridge: %s %q has MAC %s, prevResult says %s", what, l.Attrs().Name, got, want.Mac)
	}
	return nil
}
