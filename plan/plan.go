// Package plan turns a validated lab into what must exist: namespaces, links,
// addresses, routes and objects. It is pure data and deterministic: the same lab file
// gives every node and pod the same addresses on every deploy, whatever order the
// runtime later creates them in. It never touches the kernel.
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/topology"
)

// Names of the lab's interfaces inside its namespaces.
const (
	UnderlayBridge = "br0"  // in the underlay namespace
	Uplink         = "eth0" // of a node or host, on the underlay
	PodBridge      = "cni0" // of a node, for its pods
	VXLANDevice    = "flannel.1"
	VXLANVNI       = 1
	VXLANPort      = 8472
	VXLANOverhead  = 50
	PodInterface   = "eth0"
)

// Plan is everything a runtime needs to build a lab.
type Plan struct {
	Lab        string            `json:"lab"`
	File       string            `json:"file"`
	Runtime    string            `json:"runtime"`
	Cluster    topology.Cluster  `json:"cluster"`
	Underlay   Underlay          `json:"underlay"`
	Nodes      []Node            `json:"nodes"`
	Hosts      []Host            `json:"hosts,omitempty"`
	Pods       []Pod             `json:"pods,omitempty"`
	Namespaces []string          `json:"namespaces"`
	Objects    []topology.Object `json:"objects,omitempty"`
	// Warnings are the lab file's warnings (manifest pods that will stay Pending).
	Warnings topology.Errors `json:"warnings,omitempty"`
	// Neighbours is how many ARP entries the lab may hold at once, machine-wide: the
	// kernel's neighbour table limits (gc_thresh) are global.
	Neighbours int `json:"neighbours"`
	// DNSUpstream is where the cluster DNS forwards names outside the cluster domain:
	// the named host's underlay address on 53, or the address the lab wrote. Zero: the
	// lab names none, and such names get SERVFAIL at once.
	DNSUpstream netip.AddrPort `json:"dnsUpstream,omitzero"`
}

// Underlay is the L2 segment nodes and hosts share, a bridge in its own namespace.
type Underlay struct {
	Netns  string       `json:"netns"`
	Bridge string       `json:"bridge"`
	Subnet netip.Prefix `json:"subnet"`
}

// Node is one Kubernetes node.
type Node struct {
	Name    string            `json:"name"`
	Role    string            `json:"role"`
	Labels  map[string]string `json:"labels"`
	Netns   string            `json:"netns"`
	IP      netip.Prefix      `json:"ip"`      // underlay address with the underlay's length
	PodCIDR netip.Prefix      `json:"podCIDR"` // this node's pod subnet
	Gateway netip.Addr        `json:"gateway"` // .1 of PodCIDR, on cni0
	VTEPMAC string            `json:"vtepMAC,omitempty"`
	PodMTU  int               `json:"podMTU"`
}

// Host is a machine on the underlay outside the cluster.
type Host struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	Netns  string            `json:"netns"`
	IP     netip.Prefix      `json:"ip"`
	Ports  []topology.Port   `json:"ports,omitempty"`
	// Zones are what the host's authoritative DNS server serves on 53/udp and tcp: zone
	// name -> RFC 1035 master-file text (dns.NewAuthority reads it). Empty: no server.
	Zones map[string]string `json:"zones,omitempty"`
}

// Pod is one pod placed on a node with its address.
type Pod struct {
	Namespace   string            `json:"namespace"`
	Name        string            `json:"name"`
	Node        string            `json:"node"`
	Netns       string            `json:"netns"`
	ContainerID string            `json:"containerID"`
	IP          netip.Addr        `json:"ip"`
	Labels      map[string]string `json:"labels,omitempty"`
	Ports       []topology.Port   `json:"ports,omitempty"`
	Image       string            `json:"image,omitempty"`
	Owner       string            `json:"owner,omitempty"`
	// SecurityContext and ContainerSecurity are the pod's and its first container's
	// securityContext, which a container runtime applies (absent in older plans).
	SecurityContext   *corev1.PodSecurityContext `json:"securityContext,omitempty"`
	ContainerSecurity *corev1.SecurityContext    `json:"containerSecurityContext,omitempty"`
}

// Sysctls every namespace of a lab starts with. Labs are IPv4-only for now: IPv6 is
// off so that a thousand new interfaces do not flood the bridges with the duplicate
// address detection, router solicitations and MLD reports of their link-local
// addresses.
func Sysctls() map[string]string {
	return map[string]string{
		"net/ipv6/conf/all/disable_ipv6":     "1",
		"net/ipv6/conf/default/disable_ipv6": "1",
	}
}

// Key is namespace/name.
func (p Pod) Key() string { return p.Namespace + "/" + p.Name }

// NetnsPrefix is the mark every namespace of a lab carries: lab names are [a-z0-9-],
// so "podlab_<lab>_" can never be the prefix of another lab's names.
func NetnsPrefix(lab string) string { return "podlab_" + lab + "_" }

// NodeNetns, HostNetns, PodNetns and UnderlayNetns name the lab's namespaces.
func NodeNetns(lab, node string) string { return NetnsPrefix(lab) + "node_" + node }
func HostNetns(lab, host string) string { return NetnsPrefix(lab) + "host_" + host }
func UnderlayNetns(lab string) string   { return NetnsPrefix(lab) + "underlay" }
func PodNetns(lab, ns, name string) string {
	n := NetnsPrefix(lab) + "pod_" + ns + "_" + name
	if len(n) > 200 { // a file name holds 255 bytes; keep it unique when shortened
		sum := sha256.Sum256([]byte(n))
		n = n[:180] + "_" + hex.EncodeToString(sum[:8])
	}
	return n
}

// Node returns the node named name.
func (p *Plan) Node(name string) (*Node, bool) {
	for i := range p.Nodes {
		if p.Nodes[i].Name == name {
			return &p.Nodes[i], true
		}
	}
	return nil, false
}

// Pod returns the pod namespace/name.
func (p *Plan) Pod(namespace, name string) (*Pod, bool) {
	for i := range p.Pods {
		if p.Pods[i].Namespace == namespace && p.Pods[i].Name == name {
			return &p.Pods[i], true
		}
	}
	return nil, false
}

// Host returns the host named name.
func (p *Plan) Host(name string) (*Host, bool) {
	for i := range p.Hosts {
		if p.Hosts[i].Name == name {
			return &p.Hosts[i], true
		}
	}
	return nil, false
}

// vtepMAC derives a stable locally administered unicast MAC for a node's VXLAN device.
func vtepMAC(lab, node string) string {
	sum := sha256.Sum256([]byte("vtep/" + lab + "/" + node))
	mac := net.HardwareAddr{0x0e, sum[0], sum[1], sum[2], sum[3], sum[4]}
	return mac.String()
}

// containerID derives the CNI container ID of a pod sandbox, like a runtime's sandbox ID.
func containerID(lab, ns, name string) string {
	sum := sha256.Sum256([]byte("sandbox/" + lab + "/" + ns + "/" + name))
	return hex.EncodeToString(sum[:16])
}

// Error is a planning failure tied to where the lab file asked for it.
func posError(pos topology.Pos, field, format string, args ...any) *topology.Error {
	return &topology.Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// ContainerID is the CNI container ID of the sandbox of pod namespace/name in lab:
// deterministic, so that a restarted supervisor finds the attachments again.
func ContainerID(lab, ns, name string) string { return containerID(lab, ns, name) }
