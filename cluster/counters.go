package cluster

import (
	"context"
	"fmt"
	"time"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"

	"podlab.dev/podlab/cni"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/runtime/netns"
)

// Counters reads every pod's, node's and host's eth0 counters. A pod's are read on the
// host end of its veth in the node namespace (one link dump per node, not a namespace
// switch per pod) and turned round: what the host end sent, the pod received.
func (s *Supervisor) Counters(ctx context.Context, withServices bool) (*CounterSet, error) {
	s.mu.RLock()
	nodes := append([]plan.Node(nil), s.plan.Nodes...)
	hosts := append([]plan.Host(nil), s.plan.Hosts...)
	byVeth := make(map[string]string, len(s.plan.Pods))
	for _, p := range s.plan.Pods {
		byVeth[cni.HostVethName(p.ContainerID, plan.PodInterface)] = p.Key()
	}
	s.mu.RUnlock()
	cs := &CounterSet{Time: time.Now(), Pods: map[string]Counters{}, Nodes: map[string]Counters{}, Hosts: map[string]Counters{}}
	for _, n := range nodes {
		links, err := linkList(n.Netns)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		for _, l := range links {
			a := l.Attrs()
			if a.Statistics == nil {
				continue
			}
			st := a.Statistics
			if key, ok := byVeth[a.Name]; ok {
				cs.Pods[key] = Counters{RxBytes: st.TxBytes, TxBytes: st.RxBytes, RxPackets: st.TxPackets, TxPackets: st.RxPackets}
			} else if a.Name == plan.Uplink {
				cs.Nodes[n.Name] = Counters{RxBytes: st.RxBytes, TxBytes: st.TxBytes, RxPackets: st.RxPackets, TxPackets: st.TxPackets}
			}
		}
	}
	for _, h := range hosts {
		links, err := linkList(h.Netns)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w", h.Name, err)
		}
		for _, l := range links {
			if a := l.Attrs(); a.Name == plan.Uplink && a.Statistics != nil {
				st := a.Statistics
				cs.Hosts[h.Name] = Counters{RxBytes: st.RxBytes, TxBytes: st.TxBytes, RxPackets: st.RxPackets, TxPackets: st.TxPackets}
			}
		}
	}
	if withServices && s.svc != nil {
		if err := s.svc.counters(ctx, cs); err != nil {
			return nil, err
		}
	}
	return cs, nil
}

// linkList dumps the links of a namespace.
func linkList(name string) ([]netlink.Link, error) {
	h, done, err := handleIn(name)
	if err != nil {
		return nil, err
	}
	defer done()
	return h.LinkList()
}

// handleIn opens a netlink socket in the named namespace; done closes it.
func handleIn(name string) (*netlink.Handle, func(), error) {
	ns, err := vnetns.GetFromPath(netns.Path(name))
	if err != nil {
		return nil, nil, err
	}
	defer ns.Close() // the socket keeps the namespace
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, nil, err
	}
	return h, h.Close, nil
}
