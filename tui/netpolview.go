package tui

import (
	"context"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"

	"podlab.dev/podlab/cluster/api"
)

// netpolView shows the NetworkPolicy tables' counters, polled once a second while
// shown: one row per policy (what its rules allowed, what the default deny of the pods
// it isolates dropped), then one per isolated pod and direction (its drops and the
// policies isolating it). The counters are the nodes' nft counters, as podlab trace
// reads them.
type netpolView struct {
	nc     *api.NetpolCounters
	err    error
	loaded bool
	w, h   int
	filt   string
	rows   []netpolRow
	cellsR [][]string
	cols   []column
	nat    []int
	cur    cursor
}

// netpolRow is one line: a policy, or a pod in one direction.
type netpolRow struct {
	pod       bool
	namespace string
	name      string
}

const (
	npKind = iota
	npName
	npDir
	npNode
	npAllowed
	npDropped
	npDetail
)

func newNetpolView() *netpolView {
	return &netpolView{cols: []column{
		npKind:    {title: "KIND", fixed: 6, prio: 6},
		npName:    {title: "NAME", max: 48, min: 12, prio: 10},
		npDir:     {title: "DIRECTION", max: 14, min: 7, prio: 8},
		npNode:    {title: "NODE", max: 20, min: 6, prio: 4},
		npAllowed: {title: "ALLOWED", fixed: 9, right: true, prio: 9},
		npDropped: {title: "DROPPED", fixed: 9, right: true, prio: 9},
		npDetail:  {title: "POLICIES / ISOLATES", max: 60, min: 10, prio: 5},
	}}
}

func (v *netpolView) name() string       { return "netpol" }
func (v *netpolView) filter() string     { return v.filt }
func (v *netpolView) setFilter(f string) { v.filt = f; v.rebuild() }
func (v *netpolView) setData(*labData)   {}

func (v *netpolView) setSize(w, h int) {
	v.w, v.h = w, h
	v.cur.setHeight(h - 1)
	v.relayout()
}

// netpolPoller polls the counters while v is shown.
func netpolPoller(v *netpolView) *poller {
	return &poller{v: v, label: "netpol counters", fetch: func(ctx context.Context, src Source) func() error {
		nc, err := src.NetpolCounters(ctx)
		return func() error { v.setCounters(nc, err); return err }
	}}
}

func (v *netpolView) setCounters(nc *api.NetpolCounters, err error) {
	v.err = err
	if err != nil {
		return
	}
	v.nc, v.loaded = nc, true
	v.rebuild()
}

func (v *netpolView) rebuild() {
	v.rows, v.cellsR = v.rows[:0], v.cellsR[:0]
	if v.nc == nil {
		return
	}
	f := strings.ToLower(v.filt)
	add := func(r netpolRow, cells []string) {
		if f == "" || matches(f, cells) {
			v.rows = append(v.rows, r)
			v.cellsR = append(v.cellsR, cells)
		}
	}
	for _, p := range v.nc.Policies {
		ns, name, _ := strings.Cut(p.Policy, "/")
		add(netpolRow{namespace: ns, name: name}, []string{"policy", p.Policy, p.Types, "-",
			strconv.FormatUint(p.Allowed, 10), strconv.FormatUint(p.Dropped, 10), "isolates " + plural(p.Isolates, "pod")})
	}
	for _, p := range v.nc.Pods {
		ns, name, _ := strings.Cut(p.Pod, "/")
		add(netpolRow{pod: true, namespace: ns, name: name}, []string{"pod", p.Pod, p.Direction, orDash(p.Node),
			"-", strconv.FormatUint(p.Dropped, 10), strings.Join(p.Policies, ", ")})
	}
	v.cur.setLen(len(v.rows))
	v.nat = naturalWidths(v.cols, len(v.rows), func(r, c int) string { return v.cellsR[r][c] })
	v.relayout()
}

// plural: "1 pod", "3 pods".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func (v *netpolView) relayout() {
	if v.nat != nil && v.w > 0 {
		layout(v.cols, v.nat, v.w-1)
	}
}

func (v *netpolView) key(msg tea.KeyPressMsg) tea.Cmd {
	v.cur.key(msg)
	return nil
}

func (v *netpolView) render() string {
	if !v.loaded {
		if v.err != nil {
			return box([]string{stErr.Render(" netpol counters: " + v.err.Error())}, v.w, v.h)
		}
		return box([]string{" loading…"}, v.w, v.h)
	}
	lines := renderTable(v.cols, &v.cur, func(r, c int) string { return v.cellsR[r][c] }, func(r, c int, s string) string {
		if c == npDropped && v.cellsR[r][c] != "0" {
			return stWarn.Render(s)
		}
		return s
	})
	switch {
	case len(v.rows) == 0 && v.filt != "":
		lines = append(lines, stDim.Render(" nothing matches /"+v.filt))
	case len(v.rows) == 0:
		lines = append(lines, stDim.Render(" no NetworkPolicy in this lab (podlab apply -f a policy; podlab trace explains a flow)"))
	case v.nc.Error != "":
		lines = append(lines, stErr.Render(" "+v.nc.Error))
	}
	return box(lines, v.w, v.h)
}

// selected is the pod of a pod row.
func (v *netpolView) selected() (target, bool) {
	if v.cur.pos < 0 || v.cur.pos >= len(v.rows) || !v.rows[v.cur.pos].pod {
		return target{}, false
	}
	r := v.rows[v.cur.pos]
	return target{kindPod, r.namespace, r.name}, true
}
