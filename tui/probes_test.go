package tui

import (
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
)

// Readiness checks (~860 B/s on every serving pod) must not show as a learner's
// traffic: RATE leaves them out, PROBES shows them.
func TestProbeTrafficApart(t *testing.T) {
	t0 := time.Unix(1000, 0)
	prev := &api.CounterSet{Time: t0,
		Pods:   map[string]api.Counters{"default/idle": {RxBytes: 1000, TxBytes: 1000}, "default/busy": {RxBytes: 1000, TxBytes: 1000}},
		Probes: map[string]api.Counters{"default/idle": {RxBytes: 500, TxBytes: 500}, "default/busy": {RxBytes: 500, TxBytes: 500}},
	}
	cur := &api.CounterSet{Time: t0.Add(time.Second),
		Pods:   map[string]api.Counters{"default/idle": {RxBytes: 1430, TxBytes: 1430}, "default/busy": {RxBytes: 3430, TxBytes: 1430}},
		Probes: map[string]api.Counters{"default/idle": {RxBytes: 930, TxBytes: 930}, "default/busy": {RxBytes: 930, TxBytes: 930}},
	}
	r := computeRates(prev, cur)
	for key, want := range map[string]float64{
		"pod/default/idle":   0,
		"pod/default/busy":   2000,
		"probe/default/idle": 860,
	} {
		if got, ok := r[key]; !ok || got != want {
			t.Errorf("%s: got %v (%v), want %v", key, got, ok, want)
		}
	}
	d := &labData{rates: r}
	if got := d.probeRate("default", "idle"); got != "860B/s" {
		t.Errorf("PROBES cell %q", got)
	}
}
