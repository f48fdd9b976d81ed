package cni

import (
	"encoding/json"
	"fmt"

	"github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/pkg/version"
)

// PluginType is the "type" of podlab's own bridge plugin in a network configuration.
const PluginType = "podlab-bridge"

// BinaryName is the argv[0] basename under which the podlab binary acts as the plugin.
const BinaryName = "podlab-cni-bridge"

const defaultBridge = "cni0"

// supportedVersions are the CNI spec versions podlab-bridge speaks.
var supportedVersions = version.PluginSupports("0.4.0", "1.0.0", "1.1.0")

// NetConf is the podlab-bridge configuration: the subset of the reference bridge plugin
// that flannel uses, plus podlab's ownership mark.
type NetConf struct {
	types.PluginConf
	BrName      string `json:"bridge"`
	IsGW        bool   `json:"isGateway"`
	IsDefaultGW bool   `json:"isDefaultGateway"`
	HairpinMode bool   `json:"hairpinMode"`
	MTU         int    `json:"mtu"`
	// Lab marks host veths with the alias "podlab:<lab>" so cleanup finds what podlab made.
	Lab string `json:"podlabLab,omitempty"`
}

// loadNetConf decodes and validates a plugin configuration (stdin of the plugin).
func loadNetConf(data []byte) (*NetConf, error) {
	n := &NetConf{BrName: defaultBridge}
	if err := json.Unmarshal(data, n); err != nil {
		return nil, types.NewError(types.ErrDecodingFailure, fmt.Sprintf("podlab-bridge: decode network config: %v", err), "")
	}
	if n.IsDefaultGW {
		n.IsGW = true
	}
	if n.MTU < 0 || n.MTU > 65535 {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, fmt.Sprintf("podlab-bridge: mtu %d out of range 0..65535", n.MTU), "")
	}
	if n.BrName == "" || len(n.BrName) > 15 {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, fmt.Sprintf("podlab-bridge: bridge name %q must be 1..15 characters", n.BrName), "")
	}
	if n.IPAM.Type != "" && n.IPAM.Type != "host-local" {
		return nil, types.NewError(types.ErrInvalidNetworkConfig,
			fmt.Sprintf("podlab-bridge: ipam type %q is not supported (only host-local, run in-process)", n.IPAM.Type), "")
	}
	if n.IPAM.Type == "" {
		return nil, types.NewError(types.ErrInvalidNetworkConfig, "podlab-bridge: ipam section with type host-local is required", "")
	}
	return n, nil
}

// hostAlias is the link alias that marks a host veth as podlab's.
func hostAlias(lab string) string {
	if lab == "" {
		return ""
	}
	return "podlab:" + lab
}

// CNI 1.1 STATUS error codes (not yet named by the cni types package).
const (
	errPluginNotAvailable        uint = 50
	errLimitedConnectivityStatus uint = 51
)
