package cluster

import (
	"context"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/plan"
)

// probeCounters adds to cs the probe traffic of each live pod that kubelet counted
// apart (see kubelet.ProbeTraffic), found by the pod's address.
func (s *Supervisor) probeCounters(ctx context.Context, cs *api.CounterSet, pods []plan.Pod) error {
	if s.kubelet == nil {
		return nil
	}
	byIP, err := s.kubelet.ProbeTraffic(ctx)
	if err != nil {
		return err
	}
	cs.Probes = map[string]api.Counters{}
	for _, p := range pods {
		if c, ok := byIP[p.IP]; ok {
			cs.Probes[p.Key()] = api.Counters{RxBytes: c.RxBytes, TxBytes: c.TxBytes, RxPackets: c.RxPackets, TxPackets: c.TxPackets}
		}
	}
	return nil
}
