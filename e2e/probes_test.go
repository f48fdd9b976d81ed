package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/state"
)

// kubelet's probes are counted apart (issue 14, fault 7): on an idle serving pod,
// almost every byte its interface moved is probe traffic, and a learner's requests
// are not.
func TestProbeTrafficApart(t *testing.T) {
	e, name := newEnv(t), uniq("probes")
	pods := e.deploy(name, fmt.Sprintf(smallLab, name, "p", "p")).Pods
	a, b, sample := pods[0], pods[1], counterSampler(t, e, name)
	moved := func(p, q api.Counters) uint64 { return q.RxBytes - p.RxBytes + q.TxBytes - p.TxBytes }
	kb := b.Namespace + "/" + b.Name

	before := sample()
	time.Sleep(3 * time.Second)
	after := sample()
	all, probes := moved(before.Pods[kb], after.Pods[kb]), moved(before.Probes[kb], after.Probes[kb])
	if probes == 0 || probes > all || all-probes > all/10+200 {
		t.Errorf("idle pod %s: interface moved %d B, probes %d B: the probes should be nearly all of it", kb, all, probes)
	}
	t.Logf("idle pod %s, 3 s: interface %d B, probes %d B", kb, all, probes)

	// A learner's requests stay out of the probe counters.
	before = sample()
	for range 50 {
		if _, err := httpGet(a.Netns, b.IP.String()+":80", "/hostname"); err != nil {
			t.Fatal(err)
		}
	}
	after = sample()
	all, probes = moved(before.Pods[kb], after.Pods[kb]), moved(before.Probes[kb], after.Probes[kb])
	if all-probes < 50*100 {
		t.Errorf("pod %s after 50 requests: interface moved %d B, probes %d B: the requests should be outside the probes", kb, all, probes)
	}
	t.Logf("pod %s, 50 requests: interface %d B, probes %d B", kb, all, probes)
}

// counterSampler reads lab name's counters through its supervisor.
func counterSampler(t *testing.T, e *env, name string) func() *api.CounterSet {
	c := api.NewClient(state.For(e.root, name))
	return func() *api.CounterSet {
		t.Helper()
		cs, err := c.Counters(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
}
