package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab.dev/podlab/events"
)

// maxEvents bounds the events kept in memory: a 1,000-pod deploy makes a few thousand.
const maxEvents = 20000

// eventsView is the live event stream; it follows the newest event while the cursor
// is on the last row.
type eventsView struct {
	all  []events.Event
	w, h int
	filt string
	obj  *target // only this object's events (E on a selected object), as k9s's describe ends
	rows []int   // indexes into all
	cols []column
	nat  []int // widest cell of each column so far, measured as events arrive
	cur  cursor
}

const (
	ecTime = iota
	ecType
	ecKind
	ecObject
	ecMessage
)

func newEventsView() *eventsView {
	v := &eventsView{cols: []column{
		ecTime: {title: "TIME", fixed: 12, prio: 5},
		ecType: {title: "TYPE", fixed: 17, prio: 9},
		// KIND is cut only below the longest common kinds (NetworkPolicy,
		// EndpointSlice); OBJECT and MESSAGE give way first.
		ecKind:    {title: "KIND", max: 24, min: 13, prio: 3},
		ecObject:  {title: "OBJECT", max: 60, min: 12, prio: 8},
		ecMessage: {title: "MESSAGE", min: 7, prio: 1},
	}}
	v.nat = make([]int, len(v.cols))
	v.cur.pos = -1 // following
	return v
}

func (v *eventsView) name() string       { return "events" }
func (v *eventsView) filter() string     { return v.filt }
func (v *eventsView) setFilter(f string) { v.filt = f; v.refilter() }
func (v *eventsView) setData(*labData)   {}

// setObject shows only t's events (all of them again when t is nil).
func (v *eventsView) setObject(t *target) {
	v.obj = t
	v.refilter()
	v.cur.pos = len(v.rows) - 1 // the newest, and following
	v.cur.clamp()
}

// of says whether e is about the object the view is scoped to, as kubectl describe
// selects an object's events by involvedObject.
func (v *eventsView) of(e events.Event) bool {
	return v.obj == nil || (e.Kind == v.obj.Kind && e.Namespace == v.obj.Namespace && e.Name == v.obj.Name)
}

func (v *eventsView) setSize(w, h int) {
	v.w, v.h = w, h
	v.cur.setHeight(h - 1)
	v.relayout()
}

func (v *eventsView) relayout() {
	if v.w > 0 {
		layout(v.cols, v.nat, v.w-1)
	}
}

// measure widens the columns to e's cells; it says whether any grew.
func (v *eventsView) measure(cells []string) bool {
	grew := false
	for i, c := range cells {
		if w := ansi.StringWidth(c); w > v.nat[i] {
			v.nat[i], grew = w, true
		}
	}
	return grew
}

// reset drops every event: the stream restarted and replays them all.
func (v *eventsView) reset() {
	v.all = v.all[:0]
	v.rows = v.rows[:0]
	v.cur.setLen(0)
}

// add appends events; only the new ones are matched against the filter.
func (v *eventsView) add(evs []events.Event) {
	follow := v.cur.atEnd()
	if len(v.all)+len(evs) > maxEvents {
		drop := len(v.all) + len(evs) - maxEvents/2
		if drop >= len(v.all) {
			evs = evs[drop-len(v.all):]
			drop = len(v.all)
		}
		v.all = append(v.all[:0], v.all[drop:]...)
		v.refilter()
	}
	f := strings.ToLower(v.filt)
	grew := false
	for _, e := range evs {
		v.all = append(v.all, e)
		cells := v.cells(e)
		grew = v.measure(cells) || grew
		if v.of(e) && (f == "" || matches(f, cells)) {
			v.rows = append(v.rows, len(v.all)-1)
		}
	}
	if grew {
		v.relayout()
	}
	v.cur.setLen(len(v.rows))
	if follow {
		v.cur.pos = len(v.rows) - 1
		v.cur.clamp()
	}
}

func (v *eventsView) refilter() {
	v.rows = v.rows[:0]
	f := strings.ToLower(v.filt)
	for i, e := range v.all {
		if v.of(e) && (f == "" || matches(f, v.cells(e))) {
			v.rows = append(v.rows, i)
		}
	}
	v.cur.setLen(len(v.rows))
}

func (v *eventsView) cells(e events.Event) []string {
	obj := e.Name
	if e.Namespace != "" {
		obj = e.Namespace + "/" + e.Name
	}
	return []string{e.Time.Format("15:04:05.000"), e.Type, e.Kind, orDash(obj), e.Message}
}

func (v *eventsView) key(msg tea.KeyPressMsg) tea.Cmd {
	v.cur.key(msg)
	return nil
}

func (v *eventsView) render() string {
	lines := renderTable(v.cols, &v.cur, func(r, c int) string { return v.cells(v.all[v.rows[r]])[c] },
		func(r, c int, s string) string {
			if c != ecType {
				return s
			}
			switch v.all[v.rows[r]].Type {
			case events.Warning, events.PodNotReady, events.SupervisorStopped:
				return stWarn.Render(s)
			case events.PodDeleted:
				return stBad.Render(s)
			}
			return s
		})
	if len(v.rows) == 0 && v.obj != nil {
		lines = append(lines, stDim.Render(" no events of "+v.obj.String()+" (esc: every event)"))
	} else if len(v.rows) == 0 {
		lines = append(lines, stDim.Render(" no events yet"))
	}
	return box(lines, v.w, v.h)
}

// object is the selected event's object, whatever its kind.
func (v *eventsView) object() (target, bool) {
	if v.cur.pos < 0 || v.cur.pos >= len(v.rows) {
		return target{}, false
	}
	e := v.all[v.rows[v.cur.pos]]
	return target{e.Kind, e.Namespace, e.Name}, e.Kind != ""
}

// selected is the event's object when it is a pod, node or host.
func (v *eventsView) selected() (target, bool) {
	if v.cur.pos < 0 || v.cur.pos >= len(v.rows) {
		return target{}, false
	}
	e := v.all[v.rows[v.cur.pos]]
	switch e.Kind {
	case kindPod, kindNode, kindHost:
		return target{e.Kind, e.Namespace, e.Name}, true
	}
	return target{}, false
}
