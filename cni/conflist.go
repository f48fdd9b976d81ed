package cni

import (
	"encoding/json"
	"fmt"
	"net/netip"
)

// NetworkName is the name of every podlab network configuration (one per node).
const NetworkName = "podlab"

// ConfListFile is the configuration file under a node's net.d/.
const ConfListFile = "10-podlab.conflist"

// Plugin sets a node can use.
const (
	PluginsPodlab = "podlab" // podlab-bridge, dispatched in-process
	PluginsBridge = "bridge" // reference bridge + host-local + loopback, exec'd
)

type confList struct {
	CNIVersion string `json:"cniVersion"`
	Name       string `json:"name"`
	Plugins    []any  `json:"plugins"`
}

type bridgeConf struct {
	Type        string   `json:"type"`
	Bridge      string   `json:"bridge"`
	IsGateway   bool     `json:"isGateway"`
	IsDefaultGW bool     `json:"isDefaultGateway"`
	HairpinMode bool     `json:"hairpinMode"`
	MTU         int      `json:"mtu,omitempty"`
	Lab         string   `json:"podlabLab,omitempty"`
	IPAM        ipamConf `json:"ipam"`
}

type ipamConf struct {
	Type    string          `json:"type"`
	Ranges  [][]ipamRange   `json:"ranges"`
	Routes  []ipamRouteConf `json:"routes,omitempty"`
	DataDir string          `json:"dataDir"`
}

type ipamRange struct {
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway,omitempty"`
}

type ipamRouteConf struct {
	Dst string `json:"dst"`
	GW  string `json:"gw,omitempty"`
}

type typeOnly struct {
	Type string `json:"type"`
}

// renderConfList builds the node's network configuration list, flannel style: one
// bridge with the gateway (.1 of the node subnet), default route via it, a route to the
// whole cluster CIDR, hairpin on; for the reference set, loopback chained after.
func renderConfList(cfg NodeConfig, cniVersion, ipamDir string) ([]byte, error) {
	if !cfg.Subnet.IsValid() {
		return nil, fmt.Errorf("node %q: pod subnet is not set", cfg.Node)
	}
	gw := gatewayOf(cfg.Subnet)
	ipam := ipamConf{
		Type:    "host-local",
		Ranges:  [][]ipamRange{{{Subnet: cfg.Subnet.Masked().String(), Gateway: gw.String()}}},
		DataDir: ipamDir,
	}
	if cfg.ClusterCIDR.IsValid() {
		ipam.Routes = []ipamRouteConf{{Dst: cfg.ClusterCIDR.Masked().String()}}
	}
	br := bridgeConf{
		Bridge:      cfg.Bridge,
		IsGateway:   true,
		IsDefaultGW: true,
		HairpinMode: true,
		MTU:         cfg.MTU,
		IPAM:        ipam,
	}
	list := confList{CNIVersion: cniVersion, Name: NetworkName}
	switch cfg.Plugins {
	case PluginsPodlab:
		br.Type = PluginType
		br.Lab = cfg.Lab
		list.Plugins = []any{br}
	case PluginsBridge:
		br.Type = "bridge"
		// The reference CHECK (Debian 12's plugins 1.1.1) cannot find a route whose gw
		// was left implicit; naming the gateway gives the same kernel route.
		for i := range br.IPAM.Routes {
			br.IPAM.Routes[i].GW = gw.String()
		}
		list.Plugins = []any{br, typeOnly{Type: "loopback"}}
	default:
		return nil, fmt.Errorf("node %q: plugins %q: want %q or %q", cfg.Node, cfg.Plugins, PluginsPodlab, PluginsBridge)
	}
	out, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// gatewayOf is the gateway podlab puts on a node bridge: the first address of the subnet.
func gatewayOf(subnet netip.Prefix) netip.Addr { return subnet.Masked().Addr().Next() }
