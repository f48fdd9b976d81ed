package cni

import (
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// errExists marks an ADD of an interface that is already there.
var errExists = errors.New("already exists")

// vethSpec is one pod attachment's veth pair.
type vethSpec struct {
	HostName string
	HostMAC  net.HardwareAddr
	PodName  string // CNI_IFNAME
	PodMAC   net.HardwareAddr
	MTU      int
	Alias    string
	Hairpin  bool
}

// addVeth creates the pair from the node namespace with the pod end created directly in
// the pod namespace under its final name (no temporary name, no move, no rename), the
// host end up and enslaved to the bridge. An existing interface on either side fails.
func addVeth(s vethSpec, br *netlink.Bridge, podNS ns.NetNS) (netlink.Link, error) {
	la := netlink.NewLinkAttrs()
	la.Name = s.HostName
	la.MTU = s.MTU
	la.HardwareAddr = s.HostMAC
	la.Flags = net.FlagUp
	la.MasterIndex = br.Index
	veth := netlink.NewVeth(la)
	veth.PeerName = s.PodName
	veth.PeerHardwareAddr = s.PodMAC
	veth.PeerNamespace = netlink.NsFd(int(podNS.Fd()))

	if err := netlink.LinkAdd(veth); err != nil {
		if errors.Is(err, syscall.EEXIST) {
			if _, lerr := netlink.LinkByName(s.HostName); lerr == nil {
				return nil, fmt.Errorf("host veth %q %w in the node namespace", s.HostName, errExists)
			}
			return nil, fmt.Errorf("interface %q %w in netns %q", s.PodName, errExists, podNS.Path())
		}
		if veth.Index != 0 {
			_ = netlink.LinkDel(veth)
		}
		return nil, fmt.Errorf("create veth %q (peer %q in %q) on bridge %q: %w", s.HostName, s.PodName, podNS.Path(), br.Name, err)
	}
	if veth.Index == 0 {
		return nil, fmt.Errorf("veth %q vanished right after creation", s.HostName)
	}
	// The kernel ignores IFLA_IFALIAS in RTM_NEWLINK, so the mark costs a second message.
	if s.Alias != "" {
		if err := netlink.LinkSetAlias(veth, s.Alias); err != nil {
			_ = netlink.LinkDel(veth)
			return nil, fmt.Errorf("set alias %q on %q: %w", s.Alias, s.HostName, err)
		}
	}
	if s.Hairpin {
		if err := netlink.LinkSetHairpin(veth, true); err != nil {
			_ = netlink.LinkDel(veth)
			return nil, fmt.Errorf("set hairpin mode on %q: %w", s.HostName, err)
		}
	}
	return veth, nil
}

// delHostVeth removes the host end if it is still there (deleting one end deletes both).
func delHostVeth(name string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("look up host veth %q: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil && !errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("delete host veth %q: %w", name, err)
	}
	return nil
}
