package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// labData is one lab as the views show it, rebuilt when the state or the counters
// change, never while drawing a frame.
type labData struct {
	st     *api.LabState
	pods   []*api.PodState // by namespace, then name
	perNd  map[string][]*api.PodState
	objs   map[string][]store.Object // the objectKinds, by namespace then name
	podObj map[string]*corev1.Pod    // pod key -> its object
	cs     *api.CounterSet
	rates  map[string]float64 // counter key (see counterKey) -> bytes/s, rx+tx
}

func podKey(namespace, name string) string { return namespace + "/" + name }

// counter keys: "pod/ns/name", "node/name", "host/name".
func counterKey(t target) string {
	if t.Kind == kindPod {
		return "pod/" + podKey(t.Namespace, t.Name)
	}
	return strings.ToLower(t.Kind) + "/" + t.Name
}

// objectKinds are listed with every state fetch: the pods' kubectl columns, :deploy, :ep.
var objectKinds = []string{kindPod, kindDeployment, kindEndpoints}

func newLabData(st *api.LabState, objs map[string][]store.Object, cs *api.CounterSet, rates map[string]float64) *labData {
	d := &labData{st: st, objs: objs, cs: cs, rates: rates, perNd: map[string][]*api.PodState{}, podObj: map[string]*corev1.Pod{}}
	for _, o := range objs[kindPod] {
		if p, ok := o.(*corev1.Pod); ok {
			d.podObj[podKey(p.Namespace, p.Name)] = p
		}
	}
	d.pods = make([]*api.PodState, len(st.Pods))
	for i := range st.Pods {
		d.pods[i] = &st.Pods[i]
	}
	slices.SortFunc(d.pods, func(a, b *api.PodState) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	for _, p := range d.pods {
		d.perNd[p.Node] = append(d.perNd[p.Node], p)
	}
	return d
}

// counters returns the last sample for t.
func (d *labData) counters(t target) (api.Counters, bool) {
	if d.cs == nil {
		return api.Counters{}, false
	}
	var m map[string]api.Counters
	key := t.Name
	switch t.Kind {
	case kindPod:
		m, key = d.cs.Pods, podKey(t.Namespace, t.Name)
	case kindNode:
		m = d.cs.Nodes
	case kindHost:
		m = d.cs.Hosts
	}
	c, ok := m[key]
	return c, ok
}

// probeRate is the bytes per second of kubelet's probes to a pod, "-" when unknown.
func (d *labData) probeRate(namespace, name string) string {
	if r, ok := d.rates["probe/"+podKey(namespace, name)]; ok {
		return humanBytes(r) + "/s"
	}
	return "-"
}

func (d *labData) counterCells(t target) (rx, tx, rate string) {
	c, ok := d.counters(t)
	if !ok {
		return "-", "-", "-"
	}
	rate = "-"
	if r, ok := d.rates[counterKey(t)]; ok {
		rate = humanBytes(r) + "/s"
	}
	return humanBytes(float64(c.RxBytes)), humanBytes(float64(c.TxBytes)), rate
}

// rateWindow is the seconds between two samples, false when there is no rate to take.
func rateWindow(prev, cur *api.CounterSet) (float64, bool) {
	if prev == nil || cur == nil {
		return 0, false
	}
	dt := cur.Time.Sub(prev.Time).Seconds()
	return dt, dt > 0
}

// addRates puts into out, under prefix+key, the bytes per second of every counter in
// both samples; delta says how many bytes moved, false when the counter went back
// (the object was deleted and made again).
func addRates[C any](out map[string]float64, prefix string, prev, cur map[string]C, dt float64, delta func(p, c C) (uint64, bool)) {
	for k, c := range cur {
		if p, ok := prev[k]; ok {
			if d, ok := delta(p, c); ok {
				out[prefix+k] = float64(d) / dt
			}
		}
	}
}

// computeRates computes each pod's, node's and host's bytes per second (both
// directions) between two samples; a pod's leaves out its probes' traffic, which is
// under "probe/ns/name".
func computeRates(prev, cur *api.CounterSet) map[string]float64 {
	dt, ok := rateWindow(prev, cur)
	if !ok {
		return nil
	}
	out := map[string]float64{}
	delta := func(p, c api.Counters) (uint64, bool) {
		if c.RxBytes < p.RxBytes || c.TxBytes < p.TxBytes {
			return 0, false
		}
		return c.RxBytes - p.RxBytes + c.TxBytes - p.TxBytes, true
	}
	addRates(out, "pod/", prev.Pods, cur.Pods, dt, delta)
	// kubelet's probes are counted apart: a pod's RATE is what else moved.
	addRates(out, "probe/", prev.Probes, cur.Probes, dt, delta)
	for k, r := range out {
		if key, ok := strings.CutPrefix(k, "probe/"); ok {
			if all, ok := out["pod/"+key]; ok {
				out["pod/"+key] = max(all-r, 0)
			}
		}
	}
	addRates(out, "node/", prev.Nodes, cur.Nodes, dt, delta)
	addRates(out, "host/", prev.Hosts, cur.Hosts, dt, delta)
	return out
}

// humanBytes is at most 4 cells wide: 999B, 9.9K, 999K, 1.2M.
func humanBytes(v float64) string {
	if v < 1000 {
		return fmt.Sprintf("%.0fB", v)
	}
	for _, u := range []string{"K", "M", "G", "T", "P"} {
		v /= 1024
		if v < 9.95 {
			return fmt.Sprintf("%.1f%s", v, u)
		}
		if v < 999.5 || u == "P" {
			return fmt.Sprintf("%.0f%s", v, u)
		}
	}
	return ""
}

func labelString(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	keys := slices.Sorted(maps.Keys(l))
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(l[k])
	}
	return b.String()
}

// parseLabels reads "k=v,k2=v2" as `podlab label` and kubectl write them; an empty
// text clears every label.
func parseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("label %q: expected key=value", part)
		}
		if strings.ContainsAny(k+v, " \t") {
			return nil, fmt.Errorf("label %q: keys and values have no spaces", part)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("label %q is given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// stateEvent says whether an event changes what State returns.
func stateEvent(t string) bool {
	switch t {
	case events.LinkUp, events.NetnsCreated, events.Warning, events.DNSQuery:
		return false
	}
	return true
}
