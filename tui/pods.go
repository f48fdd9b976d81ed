package tui

import (
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab.dev/podlab/cluster/api"
)

// podsView is the pods table: one row per pod of the state, with kubectl's READY,
// STATUS, RESTARTS and AGE from the pod's object, then where it runs and its
// traffic. Filtered by substring on any column.
type podsView struct {
	d      *labData
	now    func() time.Time
	w, h   int
	filt   string
	rows   []*api.PodState // filtered
	objs   []*corev1.Pod   // of rows; nil while the object is not listed
	kube   kubeCols
	cols   []column
	nat    []int
	cur    cursor
	cellsR [][]string // static cells of rows, built with rows
	sort   tableSort
	// indexes in cols
	ready, rx, tx, rate, probes int
}

const (
	pcNS = iota
	pcName
	pcKube // the first of kubectl's columns
)

// podKubeLayout takes printers' Pod columns READY, STATUS, RESTARTS and AGE; the view
// has its own NAME, NODE and IP, which it shows before the object is listed.
var podKubeLayout = map[string]column{
	"READY":    {prio: 13},
	"STATUS":   {max: 20, min: 7, prio: 12},
	"RESTARTS": {max: 16, prio: 7},
	"AGE":      {fixed: 5, prio: 6},
}

func newPodsView(now func() time.Time) *podsView {
	v := &podsView{now: now}
	var kube []column
	v.kube, kube = newKubeCols(kindPod, podKubeLayout)
	v.cols = append([]column{
		pcNS:   {title: "NAMESPACE", max: 16, min: 9, prio: 8},
		pcName: {title: "NAME", max: 40, prio: 14},
	}, kube...)
	v.cols = append(v.cols,
		column{title: "NODE", max: 16, min: 8, prio: 10},
		column{title: "IP", prio: 11},
		column{title: "RX", fixed: 4, right: true, prio: 5},
		column{title: "TX", fixed: 4, right: true, prio: 4},
		column{title: "RATE", fixed: 6, right: true, prio: 9},
		column{title: "PROBES", fixed: 6, right: true, prio: 1},
		column{title: "PORTS", max: 24, min: 5, prio: 3},
		column{title: "LABELS", max: 60, min: 6, prio: 2})
	v.ready, v.rx, v.tx, v.rate = colIndex(v.cols, "READY"), colIndex(v.cols, "RX"), colIndex(v.cols, "TX"), colIndex(v.cols, "RATE")
	v.probes = colIndex(v.cols, "PROBES")
	return v
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
	v.rows, v.objs, v.cellsR = v.rows[:0], v.objs[:0], v.cellsR[:0]
	if v.d != nil {
		f := strings.ToLower(v.filt)
		now := v.now()
		for _, p := range v.d.pods {
			obj := v.d.podObj[podKey(p.Namespace, p.Name)]
			cells := []string{pcNS: p.Namespace, pcName: brokenMark(p.Name, p.Broken)}
			cells = append(cells, v.kube.static(podObject(obj), now)...)
			cells = append(cells, p.Node, p.IP.String(), "", "", "", "", orDash(p.Ports), labelString(p.Labels))
			if f != "" && !matches(f, cells) {
				continue
			}
			v.rows = append(v.rows, p)
			v.objs = append(v.objs, obj)
			v.cellsR = append(v.cellsR, cells)
		}
	}
	ord := v.sort.order(v.cols, len(v.rows), v.staticCell)
	v.rows, v.objs, v.cellsR = permute(v.rows, ord), permute(v.objs, ord), permute(v.cellsR, ord)
	v.sort.mark(v.cols)
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

// podObject keeps a missing pod a nil interface, not a typed nil.
func podObject(p *corev1.Pod) runtime.Object {
	if p == nil {
		return nil
	}
	return p
}

func (v *podsView) relayout() {
	if v.nat != nil && v.w > 0 {
		layout(v.cols, v.nat, v.w-1)
	}
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

// cell adds the columns that change without the state changing: kubectl's (AGE,
// the last restart) and the counters. RATE leaves out kubelet's probes, shown apart
// under PROBES.
func (v *podsView) cell(r, c int) string {
	switch {
	case c >= pcKube && c < pcKube+len(v.kube.at):
		return v.kube.cell(podObject(v.objs[r]), c-pcKube)
	case c == v.probes:
		return v.d.probeRate(v.rows[r].Namespace, v.rows[r].Name)
	case c == v.rx || c == v.tx || c == v.rate:
		p := v.rows[r]
		rx, tx, rate := v.d.counterCells(target{kindPod, p.Namespace, p.Name})
		switch c {
		case v.rx:
			return rx
		case v.tx:
			return tx
		}
		return rate
	}
	return v.cellsR[r][c]
}

// style colours READY by the supervisor's readiness, which pod events change at once,
// before the pod's object is listed again.
func (v *podsView) style(r, c int, s string) string {
	switch {
	case c == pcName && v.rows[r].Broken != "":
		return stBad.Render(s)
	case c == v.ready && v.rows[r].Ready:
		return stOK.Render(s)
	case c == v.ready:
		return stBad.Render(s)
	}
	return s
}

func (v *podsView) key(msg tea.KeyPressMsg) tea.Cmd {
	tableKey(msg, &v.sort, v.cols, &v.cur, v.rebuild)
	return nil
}

func (v *podsView) render() string {
	if v.d == nil {
		return box([]string{" loading…"}, v.w, v.h)
	}
	v.kube.frame(v.now())
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
