package cni

import (
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// The core functions below run with the node namespace as the current namespace of the
// calling thread (exec'd: the process was started there; in-process: the caller is
// inside ns.Do for the node). They return results instead of printing them.

// Add attaches the pod: IPAM first (so the pod MAC can derive from its IP), then the
// bridge, the veth pair and the pod-side addresses and routes. Any failure after the
// allocation releases it and removes what was created.
func Add(args *skel.CmdArgs) (types.Result, error) {
	n, err := loadNetConf(args.StdinData)
	if err != nil {
		return nil, err
	}
	podNS, err := ns.GetNS(args.Netns)
	if err != nil {
		return nil, fmt.Errorf("podlab-bridge: open netns %q: %w", args.Netns, err)
	}
	defer podNS.Close()

	hostName := HostVethName(args.ContainerID, args.IfName)
	if _, err := netlink.LinkByName(hostName); err == nil {
		return nil, fmt.Errorf("podlab-bridge: attachment %s/%s %w: host veth %q is present", args.ContainerID, args.IfName, errExists, hostName)
	}
	ipamResult, err := ipamAdd(args)
	if err != nil {
		return nil, err
	}
	if len(ipamResult.IPs) == 0 {
		_ = ipamDel(args)
		return nil, errors.New("podlab-bridge: IPAM returned no address")
	}
	ok := false
	defer func() {
		if !ok {
			_ = ipamDel(args)
		}
	}()

	result := &current.Result{
		CNIVersion: current.ImplementedSpecVersion,
		IPs:        ipamResult.IPs,
		Routes:     ipamResult.Routes,
		DNS:        ipamResult.DNS,
	}
	gws := applyGateways(result, n)

	br, err := ensureBridge(n.BrName, n.MTU, gws)
	if err != nil {
		return nil, fmt.Errorf("podlab-bridge: %w", err)
	}
	spec := vethSpec{
		HostName: hostName,
		HostMAC:  hostMAC(args.ContainerID, args.IfName),
		PodName:  args.IfName,
		PodMAC:   podMAC(result.IPs[0].Address.IP, args.ContainerID, args.IfName),
		MTU:      n.MTU,
		Alias:    hostAlias(n.Lab),
		Hairpin:  n.HairpinMode,
	}
	veth, err := addVeth(spec, br, podNS)
	if err != nil && !errors.Is(err, errExists) {
		// Maybe the bridge we remembered is gone: rebuild it once and retry.
		forgetBridge(n.BrName)
		if br, err = ensureBridge(n.BrName, n.MTU, gws); err == nil {
			veth, err = addVeth(spec, br, podNS)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("podlab-bridge: %w", err)
	}
	if err := configurePod(podNS, args.IfName, result.IPs, result.Routes); err != nil {
		_ = netlink.LinkDel(veth)
		return nil, fmt.Errorf("podlab-bridge: %w", err)
	}

	result.Interfaces = []*current.Interface{
		{Name: br.Name, Mac: br.HardwareAddr.String()},
		{Name: spec.HostName, Mac: spec.HostMAC.String()},
		{Name: args.IfName, Mac: spec.PodMAC.String(), Sandbox: args.Netns},
	}
	if n.DNS.Nameservers != nil || n.DNS.Search != nil || n.DNS.Options != nil || n.DNS.Domain != "" {
		result.DNS = n.DNS
	}
	ok = true
	return result.GetAsVersion(n.CNIVersion)
}

// applyGateways fills in gateways (.1 of the subnet when IPAM gave none), points every
// address at the pod interface (index 2) and adds the default route for
// isDefaultGateway. It returns the addresses the bridge must carry.
func applyGateways(result *current.Result, n *NetConf) []net.IPNet {
	var gws []net.IPNet
	haveDefault := map[bool]bool{}
	for _, r := range result.Routes {
		if ones, _ := r.Dst.Mask.Size(); ones == 0 && r.GW != nil {
			haveDefault[r.Dst.IP.To4() != nil] = true
		}
	}
	for _, ipc := range result.IPs {
		ipc.Interface = current.Int(2)
		v4 := ipc.Address.IP.To4() != nil
		if ipc.Gateway == nil && n.IsGW {
			ipc.Gateway = nextIP(ipc.Address.IP.Mask(ipc.Address.Mask))
		}
		if n.IsDefaultGW && !haveDefault[v4] && ipc.Gateway != nil {
			def := net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
			if !v4 {
				def = net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
			}
			result.Routes = append(result.Routes, &types.Route{Dst: def, GW: ipc.Gateway})
			haveDefault[v4] = true
		}
		if n.IsGW && ipc.Gateway != nil {
			gws = append(gws, net.IPNet{IP: ipc.Gateway, Mask: ipc.Address.Mask})
		}
	}
	return gws
}

// Del detaches the pod. It succeeds when the namespace, the interface or the allocation
// is already gone, so it can be called any number of times.
func Del(args *skel.CmdArgs) error {
	if _, err := loadNetConf(args.StdinData); err != nil {
		return err
	}
	var errs []error
	if args.Netns != "" {
		err := ns.WithNetNSPath(args.Netns, func(ns.NetNS) error {
			l, err := netlink.LinkByName(args.IfName)
			if err != nil {
				var nf netlink.LinkNotFoundError
				if errors.As(err, &nf) {
					return nil
				}
				return fmt.Errorf("look up %q in %q: %w", args.IfName, args.Netns, err)
			}
			if err := netlink.LinkDel(l); err != nil {
				return fmt.Errorf("delete %q in %q: %w", args.IfName, args.Netns, err)
			}
			return nil
		})
		if err != nil && !netnsGone(err) {
			errs = append(errs, fmt.Errorf("podlab-bridge: %w", err))
		}
	}
	// The host end may outlive a pod namespace that is gone but still pinned elsewhere.
	if err := delHostVeth(HostVethName(args.ContainerID, args.IfName)); err != nil {
		errs = append(errs, fmt.Errorf("podlab-bridge: %w", err))
	}
	if err := ipamDel(args); err != nil {
		errs = append(errs, fmt.Errorf("podlab-bridge: %w", err))
	}
	return errors.Join(errs...)
}

// netnsGone reports whether err says the namespace path no longer names a namespace.
func netnsGone(err error) bool {
	var notExist ns.NSPathNotExistErr
	var notNS ns.NSPathNotNSErr
	return errors.As(err, &notExist) || errors.As(err, &notNS)
}

// GC releases IPAM allocations and removes host veths of attachments that are not in
// cni.dev/valid-attachments.
func GC(args *skel.CmdArgs) error {
	n, err := loadNetConf(args.StdinData)
	if err != nil {
		return err
	}
	errs := []error{ipamGC(args, n.ValidAttachments)}
	keep := map[string]bool{}
	for _, a := range n.ValidAttachments {
		keep[HostVethName(a.ContainerID, a.IfName)] = true
	}
	if err := gcVeths(n, keep); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// gcVeths deletes ports of the bridge that look like ours (veth<8 hex>, and with our
// alias when the config names a lab) and belong to no valid attachment.
func gcVeths(n *NetConf, keep map[string]bool) error {
	br, err := netlink.LinkByName(n.BrName)
	if err != nil {
		return nil // no bridge, no ports
	}
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("podlab-bridge: list links for GC: %w", err)
	}
	var errs []error
	for _, l := range links {
		a := l.Attrs()
		if _, isVeth := l.(*netlink.Veth); !isVeth || a.MasterIndex != br.Attrs().Index || keep[a.Name] || !isHostVethName(a.Name) {
			continue
		}
		if n.Lab != "" && a.Alias != hostAlias(n.Lab) {
			continue
		}
		if err := netlink.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("podlab-bridge: GC delete stale veth %q: %w", a.Name, err))
		}
	}
	return errors.Join(errs...)
}

