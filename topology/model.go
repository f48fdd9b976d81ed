// Package topology owns lab file v1: its types, decoding with source positions,
// defaults and validation. It produces a Lab, pure data that the plan package turns
// into what must exist. It knows YAML and Kubernetes types, never netlink or Docker.
package topology

import (
	"encoding/json"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
)

// Runtimes a lab can run on.
const (
	RuntimeNetns  = "netns"
	RuntimeDocker = "docker"
)

// Overlays between nodes.
const (
	OverlayVXLAN  = "vxlan"
	OverlayHostGW = "host-gw"
)

// CNI plugin sets a lab can use for pod interfaces.
const (
	CNIPodlab = "podlab" // podlab's own plugin, dispatched in-process
	CNIBridge = "bridge" // the reference bridge/host-local/loopback plugins from CNI_PATH, exec'd
)

// Node roles.
const (
	RoleControlPlane = "control-plane"
	RoleWorker       = "worker"
)

// Pos is where something was written: file, 1-based line and column.
type Pos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// Lab is a validated lab file with every default filled in.
type Lab struct {
	Name    string  `json:"name"`
	File    string  `json:"file"`              // absolute path of the lab file
	Runtime string  `json:"runtime,omitempty"` // "" when the file does not say: the configured default
	Cluster Cluster `json:"cluster"`
	Nodes   []Node  `json:"nodes"`
	Hosts   []Host  `json:"hosts,omitempty"`
	// Pods from the shorthand, Pod manifests and Deployment replicas, in the order
	// they were written (Deployment replicas in replica order).
	Pods []Pod `json:"pods,omitempty"`
	// Namespaces is every Kubernetes namespace in the lab, sorted, "default" included.
	Namespaces []string `json:"namespaces"`
	// Objects is every manifest document in file order, applied by this version or not.
	Objects []Object `json:"objects,omitempty"`
	// Checks are the lab's self-checks (`podlab check`), in file order.
	Checks []Check `json:"checks,omitempty"`
	// Warnings are what an API server accepts but a user should know: a manifest pod
	// that no node fits stays Pending (it is not among Pods; the scheduler keeps it).
	Warnings Errors `json:"warnings,omitempty"`
}

// Cluster holds the lab-wide network settings.
type Cluster struct {
	PodCIDR          netip.Prefix `json:"podCIDR"`          // default 10.244.0.0/16
	NodeCIDRMaskSize int          `json:"nodeCIDRMaskSize"` // default 24: one /24 per node
	ServiceCIDR      netip.Prefix `json:"serviceCIDR"`      // default 10.96.0.0/12
	Domain           string       `json:"domain"`           // default cluster.local
	Overlay          string       `json:"overlay"`          // vxlan (default) | host-gw
	Underlay         netip.Prefix `json:"underlay"`         // default 172.30.0.0/24
	CNI              string       `json:"cni"`              // podlab (default) | bridge
	MTU              int          `json:"mtu"`              // underlay MTU, default 1500
	// LoadBalancerPool is where LoadBalancer Services get their IPs (MetalLB-style):
	// ranges inside the underlay, answered from a node. Empty: they stay pending.
	LoadBalancerPool []netip.Prefix       `json:"loadBalancerPool,omitempty"`
	DNS              ClusterDNS           `json:"dns,omitzero"`
	NetworkPolicy    ClusterNetworkPolicy `json:"networkPolicy,omitzero"`
	Ingress          ClusterIngress       `json:"ingress,omitzero"`
}

// ClusterIngress is the ingress controller's setting.
type ClusterIngress struct {
	// Controller brings the ingress controller up at deploy even before any Ingress
	// exists (so its address is known before a lesson applies one); without it, the
	// first Ingress brings it up. Gateways always get their proxies.
	Controller bool `json:"controller,omitempty"`
}

// ClusterNetworkPolicy is how NetworkPolicy is enforced lab-wide.
type ClusterNetworkPolicy struct {
	// EnforceEstablished makes a policy change judge connections already open too (a
	// denied flow is cut at its next packet). Off, as in Calico and Cilium: only new
	// connections are judged, open ones keep flowing.
	EnforceEstablished bool `json:"enforceEstablished,omitempty"`
}

// ClusterDNS is where the cluster DNS sends names outside the cluster domain: at most
// one of a host of the lab (its DNS server, on 53) and an address inside the underlay.
// Neither: such names get SERVFAIL at once.
type ClusterDNS struct {
	UpstreamHost string         `json:"upstreamHost,omitempty"`
	UpstreamAddr netip.AddrPort `json:"upstreamAddr,omitzero"`
	Pos          Pos            `json:"pos,omitzero"` // of cluster.dns.upstream
}

// Node is a Kubernetes node: a namespace with an underlay address and a pod subnet.
type Node struct {
	Name   string            `json:"name"`
	Role   string            `json:"role"`
	Labels map[string]string `json:"labels,omitempty"`
	IP     netip.Addr        `json:"ip,omitzero"` // pinned underlay address; zero = assigned
	// PodCIDR is the node's pod subnet: node i (in file order) owns the i-th
	// nodeCIDRMaskSize subnet of the cluster's podCIDR. .1 is its gateway.
	PodCIDR netip.Prefix `json:"podCIDR"`
	Pos     Pos          `json:"pos"`
}

// Host is a machine on the underlay outside the cluster (a client, a router).
type Host struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
	IP     netip.Addr        `json:"ip,omitzero"` // pinned underlay address; zero = assigned
	Ports  []Port            `json:"ports,omitempty"`
	// Zones are what the host's authoritative DNS server (53/udp and tcp) serves: zone
	// name (lower case, no final dot) -> RFC 1035 master-file text, checked by ParseZone.
	Zones map[string]string `json:"zones,omitempty"`
	Pos   Pos               `json:"pos"`
}

// Pod is one pod, whichever way it was declared.
type Pod struct {
	Namespace    string            `json:"namespace"`
	Name         string            `json:"name"`
	Labels       map[string]string `json:"labels,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Node         string            `json:"node,omitempty"` // requested node (shorthand node or spec.nodeName)
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	IP           netip.Addr        `json:"ip,omitzero"` // pinned (shorthand ip or podlab.dev/ip annotation)
	Ports        []Port            `json:"ports,omitempty"`
	Image        string            `json:"image,omitempty"`
	Owner        string            `json:"owner,omitempty"` // e.g. "Deployment/web" for replicas
	// SecurityContext is a manifest pod's securityContext and ContainerSecurity its
	// first container's: what a container runtime applies to the pod's sandbox.
	SecurityContext   *corev1.PodSecurityContext `json:"securityContext,omitempty"`
	ContainerSecurity *corev1.SecurityContext    `json:"containerSecurityContext,omitempty"`
	Pos               Pos                        `json:"pos"`
}

// Port is a port a pod or host serves with the built-in servers.
type Port struct {
	Name     string `json:"name,omitempty"`
	Port     int    `json:"port"`
	Protocol string `json:"protocol"` // TCP | UDP | SCTP
}

// Object is one Kubernetes manifest document.
type Object struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Namespace  string          `json:"namespace,omitempty"`
	Name       string          `json:"name"`
	Applied    bool            `json:"applied"` // false: kept for later components, "not applied yet"
	Raw        json.RawMessage `json:"raw"`     // the document as JSON
	Pos        Pos             `json:"pos"`
}

// AnnotationIP pins a Pod manifest's IP.
const AnnotationIP = "podlab.dev/ip"
