package kubelet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"syscall"
)

// Probe traffic is counted apart so that a pod's rate shows what a learner sent, not
// kubelet's checks (about 860 B/s on every serving pod). Every probe socket carries
// ProbeMark; a small table in each node's namespace copies the mark to the
// connection and counts, per pod address, the packets the node sent (the probes) and
// received (the answers) on marked connections. The node's own other traffic (a
// learner's curl from the node) is not marked, so it stays in the rate.
//
// Table podlab-probes (ip), owned by kubelet alone:
//
//	hook    priority  does
//	output  filter    probe socket's mark -> ct mark; count by ip daddr in @tx
//	input   filter    ct mark -> count by ip saddr in @rx
//
// Counts are of IP packets: an interface also counts each frame's 14-byte Ethernet
// header, which ProbeTraffic adds back from the packet count.
const (
	// ProbeMark is the socket mark of every probe connection. It must stay clear of
	// kube-proxy's masquerade bit (0x4000).
	ProbeMark = 0x100000

	probeTable = "podlab-probes"
	// ethHeader is what a veth counts per frame above the IP packet.
	ethHeader = 14
)

// probeRuleset makes the table again, empty: its counters start from zero when the
// supervisor starts, which a reader of rates sees as a counter that went back.
var probeRuleset = fmt.Sprintf(`table ip %[1]s {}
delete table ip %[1]s
table ip %[1]s {
	set tx { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 10m; counter; }
	set rx { type ipv4_addr; size 65535; flags dynamic,timeout; timeout 10m; counter; }
	chain out { type filter hook output priority filter; meta mark %#[2]x ct mark set %#[2]x update @tx { ip daddr }; }
	chain in { type filter hook input priority filter; ct mark %#[2]x update @rx { ip saddr }; }
}
`, probeTable, ProbeMark)

// markProbe is a net.Dialer's Control: it marks the probe's socket.
func markProbe(network, address string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_MARK, ProbeMark)
	})
	if err != nil {
		return err
	}
	return serr
}

// ensureProbeTable programs the table in node n's namespace.
func ensureProbeTable(ctx context.Context, n *Node) error {
	cmd := exec.CommandContext(ctx, "nsenter", "--net="+n.Netns, "--", "nft", "-f", "-")
	cmd.Stdin = bytes.NewBufferString(probeRuleset)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubelet: node %s: table %s: %w: %s", n.Name, probeTable, err, bytes.TrimSpace(out))
	}
	return nil
}

// ProbeCount is the probe traffic of one pod address, as its interface counts it.
type ProbeCount struct {
	RxBytes, TxBytes, RxPackets, TxPackets uint64 // Rx: what the pod received (probes)
}

// ProbeTraffic reads every node's probe counters, by pod address: one nft listing
// per node. The tables are made at the first read, not when probing starts: nobody
// pays for them until a reader (the TUI, `get -o wide`) asks, and a deploy's first
// probes never wait for an nft process. Until then probes are marked but not counted.
func (k *Kubelet) ProbeTraffic(ctx context.Context) (map[netip.Addr]ProbeCount, error) {
	out := map[netip.Addr]ProbeCount{}
	for i := range k.cfg.Nodes {
		n := &k.cfg.Nodes[i]
		if _, made := k.probeTables.LoadOrStore(n.Name, true); !made {
			// Without the table probes still work; only their traffic is not told apart.
			if err := ensureProbeTable(ctx, n); err != nil {
				k.probeTables.Delete(n.Name)
				k.cfg.Info("kubelet: probe traffic is not counted apart", "node", n.Name, "err", err)
				continue
			}
		}
		js, err := exec.CommandContext(ctx, "nsenter", "--net="+n.Netns, "--", "nft", "-j", "list", "table", "ip", probeTable).Output()
		if err != nil {
			continue // not programmed yet (probes wait for the network)
		}
		if err := parseProbeSets(js, out); err != nil {
			return nil, fmt.Errorf("kubelet: node %s: table %s: %w", n.Name, probeTable, err)
		}
	}
	return out, nil
}

// parseProbeSets adds the elements of the tx and rx sets in nft's JSON listing to out.
func parseProbeSets(js []byte, out map[netip.Addr]ProbeCount) error {
	var doc struct {
		Nftables []struct {
			Set *struct {
				Name string `json:"name"`
				Elem []struct {
					Elem struct {
						Val     string `json:"val"`
						Counter struct {
							Packets uint64 `json:"packets"`
							Bytes   uint64 `json:"bytes"`
						} `json:"counter"`
					} `json:"elem"`
				} `json:"elem"`
			} `json:"set"`
		} `json:"nftables"`
	}
	if err := json.Unmarshal(js, &doc); err != nil {
		return err
	}
	for _, o := range doc.Nftables {
		if o.Set == nil || (o.Set.Name != "tx" && o.Set.Name != "rx") {
			continue
		}
		for _, e := range o.Set.Elem {
			ip, err := netip.ParseAddr(e.Elem.Val)
			if err != nil {
				return fmt.Errorf("set %s: element %q: %w", o.Set.Name, e.Elem.Val, err)
			}
			c := out[ip]
			b := e.Elem.Counter.Bytes + ethHeader*e.Elem.Counter.Packets
			if o.Set.Name == "tx" { // the node sent it: the pod received it
				c.RxBytes += b
				c.RxPackets += e.Elem.Counter.Packets
			} else {
				c.TxBytes += b
				c.TxPackets += e.Elem.Counter.Packets
			}
			out[ip] = c
		}
	}
	return nil
}