func isHostVethName(s string) bool {
	if len(s) != 12 || s[:4] != "veth" {
		return false
	}
	for _, c := range s[4:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Status answers "could an ADD succeed now": the config is valid, the bridge name is
// not taken by something else, and IPAM has a free address.
func Status(args *skel.CmdArgs) error {
	n, err := loadNetConf(args.StdinData)
	if err != nil {
		return err
	}
	if l, err := netlink.LinkByName(n.BrName); err == nil {
		if _, ok := l.(*netlink.Bridge); !ok {
			return types.NewError(errPluginNotAvailable, fmt.Sprintf("podlab-bridge: %q exists but is not a bridge", n.BrName), "")
		}
	}
	return ipamStatus(args)
}

// PluginMain is the entry point of the exec'd plugin (podlab run as podlab-cni-bridge).
func PluginMain() {
	// Keep main on the thread group leader: the process must stay in the namespace it
	// was started in (the node's) while the plugin switches into the pod's.
	runtime.LockOSThread()
	skel.PluginMainFuncs(skel.CNIFuncs{
		Add: func(args *skel.CmdArgs) error {
			r, err := Add(args)
			if err != nil {
				return err
			}
			return r.Print()
		},
		Del:    Del,
		Check:  Check,
		GC:     GC,
		Status: Status,
	}, supportedVersions, "podlab-bridge: podlab's flannel-style bridge CNI plugin")
}
