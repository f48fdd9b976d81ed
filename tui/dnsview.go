package tui

import (
	"context"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"podlab.dev/podlab/cluster/api"
)

// dnsQueriesShown is how many of the newest queries the :dns view asks for.
const dnsQueriesShown = 500

// dnsView lists the newest queries the lab's DNS servers answered (CoreDNS pods, hosts
// serving zones), newest first, polled while shown: the supervisor's query log, which
// `podlab logs` prints too.
type dnsView struct {
	qs     []api.DNSQuery
	err    error
	loaded bool
	w, h   int
	filt   string
	rows   []int // indexes into qs
	cellsR [][]string
	cols   []column
	nat    []int
	cur    cursor
}

const (
	dcTime = iota
	dcClient
	dcName
	dcType
	dcRcode
	dcAnswer
	dcLatency
	dcServer
)

func newDNSView() *dnsView {
	return &dnsView{cols: []column{
		dcTime:    {title: "TIME", fixed: 12, prio: 6},
		dcClient:  {title: "CLIENT", max: 32, min: 10, prio: 9},
		dcName:    {title: "NAME", max: 60, min: 26, prio: 10},
		dcType:    {title: "TYPE", fixed: 5, prio: 8},
		dcRcode:   {title: "RCODE", fixed: 8, prio: 8},
		dcAnswer:  {title: "ANSWER", max: 48, min: 7, prio: 4},
		dcLatency: {title: "LATENCY", fixed: 7, right: true, prio: 7},
		dcServer:  {title: "SERVER", max: 28, min: 6, prio: 3},
	}}
}

func (v *dnsView) name() string       { return "dns" }
func (v *dnsView) filter() string     { return v.filt }
func (v *dnsView) setFilter(f string) { v.filt = f; v.rebuild() }
func (v *dnsView) setData(*labData)   {}

func (v *dnsView) setSize(w, h int) {
	v.w, v.h = w, h
	v.cur.setHeight(h - 1)
	v.relayout()
}

// setQueries replaces the list; the cursor stays on the query it was on.
func (v *dnsView) setQueries(qs []api.DNSQuery, err error) {
	v.err = err
	if err != nil {
		return
	}
	var keep *api.DNSQuery
	if v.cur.pos > 0 && v.cur.pos < len(v.rows) {
		keep = &v.qs[v.rows[v.cur.pos]]
	}
	v.qs, v.loaded = qs, true
	v.rebuild()
	if keep != nil {
		for i, r := range v.rows {
			if q := &v.qs[r]; q.Time.Equal(keep.Time) && q.ID == keep.ID && q.Client == keep.Client {
				v.cur.pos = i
				v.cur.clamp()
				break
			}
		}
	}
}

func (v *dnsView) rebuild() {
	v.rows, v.cellsR = v.rows[:0], v.cellsR[:0]
	f := strings.ToLower(v.filt)
	for i := range v.qs {
		cells := dnsCells(&v.qs[i])
		if f != "" && !matches(f, cells) {
			continue
		}
		v.rows = append(v.rows, i)
		v.cellsR = append(v.cellsR, cells)
	}
	v.cur.setLen(len(v.rows))
	v.nat = naturalWidths(v.cols, len(v.rows), func(r, c int) string { return v.cellsR[r][c] })
	v.relayout()
}

func (v *dnsView) relayout() {
	if v.nat != nil && v.w > 0 {
		layout(v.cols, v.nat, v.w-1)
	}
}

// dnsCells is one query's row: the client as the lab names it (its address when no
// pod, node or host has it), the answer's data, the answering pod or host.
func dnsCells(q *api.DNSQuery) []string {
	client := q.From.Name
	switch {
	case q.From.Kind == "":
		client, _, _ = strings.Cut(q.Client, ":")
	case q.From.Kind == kindPod:
		client = podKey(q.From.Namespace, q.From.Name)
	case q.From.Kind == kindNode:
		client = "node " + client
	case q.From.Kind == kindHost:
		client = "host " + client
	}
	server := q.Server
	if _, name, ok := strings.Cut(server, "/"); ok {
		server = name
	}
	return []string{q.Time.Format("15:04:05.000"), client, q.Name, q.Type, q.Rcode, orDash(q.AnswerData()), q.Latency(), orDash(server)}
}

func (v *dnsView) key(msg tea.KeyPressMsg) tea.Cmd {
	v.cur.key(msg)
	return nil
}

func (v *dnsView) render() string {
	if !v.loaded {
		if v.err != nil {
			return box([]string{stErr.Render(" dns queries: " + v.err.Error())}, v.w, v.h)
		}
		return box([]string{" loading…"}, v.w, v.h)
	}
	lines := renderTable(v.cols, &v.cur, func(r, c int) string { return v.cellsR[r][c] }, func(r, c int, s string) string {
		if c == dcRcode && v.qs[v.rows[r]].Rcode != "NOERROR" {
			return stWarn.Render(s)
		}
		return s
	})
	if len(v.rows) == 0 {
		if v.filt != "" {
			lines = append(lines, stDim.Render(" no query matches /"+v.filt))
		} else {
			lines = append(lines, stDim.Render(" no DNS queries yet (try: podlab exec POD -- nslookup kubernetes.default)"))
		}
	}
	return box(lines, v.w, v.h)
}

// selected is the client of the query when the lab has it.
func (v *dnsView) selected() (target, bool) {
	if v.cur.pos < 0 || v.cur.pos >= len(v.rows) {
		return target{}, false
	}
	from := v.qs[v.rows[v.cur.pos]].From
	switch from.Kind {
	case kindPod, kindNode, kindHost:
		return target{from.Kind, from.Namespace, from.Name}, true
	}
	return target{}, false
}

type (
	dnsTickMsg    struct{ sess int }
	dnsQueriesMsg struct {
		sess int
		qs   []api.DNSQuery
		err  error
	}
)

// dnsShown says whether the :dns view is on screen: only then is it polled.
func (a *App) dnsShown() bool {
	return a.inLab && a.dnsv != nil && a.detail == nil && a.current() == view(a.dnsv)
}

// syncDNSPolling starts polling the query log when the view is shown; the loop stops
// by itself at its next tick once it is not.
func (a *App) syncDNSPolling() tea.Cmd {
	if a.dnsPolling || !a.dnsShown() {
		return nil
	}
	a.dnsPolling = true
	return a.fetchDNS()
}

func (a *App) fetchDNS() tea.Cmd {
	src, ctx, sess := a.src, a.ctx, a.sess
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		qs, err := src.DNSQueries(c, dnsQueriesShown)
		return dnsQueriesMsg{sess: sess, qs: qs, err: err}
	}
}

// onDNSMsg handles the :dns view's messages; ok is false for other messages.
func (a *App) onDNSMsg(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case dnsTickMsg:
		if msg.sess != a.sess {
			return nil, true
		}
		if !a.dnsShown() {
			a.dnsPolling = false
			return nil, true
		}
		return a.fetchDNS(), true
	case dnsQueriesMsg:
		if msg.sess != a.sess {
			return nil, true
		}
		a.dnsv.setQueries(msg.qs, msg.err)
		if msg.err != nil && a.dnsShown() {
			a.setStatus("dns queries: "+msg.err.Error(), true)
		}
		if !a.dnsShown() {
			a.dnsPolling = false
			return nil, true
		}
		sess := a.sess
		return tea.Tick(a.cfg.CountersEvery, func(time.Time) tea.Msg { return dnsTickMsg{sess} }), true
	}
	return nil, false
}
