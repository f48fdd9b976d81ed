package cluster

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"podlab.dev/podlab/cluster/netpol"
	"podlab.dev/podlab/events"
)

// The verdict log: once a second, while the lab has a NetworkPolicy, the supervisor
// reads the drop counters of the nodes' tables and emits one PolicyDrop event per pod
// and direction whose default deny dropped packets since the last read, naming the
// policies isolating it. Counters rather than a per-packet log (nflog): they count
// every drop at no cost on the packet path, need no socket per node namespace, and
// give exactly what a learner asks first (which pod, which direction, which
// policies); what they cannot give is the 5-tuple of each packet, which `podlab
// trace` shows for the flow it sends. Only the table's drop counters are read, so
// only NetworkPolicy drops (default deny, the only way a policy drops) appear.

const (
	dropPoll     = time.Second
	dropEventsPS = 20 // PolicyDrop events a poll at most; the rest are summed in one more
)

// dropLog turns successive reads of the drop counters into events.
type dropLog struct {
	last map[string]uint64 // node|key -> packets at the last read
}

// dropped is one pod's drops in one direction since the last read.
type dropped struct {
	Node, Direction, Namespace, Pod string
	Packets                         uint64
}

// deltas returns what the drop counters of cur added since the last read, sorted, and
// remembers cur. A counter that is new or went down (a full sync rebuilt the table)
// counts from zero: every table this supervisor reads was made (or rebuilt, which
// resets its counters) by it, so no count predates it.
func (d *dropLog) deltas(cur map[string]map[string]netpol.Counter) []dropped {
	next := map[string]uint64{}
	var out []dropped
	for _, node := range slices.Sorted(maps.Keys(cur)) {
		for _, k := range slices.Sorted(maps.Keys(cur[node])) {
			rest, ok := strings.CutPrefix(k, "drop/")
			if !ok {
				continue
			}
			n := cur[node][k].Packets
			next[node+"|"+k] = n
			old := d.last[node+"|"+k]
			if old > n {
				old = 0
			}
			f := strings.SplitN(rest, "/", 3)
			if n == old || len(f) != 3 {
				continue
			}
			out = append(out, dropped{Node: node, Direction: f[0], Namespace: f[1], Pod: f[2], Packets: n - old})
		}
	}
	d.last = next
	return out
}

// dropEvents words drops as events, at most limit of them; the rest are summed in
// one more event. isolating names the policies isolating a pod in a direction.
func dropEvents(drops []dropped, limit int, at time.Time, isolating func(ns, pod, dir string) []string) []events.Event {
	var out []events.Event
	for i, d := range drops {
		if i == limit {
			var pkts uint64
			for _, r := range drops[i:] {
				pkts += r.Packets
			}
			out = append(out, events.Event{Time: at, Type: events.PolicyDrop, Kind: "Lab",
				Message: fmt.Sprintf("%d more pods and directions: %d packets dropped (at most %d PolicyDrop events a second; podlab tui :netpol has every counter)", len(drops)-i, pkts, limit)})
			break
		}
		out = append(out, events.Event{Time: at, Type: events.PolicyDrop, Kind: "Pod", Namespace: d.Namespace, Name: d.Pod, Node: d.Node,
			Message: dropMessage(d, isolating(d.Namespace, d.Pod, d.Direction))})
	}
	return out
}

// dropMessage: "ingress to x/a: 3 packets dropped (default deny of x/deny)".
func dropMessage(d dropped, policies []string) string {
	way := "to"
	if d.Direction == "egress" {
		way = "from"
	}
	why := "default deny of " + strings.Join(policies, ", ")
	if len(policies) == 0 {
		why = "default deny of a policy since removed"
	}
	return fmt.Sprintf("%s %s %s/%s: %d %s dropped (%s)", d.Direction, way, d.Namespace, d.Pod, d.Packets, plural(int(d.Packets), "packet", "packets"), why)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// watchPolicyDrops emits the verdict log until ctx ends: it reads counters only while
// the lab has a NetworkPolicy (with none, no table has drop counters).
func (s *Supervisor) watchPolicyDrops(ctx context.Context) {
	var d dropLog
	tick := time.NewTicker(dropPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if s.store.Count("NetworkPolicy") == 0 {
			d.last = nil // the tables dropped their counters with the last policy
			continue
		}
		cur, err := s.nodeCounters(ctx)
		if err != nil && len(cur) == 0 {
			continue
		}
		drops := d.deltas(cur)
		if len(drops) == 0 {
			continue
		}
		model := netpol.FromStore(s.store)
		for _, e := range dropEvents(drops, dropEventsPS, time.Now(), model.Isolating) {
			s.events.emit(e)
		}
	}
}
