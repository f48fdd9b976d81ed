package cni

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
)

// HostVethName is the node-side name of the veth of attachment (containerID, ifName):
// "veth" + 8 hex digits, stable so DEL and GC can find it without state.
func HostVethName(containerID, ifName string) string {
	sum := sha256.Sum256([]byte(containerID + "/" + ifName))
	return "veth" + hex.EncodeToString(sum[:4])
}

// podMAC derives the pod interface MAC from its IPv4 address (0a:58:<ip>), the
// kubenet/OVN convention: stable across redeploys and readable in a packet capture.
func podMAC(ip net.IP, containerID, ifName string) net.HardwareAddr {
	if v4 := ip.To4(); v4 != nil {
		return net.HardwareAddr{0x0a, 0x58, v4[0], v4[1], v4[2], v4[3]}
	}
	return hashMAC("pod/" + containerID + "/" + ifName)
}

// hostMAC is the node-side veth MAC: set by us so the result needs no extra lookup.
func hostMAC(containerID, ifName string) net.HardwareAddr {
	return hashMAC("host/" + containerID + "/" + ifName)
}

// hashMAC returns a locally administered unicast MAC derived from s.
func hashMAC(s string) net.HardwareAddr {
	sum := sha256.Sum256([]byte(s))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = (mac[0] &^ 0x01) | 0x02
	return mac
}
