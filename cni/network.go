package cni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/pkg/ns"
)

// NodeConfig describes one node's pod network.
type NodeConfig struct {
	Lab, Node   string
	NodeNetns   string       // path of the node's netns; every plugin runs inside it
	Dir         string       // per-lab per-node state dir: net.d/, cache/, ipam/, bin/
	Subnet      netip.Prefix // node pod subnet, e.g. 10.244.1.0/24; gateway is .1
	ClusterCIDR netip.Prefix // whole pod CIDR (route in pods), e.g. 10.244.0.0/16
	MTU         int
	Plugins     string   // "podlab" (default) or "bridge"
	CNIPath     []string // for "bridge": default ["/usr/lib/cni", "/opt/cni/bin"]
	Bridge      string   // bridge name, default "cni0"
}

// NodeNetwork invokes CNI for one node like a container runtime would: libcni with the
// node's conflist, results cached under Dir/cache, every plugin run in the node netns.
// It is safe for concurrent use.
type NodeNetwork struct {
	cfg  NodeConfig
	conf []byte
	list *libcni.NetworkConfigList
	cni  *libcni.CNIConfig
}

// Attachment is one pod interface.
type Attachment struct {
	ContainerID, Netns, IfName string     // IfName defaults to "eth0"
	IP                         netip.Addr // requested address (IP= in CNI_ARGS), optional
	PodNamespace, PodName      string
}

// Result is what an ADD gave the pod.
type Result struct {
	IP       netip.Prefix
	Gateway  netip.Addr
	MAC      string
	HostVeth string
	Raw      []byte // the CNI result JSON
}

// DefaultCNIPath is where the reference plugins are looked for.
var DefaultCNIPath = []string{"/usr/lib/cni", "/opt/cni/bin"}

// NewNodeNetwork writes Dir/net.d/10-podlab.conflist and loads it with libcni.
func NewNodeNetwork(cfg NodeConfig) (*NodeNetwork, error) {
	if cfg.Plugins == "" {
		cfg.Plugins = PluginsPodlab
	}
	if cfg.Bridge == "" {
		cfg.Bridge = defaultBridge
	}
	if len(cfg.CNIPath) == 0 {
		cfg.CNIPath = DefaultCNIPath
	}
	if cfg.NodeNetns == "" || cfg.Dir == "" {
		return nil, fmt.Errorf("cni: node %q: NodeNetns and Dir are required", cfg.Node)
	}
	for _, d := range []string{"net.d", "cache", "ipam", "bin"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o755); err != nil {
			return nil, fmt.Errorf("cni: node %q: %w", cfg.Node, err)
		}
	}
	exec := &pluginExec{}
	path := cfg.CNIPath
	cniVersion := "1.1.0"
	if cfg.Plugins == PluginsPodlab {
		// A runtime that execs plugins finds podlab-bridge in bin/ (a link to podlab).
		path = append([]string{filepath.Join(cfg.Dir, "bin")}, path...)
		linkSelf(filepath.Join(cfg.Dir, "bin", PluginType))
	} else {
		v, err := negotiateVersion(exec, "bridge", path)
		if err != nil {
			return nil, fmt.Errorf("cni: node %q: %w", cfg.Node, err)
		}
		cniVersion = v
	}
	conf, err := renderConfList(cfg, cniVersion, filepath.Join(cfg.Dir, "ipam"))
	if err != nil {
		return nil, fmt.Errorf("cni: %w", err)
	}
	file := filepath.Join(cfg.Dir, "net.d", ConfListFile)
	// Written aside and renamed over: the supervisor and deploy load a node's network
	// at the same time, and a reader must never see the file truncated.
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+ConfListFile+".*")
	if err == nil {
		_, err = tmp.Write(conf)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), file)
		}
		if err != nil {
			os.Remove(tmp.Name())
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cni: node %q: write %s: %w", cfg.Node, file, err)
	}
	list, err := libcni.ConfListFromFile(file)
	if err != nil {
		return nil, fmt.Errorf("cni: node %q: load %s: %w", cfg.Node, file, err)
	}
	return &NodeNetwork{
		cfg:  cfg,
		conf: conf,
		list: list,
		cni:  libcni.NewCNIConfigWithCacheDir(path, filepath.Join(cfg.Dir, "cache"), exec),
	}, nil
}

