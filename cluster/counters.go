package cluster

import (
	"context"
	"fmt"
	"podlab.dev/podlab/cluster/api"
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
func (s *Supervisor) Counters(ctx context.Context, withServices bool) (*api.CounterSet, error) {
	nodes := s.plan.Nodes
	hosts := s.plan.Hosts
	pods := s.livePods()
	byVeth := make(map[string]string, len(pods))
	for _, p := range pods {
		byVeth[cni.HostVethName(p.ContainerID, plan.PodInterface)] = p.Key()
	}
	cs := &api.CounterSet{Time: time.Now(), Pods: map[string]api.Counters{}, Nodes: map[string]api.Counters{}, Hosts: map[string]api.Counters{}}
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
				cs.Pods[key] = api.Counters{RxBytes: st.TxBytes, TxBytes: st.RxBytes, RxPackets: st.TxPackets, TxPackets: st.RxPackets}
			} else if a.Name == plan.Uplink {
				cs.Nodes[n.Name] = api.Counters{RxBytes: st.RxBytes, TxBytes: st.TxBytes, RxPackets: st.RxPackets, TxPackets: st.TxPackets}
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
				cs.Hosts[h.Name] = api.Counters{RxBytes: st.RxBytes, TxBytes: st.TxBytes, RxPackets: st.RxPackets, TxPackets: st.TxPackets}
			}
		}
	}
	if err := s.probeCounters(ctx, cs, pods); err != nil {
		return nil, err
	}
	if withServices && s.proxy != nil {
		svcs, eps, err := s.proxy.Counters(ctx)
		if err != nil {
			return nil, err
		}
		cs.Services, cs.Endpoints = map[string]api.PacketCount{}, map[string]api.PacketCount{}
		for k, c := range svcs {
			cs.Services[k] = api.PacketCount{Packets: c.Packets, Bytes: c.Bytes}
		}
		for k, c := range eps {
			cs.Endpoints[k] = api.PacketCount{Packets: c.Packets, Bytes: c.Bytes}
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
