package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"podlab.dev/podlab/cluster/api"
)

// podsView is the pods table: one row per pod, filtered by substring on any column.
type podsView struct {
	d      *labData
	now    func() time.Time
	w, h   int
	filt   string
	rows   []*api.PodState // filtered
	cols   []column
	nat    []int
	cur    cursor
	cellsR [][]string // static cells of rows, built with rows
}

const (
	pcNS = iota
	pcName
	pcNode
	pcIP
	pcReady
	pcAge
	pcRx
	pcTx
	pcRate
	pcPorts
	pcLabels
)

func newPodsView(now func() time.Time) *podsView {
	return &podsView{now: now, cols: []column{
		pcNS:     {title: "NAMESPACE", max: 16, min: 9, prio: 5},
		pcName:   {title: "NAME", max: 40, prio: 10},
		pcNode:   {title: "NODE", max: 16, min: 8, prio: 7},
		pcIP:     {title: "IP", prio: 9},
		pcReady:  {title: "READY", prio: 8},
		pcAge:    {title: "AGE", fixed: 4, right: true, prio: 4},
		pcRx:     {title: "RX", fixed: 4, right: true, prio: 3},
		pcTx:     {title: "TX", fixed: 4, right: true, prio: 2},
		pcRate:   {title: "RATE", fixed: 6, right: true, prio: 6},
		pcPorts:  {title: "PORTS", max: 24, min: 5, prio: 1},
		pcLabels: {title: "LABELS", max: 60, min: 6, prio: 0},
	}}
}

func (v *podsView) name() string       { return "pods" }
func (v *podsView) filter() string     { return v.filt }
func (v *podsView) setFilter(f string) { v.filt = f; v.rebuild() }

func (v *podsView) setData(d *labData) {
	v.d = d
	v.rebuild()
}

func (v *podsView) setSize(w, h int) {
	v.w, v.h = w, h
	v.cur.setHeight(h - 1)
	v.relayout()
}

// rebuild filters and measures the rows, keeping the cursor on the same pod.
func (v *podsView) rebuild() {
	var keep string
	if t, ok := v.selected(); ok {
		keep = podKey(t.Namespace, t.Name)
	}
	v.rows = v.rows[:0]
	v.cellsR = v.cellsR[:0]
	if v.d != nil {
		f := strings.ToLower(v.filt)
		for _, p := range v.d.pods {
			cells := []string{pcNS: p.Namespace, pcName: p.Name, pcNode: p.Node, pcIP: p.IP.String(),
				pcReady: ready(p), pcPorts: orDash(p.Ports), pcLabels: labelString(p.Labels)}
			if f != "" && !matches(f, cells) {
				continue
			}
			v.rows = append(v.rows, p)
			v.cellsR = append(v.cellsR, cells)
		}
	}
	v.cur.setLen(len(v.rows))
	if keep != "" {
		for i, p := range v.rows {
			if podKey(p.Namespace, p.Name) == keep {
				v.cur.pos = i
				v.cur.clamp()
				break
			}
		}
	}
	v.nat = naturalWidths(v.cols, len(v.rows), v.staticCell)
	v.relayout()
}

func (v *podsView) relayout() {
	if v.nat != nil && v.w > 0 {
		layout(v.cols, v.nat, v.w-1)
	}
}

func ready(p *api.PodState) string {
	switch {
	case p.Broken != "":
		return "BROKEN" // its container was restarted behind podlab's back
	case p.Ready:
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// matches says whether any cell holds f (already lower case).
func matches(f string, cells []string) bool {
	for _, c := range cells {
		if strings.Contains(strings.ToLower(c), f) {
			return true
		}
	}
	return false
}

func (v *podsView) staticCell(r, c int) string {
	if c < len(v.cellsR[r]) {
		return v.cellsR[r][c]
	}
	return ""
}

// cell adds the columns that change without the state changing: age and counters.
func (v *podsView) cell(r, c int) string {
	p := v.rows[r]
	switch c {
	case pcAge:
		if t, ok := v.d.since[podKey(p.Namespace, p.Name)]; ok {
			return age(v.now().Sub(t))
		}
		return "-"
	case pcRx, pcTx, pcRate:
		rx, tx, rate := v.d.counterCells(target{kindPod, p.Namespace, p.Name})
		return [...]string{rx, tx, rate}[c-pcRx]
	}
	return v.cellsR[r][c]
}

func (v *podsView) style(r, c int, s string) string {
	if c == pcReady {
		if v.rows[r].Ready {
			return stOK.Render(s)
		}
		return stBad.Render(s)
	}
	return s
}

func (v *podsView) key(msg tea.KeyPressMsg) tea.Cmd {
	v.cur.key(msg)
	return nil
}

func (v *podsView) render() string {
	if v.d == nil {
		return box([]string{" loading…"}, v.w, v.h)
	}
	lines := renderTable(v.cols, &v.cur, v.cell, v.style)
	if len(v.rows) == 0 {
		if v.filt != "" {
			lines = append(lines, stDim.Render(" no pod matches /"+v.filt))
		} else {
			lines = append(lines, stDim.Render(" this lab has no pods"))
		}
	}
	return box(lines, v.w, v.h)
}

func (v *podsView) selected() (target, bool) {
	if v.cur.pos >= len(v.rows) {
		return target{}, false
	}
	p := v.rows[v.cur.pos]
	return target{kindPod, p.Namespace, p.Name}, true
}
