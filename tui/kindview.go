package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"podlab.dev/podlab/cluster/store"
)

const (
	kindDeployment = "Deployment"
	kindEndpoints  = "Endpoints"
)

// kindView is `kubectl get KIND -A -o wide` for one of the objectKinds: printers'
// columns and nothing else, listed with the state.
type kindView struct {
	kind   string
	label  string // the tab: "deploy"
	now    func() time.Time
	d      *labData
	w, h   int
	filt   string
	rows   []store.Object
	cellsR [][]string
	sort   tableSort
	kube   kubeCols
	cols   []column
	nat    []int
	cur    cursor
}

// deployLayout lays out printers' Deployment columns, the wide ones last to show.
var deployLayout = map[string]column{
	"NAME":       {max: 40, min: 8, prio: 14},
	"READY":      {prio: 13},
	"UP-TO-DATE": {prio: 11},
	"AVAILABLE":  {prio: 10},
	"AGE":        {fixed: 5, prio: 9},
	"CONTAINERS": {max: 24, min: 10, prio: 5},
	"IMAGES":     {max: 40, min: 6, prio: 4},
	"SELECTOR":   {max: 60, min: 8, prio: 3},
}

// endpointsLayout lays out printers' Endpoints columns.
var endpointsLayout = map[string]column{
	"NAME":      {max: 40, min: 8, prio: 14},
	"ENDPOINTS": {max: 80, min: 9, prio: 13},
	"AGE":       {fixed: 5, prio: 11},
}

func newDeployView(now func() time.Time) *kindView {
	return newKindView(kindDeployment, "deploy", deployLayout, now)
}

// newEndpointsView is :ep, `kubectl get ep -A`.
func newEndpointsView(now func() time.Time) *kindView {
	return newKindView(kindEndpoints, "ep", endpointsLayout, now)
}

func newKindView(kind, label string, lay map[string]column, now func() time.Time) *kindView {
	v := &kindView{kind: kind, label: label, now: now}
	var kube []column
	v.kube, kube = newKubeCols(v.kind, lay)
	v.cols = append([]column{{title: "NAMESPACE", max: 16, min: 9, prio: 12}}, kube...)
	return v
}

func (v *kindView) name() string       { return v.label }
func (v *kindView) filter() string     { return v.filt }
func (v *kindView) setFilter(f string) { v.filt = f; v.rebuild() }
func (v *kindView) setData(d *labData) { v.d = d; v.rebuild() }

func (v *kindView) setSize(w, h int) {
	v.w, v.h = w, h
	v.cur.setHeight(h - 1)
	v.relayout()
}

func (v *kindView) rebuild() {
	keep, had := v.selected()
	v.rows, v.cellsR = v.rows[:0], v.cellsR[:0]
	if v.d != nil {
		f := strings.ToLower(v.filt)
		now := v.now()
		for _, o := range v.d.objs[v.kind] {
			cells := append([]string{o.GetNamespace()}, v.kube.static(o, now)...)
			if f != "" && !matches(f, cells) {
				continue
			}
			v.rows = append(v.rows, o)
			v.cellsR = append(v.cellsR, cells)
		}
	}
	ord := v.sort.order(v.cols, len(v.rows), func(r, c int) string { return v.cellsR[r][c] })
	v.rows, v.cellsR = permute(v.rows, ord), permute(v.cellsR, ord)
	v.sort.mark(v.cols)
	v.cur.setLen(len(v.rows))
	if had {
		for i, o := range v.rows {
			if o.GetNamespace() == keep.Namespace && o.GetName() == keep.Name {
				v.cur.pos = i
				v.cur.clamp()
				break
			}
		}
	}
	v.nat = naturalWidths(v.cols, len(v.rows), func(r, c int) string { return v.cellsR[r][c] })
	v.relayout()
}

func (v *kindView) relayout() {
	if v.nat != nil && v.w > 0 {
		layout(v.cols, v.nat, v.w-1)
	}
}

func (v *kindView) cell(r, c int) string {
	if c == 0 {
		return v.cellsR[r][0]
	}
	return v.kube.cell(v.rows[r], c-1)
}

func (v *kindView) key(msg tea.KeyPressMsg) tea.Cmd {
	tableKey(msg, &v.sort, v.cols, &v.cur, v.rebuild)
	return nil
}

func (v *kindView) render() string {
	if v.d == nil {
		return box([]string{" loading…"}, v.w, v.h)
	}
	v.kube.frame(v.now())
	lines := renderTable(v.cols, &v.cur, v.cell, nil)
	if len(v.rows) == 0 {
		if v.filt != "" {
			lines = append(lines, stDim.Render(" nothing matches /"+v.filt))
		} else {
			lines = append(lines, stDim.Render(" this lab has no "+strings.ToLower(v.kind)+"s"))
		}
	}
	return box(lines, v.w, v.h)
}

func (v *kindView) selected() (target, bool) {
	if v.cur.pos >= len(v.rows) {
		return target{}, false
	}
	o := v.rows[v.cur.pos]
	return target{v.kind, o.GetNamespace(), o.GetName()}, true
}