// negotiateVersion picks the newest spec version both podlab and the exec'd plugin
// speak (Debian 12's plugins stop at 1.0.0).
func negotiateVersion(exec invoke.Exec, plugin string, path []string) (string, error) {
	bin, err := exec.FindInPath(plugin, path)
	if err != nil {
		return "", fmt.Errorf("find CNI plugin %q in %v: %w", plugin, path, err)
	}
	info, err := invoke.GetVersionInfo(context.Background(), bin, exec)
	if err != nil {
		return "", fmt.Errorf("ask %s for its versions: %w", bin, err)
	}
	have := map[string]bool{}
	for _, v := range info.SupportedVersions() {
		have[v] = true
	}
	for _, v := range []string{"1.1.0", "1.0.0", "0.4.0"} {
		if have[v] {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s supports none of 1.1.0, 1.0.0, 0.4.0 (has %v)", bin, info.SupportedVersions())
}

// linkSelf points path at the running executable, best effort.
func linkSelf(path string) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	if cur, err := os.Readlink(path); err == nil && cur == self {
		return
	}
	_ = os.Remove(path)
	_ = os.Symlink(self, path)
}

// ConfList is the rendered network configuration list.
func (n *NodeNetwork) ConfList() []byte { return append([]byte(nil), n.conf...) }

// CacheDir is where libcni keeps the results of this node's attachments.
func (n *NodeNetwork) CacheDir() string { return filepath.Join(n.cfg.Dir, "cache") }

func (n *NodeNetwork) runtimeConf(a Attachment) *libcni.RuntimeConf {
	if a.IfName == "" {
		a.IfName = "eth0"
	}
	args := [][2]string{
		{"IgnoreUnknown", "1"},
		{"K8S_POD_NAMESPACE", a.PodNamespace},
		{"K8S_POD_NAME", a.PodName},
		{"K8S_POD_INFRA_CONTAINER_ID", a.ContainerID},
	}
	if a.IP.IsValid() {
		args = append(args, [2]string{"IP", a.IP.String()})
	}
	return &libcni.RuntimeConf{ContainerID: a.ContainerID, NetNS: a.Netns, IfName: a.IfName, Args: args}
}

// inNode runs fn on a thread switched into the node namespace. In-process plugins see it
// as their current namespace; exec'd plugins inherit it because the child is forked from
// that (locked) thread.
func (n *NodeNetwork) inNode(fn func() error) error {
	nodeNS, err := ns.GetNS(n.cfg.NodeNetns)
	if err != nil {
		return fmt.Errorf("cni: node %q: open netns %q: %w", n.cfg.Node, n.cfg.NodeNetns, err)
	}
	defer nodeNS.Close()
	return nodeNS.Do(func(ns.NetNS) error { return fn() })
}

// Add attaches a pod (CNI ADD of the node's network list).
func (n *NodeNetwork) Add(ctx context.Context, a Attachment) (*Result, error) {
	rt := n.runtimeConf(a)
	var res types.Result
	err := n.inNode(func() error {
		var err error
		res, err = n.cni.AddNetworkList(ctx, n.list, rt)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("cni: node %q: add pod %s/%s (%s): %w", n.cfg.Node, a.PodNamespace, a.PodName, a.ContainerID, err)
	}
	return summarize(res, rt.IfName, n.cfg.Bridge)
}

// Check verifies an attachment against its cached ADD result (CNI CHECK).
func (n *NodeNetwork) Check(ctx context.Context, a Attachment) error {
	rt := n.runtimeConf(a)
	err := n.inNode(func() error { return n.cni.CheckNetworkList(ctx, n.list, rt) })
	if err != nil {
		return fmt.Errorf("cni: node %q: check pod %s/%s (%s): %w", n.cfg.Node, a.PodNamespace, a.PodName, a.ContainerID, err)
	}
	return nil
}

// Del detaches a pod (CNI DEL). It succeeds when the pod or its namespace is gone.
func (n *NodeNetwork) Del(ctx context.Context, a Attachment) error {
	rt := n.runtimeConf(a)
	err := n.inNode(func() error { return n.cni.DelNetworkList(ctx, n.list, rt) })
	if err != nil {
		return fmt.Errorf("cni: node %q: delete pod %s/%s (%s): %w", n.cfg.Node, a.PodNamespace, a.PodName, a.ContainerID, err)
	}
	return nil
}

// GC removes every attachment state not in valid (CNI GC).
func (n *NodeNetwork) GC(ctx context.Context, valid []Attachment) error {
	args := &libcni.GCArgs{}
	for _, a := range valid {
		rt := n.runtimeConf(a)
		args.ValidAttachments = append(args.ValidAttachments, types.GCAttachment{ContainerID: rt.ContainerID, IfName: rt.IfName})
	}
	return n.inNode(func() error { return n.cni.GCNetworkList(ctx, n.list, args) })
}

// Status reports whether the node can attach pods now (CNI STATUS).
func (n *NodeNetwork) Status(ctx context.Context) error {
	return n.inNode(func() error { return n.cni.GetStatusNetworkList(ctx, n.list) })
}

// CachedResult returns the libcni-cached ADD result of an attachment, nil if none.
func (n *NodeNetwork) CachedResult(a Attachment) (*Result, error) {
	rt := n.runtimeConf(a)
	res, err := n.cni.GetNetworkListCachedResult(n.list, rt)
	if err != nil || res == nil {
		return nil, err
	}
	return summarize(res, rt.IfName, n.cfg.Bridge)
}

// summarize extracts what podlab needs from a CNI result.
func summarize(res types.Result, ifName, bridge string) (*Result, error) {
	r, err := current.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("cni: convert result: %w", err)
	}
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	out := &Result{Raw: raw}
	for _, i := range r.Interfaces {
		switch {
		case i.Sandbox != "" && i.Name == ifName:
			out.MAC = i.Mac
		case i.Sandbox == "" && i.Name != bridge:
			out.HostVeth = i.Name
		}
	}
	for _, ipc := range r.IPs {
		addr, ok := netip.AddrFromSlice(ipc.Address.IP)
		if !ok {
			continue
		}
		ones, _ := ipc.Address.Mask.Size()
		out.IP = netip.PrefixFrom(addr.Unmap(), ones)
		if gw, ok := netip.AddrFromSlice(ipc.Gateway); ok {
			out.Gateway = gw.Unmap()
		}
		break
	}
	if !out.IP.IsValid() {
		return nil, errors.New("cni: result has no IP address")
	}
	return out, nil
}
