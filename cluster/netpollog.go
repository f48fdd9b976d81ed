package cluster

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/netpol"
	"podlab.dev/podlab/cluster/netpol/nflog"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/runtime/netns"
)

// The verdict log: every node's NetworkPolicy table logs, rate limited (netpol
// Options.LogRate, 10/s per pod and direction for drops, per pod and port entry for
// allows), the packets its pods' default deny drops and those a policy rule allows, to
// nflog group netpolLogGroup of the node's namespace. The supervisor reads each node's
// group (package nflog), names the pod, policies and rule from the log prefix and the
// store, and keeps the last verdictRingSize entries for podlab logs --policy; at most
// verdictEventsPS drops a second also become PolicyDrop events (the rest are counted
// in one event after that second). nflog groups are per network namespace, so every
// lab uses the same group.

const (
	netpolLogGroup  = 4242
	verdictRingSize = 2000
	verdictEventsPS = 20
	modelMaxAge     = time.Second // the store view entries are named from
)

// verdictLog is the ring of entries and what names them.
type verdictLog struct {
	limit *eventLimit
	emit  func(events.Event)
	model func() netpol.Cluster

	mu     sync.Mutex
	buf    []api.VerdictEntry
	seq    uint64 // entries ever added
	lost   int
	view   *logView
	viewAt time.Time
}

// logView is the store as the log needs it: pods by address, isolations, policies' rules.
type logView struct {
	byIP      map[netip.Addr]string
	isolating map[string][]string // direction/ns/pod -> policies
	ids       map[string]string   // verdict/id -> whole key
}

func newVerdictLog(model func() netpol.Cluster, emit func(events.Event)) *verdictLog {
	l := &verdictLog{model: model, emit: emit}
	l.limit = newEventLimit(verdictEventsPS, func(hidden int, nodes []string) {
		emit(events.Event{Time: time.Now(), Type: events.PolicyDrop, Kind: "Lab",
			Message: fmt.Sprintf("%d more NetworkPolicy drops logged on %s (at most %d PolicyDrop events a second; podlab logs --policy has the last %d)",
				hidden, strings.Join(nodes, ", "), verdictEventsPS, verdictRingSize)})
	})
	return l
}

func buildLogView(c netpol.Cluster) *logView {
	v := &logView{byIP: map[netip.Addr]string{}, isolating: map[string][]string{}, ids: map[string]string{}}
	for _, p := range c.Pods {
		if ip, err := netip.ParseAddr(p.Status.PodIP); err == nil && !p.Spec.HostNetwork {
			v.byIP[ip] = p.Namespace + "/" + p.Name
		}
	}
	for _, iso := range c.Isolations() {
		key := iso.Direction + "/" + iso.Pod.Namespace + "/" + iso.Pod.Name
		v.isolating[key] = iso.Policies
		v.ids["drop/"+netpol.LogID("drop", key)] = key
	}
	for _, pol := range c.Policies {
		name := pol.Namespace + "/" + pol.Name
		for i := range pol.Spec.Ingress {
			key := "ingress/" + name + "/" + strconv.Itoa(i)
			v.ids["allow/"+netpol.LogID("allow", key)] = key
		}
		for i := range pol.Spec.Egress {
			key := "egress/" + name + "/" + strconv.Itoa(i)
			v.ids["allow/"+netpol.LogID("allow", key)] = key
		}
	}
	return v
}

// currentView is the store's view, rebuilt when older than modelMaxAge or when
// stale is set (a prefix or an address it did not know). Called with l.mu held.
func (l *verdictLog) currentView(now time.Time, stale bool) *logView {
	if l.view == nil || now.Sub(l.viewAt) > modelMaxAge || (stale && now.Sub(l.viewAt) > 100*time.Millisecond) {
		l.view, l.viewAt = buildLogView(l.model()), now
	}
	return l.view
}

// entry names one record of node; false when its prefix is not the Enforcer's.
func (l *verdictLog) entry(node string, r nflog.Record) (api.VerdictEntry, bool) {
	p, ok := netpol.ParseLogPrefix(r.Prefix)
	if !ok {
		return api.VerdictEntry{}, false
	}
	now := time.Now()
	v := l.currentView(now, false)
	key := p.Key
	if !p.Complete() {
		k, known := v.ids[p.Verdict+"/"+p.ID]
		if !known {
			v = l.currentView(now, true)
			k = v.ids[p.Verdict+"/"+p.ID]
		}
		key = k
	}
	e := api.VerdictEntry{Time: r.Time, Node: node, Verdict: p.Verdict, Protocol: r.Protocol,
		Src: addrPort(r.Src), Dst: addrPort(r.Dst), SrcPod: v.byIP[r.Src.Addr()], DstPod: v.byIP[r.Dst.Addr()]}
	e.Direction, _, _ = strings.Cut(key, "/")
	if e.Direction == "" {
		e.Direction, _, _ = strings.Cut(p.Key, "/") // cut and unknown: the direction is still there
	}
	e.Pod = e.DstPod
	if e.Direction == "egress" {
		e.Pod = e.SrcPod
	}
	switch p.Verdict {
	case "drop":
		if f := strings.SplitN(key, "/", 3); len(f) == 3 {
			e.Pod = f[1] + "/" + f[2]
		}
		e.Policies = v.isolating[e.Direction+"/"+e.Pod]
		if len(e.Policies) == 0 { // a policy newer than the view (applied a moment ago)
			e.Policies = l.currentView(now, true).isolating[e.Direction+"/"+e.Pod]
		}
	case "allow":
		if i := strings.LastIndexByte(key, '/'); i > len(e.Direction) {
			if n, err := strconv.Atoi(key[i+1:]); err == nil {
				e.Policy, e.Rule = key[len(e.Direction)+1:i], &n
			}
		}
	}
	e.Message = verdictMessage(e)
	return e, true
}

