package cluster

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/netpol"
	"podlab.dev/podlab/events"
)

func TestDropDeltas(t *testing.T) {
	var d dropLog
	read := func(cs map[string]map[string]netpol.Counter) []dropped { return d.deltas(cs) }
	// A new table: every drop counts from zero; allow counters are not drops.
	got := read(map[string]map[string]netpol.Counter{
		"w1": {"drop/ingress/x/a": {Packets: 3}, "allow/ingress/x/p/0": {Packets: 7}, "drop/egress/x/b": {}},
	})
	want := []dropped{{Node: "w1", Direction: "ingress", Namespace: "x", Pod: "a", Packets: 3}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("first read: got %+v, want %+v", got, want)
	}
	// Nothing moved: nothing to say.
	if got := read(map[string]map[string]netpol.Counter{"w1": {"drop/ingress/x/a": {Packets: 3}}}); len(got) != 0 {
		t.Fatalf("unchanged: got %+v", got)
	}
	// Deltas, a counter reset by a rebuilt table, a second node.
	got = read(map[string]map[string]netpol.Counter{
		"w1": {"drop/ingress/x/a": {Packets: 5}, "drop/egress/x/b": {Packets: 2}},
		"w2": {"drop/ingress/y/c": {Packets: 1}},
	})
	want = []dropped{
		{Node: "w1", Direction: "egress", Namespace: "x", Pod: "b", Packets: 2},
		{Node: "w1", Direction: "ingress", Namespace: "x", Pod: "a", Packets: 2},
		{Node: "w2", Direction: "ingress", Namespace: "y", Pod: "c", Packets: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("deltas: got %+v, want %+v", got, want)
	}
	got = read(map[string]map[string]netpol.Counter{"w1": {"drop/ingress/x/a": {Packets: 1}}})
	if len(got) != 1 || got[0].Packets != 1 {
		t.Fatalf("after a reset: got %+v, want 1 packet", got)
	}
}

func TestDropEvents(t *testing.T) {
	isolating := func(ns, pod, dir string) []string {
		if pod == "gone" {
			return nil
		}
		return []string{ns + "/deny", ns + "/web"}
	}
	at := time.Unix(100, 0)
	drops := []dropped{
		{Node: "w1", Direction: "ingress", Namespace: "x", Pod: "a", Packets: 3},
		{Node: "w1", Direction: "egress", Namespace: "x", Pod: "b", Packets: 1},
		{Node: "w2", Direction: "ingress", Namespace: "y", Pod: "gone", Packets: 2},
	}
	got := dropEvents(drops, 20, at, isolating)
	wantMsg := []string{
		"ingress to x/a: 3 packets dropped (default deny of x/deny, x/web)",
		"egress from x/b: 1 packet dropped (default deny of x/deny, x/web)",
		"ingress to y/gone: 2 packets dropped (default deny of a policy since removed)",
	}
	if len(got) != len(wantMsg) {
		t.Fatalf("got %d events, want %d", len(got), len(wantMsg))
	}
	for i, e := range got {
		if e.Message != wantMsg[i] || e.Type != events.PolicyDrop || e.Kind != "Pod" || e.Node != drops[i].Node || e.Name != drops[i].Pod || !e.Time.Equal(at) {
			t.Errorf("event %d: %+v, want message %q", i, e, wantMsg[i])
		}
	}
}

// At most limit events a poll; the rest are summed in one more.
func TestDropEventsRateLimited(t *testing.T) {
	var drops []dropped
	for i := range 50 {
		drops = append(drops, dropped{Direction: "ingress", Namespace: "x", Pod: string(rune('a'+i%26)) + "p", Packets: 2})
	}
	got := dropEvents(drops, 20, time.Now(), func(string, string, string) []string { return []string{"x/deny"} })
	if len(got) != 21 {
		t.Fatalf("got %d events, want 20 and a summary", len(got))
	}
	last := got[20]
	if last.Kind != "Lab" || !strings.HasPrefix(last.Message, "30 more pods and directions: 60 packets dropped") {
		t.Errorf("summary: %+v", last)
	}
}
