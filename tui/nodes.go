package tui

import (
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// nodesView lists the nodes, then the hosts on the underlay.
type nodesView struct {
	d     *labData
	w, h  int
	filt  string
	rows  []target
	cells [][]string
	cols  []column
	nat   []int
	cur   cursor
	sort  tableSort
}

const (
	ncName = iota
	ncKind
	ncIP
	ncCIDR
	ncPods
	ncOverlay
	ncPeers
	ncRx
	ncTx
	ncRate
	ncLabels
)

func newNodesView() *nodesView {
	return &nodesView{cols: []column{
		ncName:    {title: "NAME", max: 32, prio: 10},
		ncKind:    {title: "ROLE", prio: 3},
		ncIP:      {title: "IP", prio: 9},
		ncCIDR:    {title: "POD CIDR", prio: 8},
		ncPods:    {title: "PODS", right: true, prio: 7},
		ncOverlay: {title: "OVERLAY", prio: 1},
		ncPeers:   {title: "OVERLAY PEERS", max: 90, min: 10, prio: 0},
		ncRx:      {title: "RX", fixed: 4, right: true, prio: 5},
		ncTx:      {title: "TX", fixed: 4, right: true, prio: 4},
		ncRate:    {title: "RATE", fixed: 6, right: true, prio: 6},
		ncLabels:  {title: "LABELS", max: 80, min: 6, prio: 2},
	}}
}

func (v *nodesView) name() string       { return "nodes" }
func (v *nodesView) filter() string     { return v.filt }
func (v *nodesView) setFilter(f string) { v.filt = f; v.rebuild() }
func (v *nodesView) setData(d *labData) { v.d = d; v.rebuild() }

func (v *nodesView) setSize(w, h int) {
	v.w, v.h = w, h
	v.cur.setHeight(h - 1)
	if v.nat != nil {
		layout(v.cols, v.nat, w-1)
	}
}

// overlayOf names the overlay device a node carries.
func overlayOf(overlay string) string {
	if overlay == "host-gw" {
		return "host-gw routes"
	}
	return "vxlan flannel.1"
}

func (v *nodesView) rebuild() {
	keep, had := v.selected()
	v.rows, v.cells = v.rows[:0], v.cells[:0]
	if v.d == nil {
		return
	}
	st := v.d.st
	f := strings.ToLower(v.filt)
	for _, n := range st.Nodes {
		var peers []string
		for _, o := range st.Nodes {
			if o.Name != n.Name {
				peers = append(peers, o.Name+"="+o.PodCIDR.String()+" via "+o.IP.String())
			}
		}
		cells := []string{ncName: n.Name, ncKind: brokenMark(n.Role, n.Broken), ncIP: n.IP.String(), ncCIDR: n.PodCIDR.String(),
			ncPods: strconv.Itoa(len(v.d.perNd[n.Name])), ncOverlay: overlayOf(st.Overlay), ncPeers: orDash(strings.Join(peers, ", ")),
			ncLabels: labelString(n.Labels)}
		if f == "" || matches(f, cells) {
			v.rows = append(v.rows, target{Kind: kindNode, Name: n.Name})
			v.cells = append(v.cells, cells)
		}
	}
	for _, h := range st.Hosts {
		cells := []string{ncName: h.Name, ncKind: brokenMark("host", h.Broken), ncIP: h.IP.String(), ncCIDR: "-", ncPods: "-", ncOverlay: "-",
			ncPeers: "-", ncLabels: "serves " + orDash(h.Ports)}
		if f == "" || matches(f, cells) {
			v.rows = append(v.rows, target{Kind: kindHost, Name: h.Name})
			v.cells = append(v.cells, cells)
		}
	}
	ord := v.sort.order(v.cols, len(v.rows), func(r, c int) string { return v.cells[r][c] })
	v.rows, v.cells = permute(v.rows, ord), permute(v.cells, ord)
	v.sort.mark(v.cols)
	v.cur.setLen(len(v.rows))
	if had {
		for i, t := range v.rows {
			if t == keep {
				v.cur.pos = i
				v.cur.clamp()
			}
		}
	}
	v.nat = naturalWidths(v.cols, len(v.rows), func(r, c int) string { return v.cells[r][c] })
	if v.w > 0 {
		layout(v.cols, v.nat, v.w-1)
	}
}

func (v *nodesView) cell(r, c int) string {
	switch c {
	case ncRx, ncTx, ncRate:
		rx, tx, rate := v.d.counterCells(v.rows[r])
		return [...]string{rx, tx, rate}[c-ncRx]
	}
	return v.cells[r][c]
}

func (v *nodesView) key(msg tea.KeyPressMsg) tea.Cmd {
	tableKey(msg, &v.sort, v.cols, &v.cur, v.rebuild)
	return nil
}

func (v *nodesView) render() string {
	if v.d == nil {
		return box([]string{" loading…"}, v.w, v.h)
	}
	lines := renderTable(v.cols, &v.cur, v.cell, nil)
	if len(v.rows) == 0 {
		lines = append(lines, stDim.Render(" nothing matches /"+v.filt))
	}
	return box(lines, v.w, v.h)
}

func (v *nodesView) selected() (target, bool) {
	if v.cur.pos >= len(v.rows) {
		return target{}, false
	}
	return v.rows[v.cur.pos], true
}

// brokenMark flags an object whose container was restarted behind podlab's back.
func brokenMark(kind, broken string) string {
	if broken != "" {
		return kind + " BROKEN"
	}
	return kind
}