func addrPort(a netip.AddrPort) string {
	if a.Port() == 0 {
		return a.Addr().String()
	}
	return a.String()
}

// verdictMessage: "drop ingress x/a: TCP 10.244.2.3:40000 (y/b) -> 10.244.1.2:80 (x/a),
// default deny of x/deny" or "allow ingress x/a: ..., rule 0 of x/web".
func verdictMessage(e api.VerdictEntry) string {
	end := func(addr, pod string) string {
		if pod == "" {
			return addr
		}
		return addr + " (" + pod + ")"
	}
	pod := e.Pod
	if pod == "" {
		pod = "?"
	}
	why := ""
	switch {
	case e.Verdict == "drop" && len(e.Policies) > 0:
		why = "default deny of " + strings.Join(e.Policies, ", ")
	case e.Verdict == "drop":
		why = "default deny of a policy since removed"
	case e.Rule != nil:
		why = fmt.Sprintf("rule %d of %s", *e.Rule, e.Policy)
	default:
		why = "a rule of a policy since removed"
	}
	return fmt.Sprintf("%s %s %s: %s %s -> %s, %s", e.Verdict, e.Direction, pod, e.Protocol,
		end(e.Src, e.SrcPod), end(e.Dst, e.DstPod), why)
}

// add names the records of node, keeps them, and emits drops as events, rate limited.
func (l *verdictLog) add(node string, recs []nflog.Record) {
	for _, r := range recs {
		l.mu.Lock()
		e, ok := l.entry(node, r)
		if !ok {
			l.mu.Unlock()
			continue
		}
		e.Seq = l.seq
		l.seq++
		if len(l.buf) < verdictRingSize {
			l.buf = append(l.buf, e)
		} else {
			l.buf[e.Seq%verdictRingSize] = e
		}
		l.mu.Unlock()
		if e.Verdict == "drop" && l.limit.allow(e.Time, node) {
			ev := events.Event{Time: e.Time, Type: events.PolicyDrop, Kind: "Pod", Node: node, Message: e.Message}
			ev.Namespace, ev.Name, _ = strings.Cut(e.Pod, "/")
			l.emit(ev)
		}
	}
}

// since returns the kept entries with Seq >= since, oldest first.
func (l *verdictLog) since(since uint64) api.VerdictLog {
	if l == nil { // a supervisor without components (tests)
		return api.VerdictLog{Next: since}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := api.VerdictLog{Next: max(since, l.seq-uint64(len(l.buf))), Lost: l.lost}
	for s := out.Next; s < l.seq; s++ {
		out.Entries = append(out.Entries, l.buf[s%verdictRingSize])
	}
	if l.seq > out.Next {
		out.Next = l.seq
	}
	return out
}

// watchVerdictLog reads every node's nflog group until ctx ends.
func (s *Supervisor) watchVerdictLog(ctx context.Context) {
	if s.verdicts == nil {
		return
	}
	for _, n := range s.plan.Nodes {
		r, err := nflog.Open(netns.Path(n.Netns), netpolLogGroup)
		if err != nil {
			s.log.Warn("NetworkPolicy verdict log: no reader", "node", n.Name, "err", err)
			continue
		}
		go func() {
			<-ctx.Done()
			r.Close()
		}()
		go func() {
			for {
				recs, err := r.Read()
				if err != nil {
					if ctx.Err() == nil {
						s.log.Warn("NetworkPolicy verdict log: reader stopped", "node", n.Name, "err", err)
					}
					return
				}
				s.verdicts.add(n.Name, recs)
				s.verdicts.mu.Lock()
				s.verdicts.lost = s.verdicts.lost + r.Lost
				r.Lost = 0
				s.verdicts.mu.Unlock()
			}
		}()
	}
}

// netpolLogRoutes serves the verdict log.
func (s *Supervisor) netpolLogRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+api.PathNetpolLog, func(w http.ResponseWriter, r *http.Request) {
		since, _ := strconv.ParseUint(r.URL.Query().Get("since"), 10, 64)
		reply(w, s.verdicts.since(since), nil)
	})
}
