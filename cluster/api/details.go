package api

import "time"

// Counters are interface packet and byte counters, as the pod (or node, host) sees
// them on its eth0: Rx is what it received.
type Counters struct {
	RxBytes   uint64 `json:"rxBytes"`
	TxBytes   uint64 `json:"txBytes"`
	RxPackets uint64 `json:"rxPackets"`
	TxPackets uint64 `json:"txPackets"`
}

// CounterSet is every counter of a lab at one moment.
type CounterSet struct {
	Time  time.Time           `json:"time"`
	Pods  map[string]Counters `json:"pods"`  // key namespace/name
	Nodes map[string]Counters `json:"nodes"` // key node name: its eth0 on the underlay
	Hosts map[string]Counters `json:"hosts"` // key host name
	// Probes is the part of Pods that kubelet's probes made (key namespace/name): a
	// rate of what a learner sent subtracts it.
	Probes map[string]Counters `json:"probes,omitempty"`
	// With services: what kube-proxy's rules counted after DNAT, summed over nodes.
	Services  map[string]PacketCount `json:"services,omitempty"`  // key namespace/name
	Endpoints map[string]PacketCount `json:"endpoints,omitempty"` // key namespace/name[:port]@ip:port
}

// PacketCount is what an nftables counter counted.
type PacketCount struct {
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// Details describe one object's network as the kernel has it, section by section.
type Details struct {
	Kind      string    `json:"kind"` // Pod, Node, Host
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name"`
	Sections  []Section `json:"sections"`
}

// Section is one titled block of text (interfaces, routes, neighbours, nft ruleset,
// resolv.conf, CNI result).
type Section struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}
