package tui

import (
	"context"
	"strconv"

	"podlab.dev/podlab/cluster/api"
)

// accessShown is how many of the newest requests the :ingress view asks for.
const accessShown = 500

// ingressView lists the newest requests the lab's ingress and gateway proxies served,
// newest first as :dns lists queries, polled while shown: the access log that
// `podlab logs` prints for a proxy pod, with the rule that took each request.
type ingressView struct{ logTable[api.AccessEntry] }

const (
	icTime = iota
	icFrom
	icHost
	icMethod
	icPath
	icStatus
	icMatched
	icBackend
	icUpstream
	icDuration
)

// At 80 columns the table keeps what says where a request went (the rule first, it
// grows before the others, then path, status, client, host) and drops the duration,
// time, backend and upstream.
func newIngressView() *ingressView {
	return &ingressView{logTable[api.AccessEntry]{cells: accessCells, same: func(a, b *api.AccessEntry) bool {
		return a.Time.Equal(b.Time) && a.Client == b.Client && a.Pod == b.Pod
	}, cols: []column{
		icTime:     {title: "TIME", fixed: 12, prio: 5},
		icFrom:     {title: "FROM", max: 32, min: 10, prio: 8},
		icHost:     {title: "HOST", max: 40, min: 10, prio: 8},
		icMethod:   {title: "METHOD", max: 7, prio: 7},
		icPath:     {title: "PATH", max: 48, min: 8, prio: 10},
		icStatus:   {title: "STATUS", fixed: 6, right: true, prio: 10},
		icMatched:  {title: "MATCHED", max: 60, min: 20, prio: 11},
		icBackend:  {title: "BACKEND", max: 40, min: 10, prio: 4},
		icUpstream: {title: "UPSTREAM", max: 21, min: 9, prio: 3},
		icDuration: {title: "DURATION", fixed: 8, right: true, prio: 6},
	}}}
}

func (v *ingressView) name() string { return "ingress" }

// ingressPoller polls the access log while v is shown.
func ingressPoller(v *ingressView) *poller {
	return &poller{v: v, label: "access log", fetch: func(ctx context.Context, src Source) func() error {
		es, err := src.AccessLog(ctx, accessShown)
		return func() error { v.set(es, err); return err }
	}}
}

// accessCells is one request's row: the client as the lab names it, the rule that
// took it ("-": none, a 404), the Service port and the endpoint it went to.
func accessCells(e *api.AccessEntry) []string {
	return []string{e.Time.Format("15:04:05.000"), clientName(e.From, e.Client), e.Host, e.Method, e.Path,
		strconv.Itoa(e.Status), orDash(e.Matched), orDash(e.Backend), orDash(e.Upstream), e.Duration()}
}

func (v *ingressView) render() string {
	return v.draw("access log", "no requests yet: apply an Ingress or a Gateway and its HTTPRoutes, then curl its address", "request",
		func(r, c int, s string) string {
			switch st := v.row(r).Status; {
			case c != icStatus:
			case st >= 500:
				return stErr.Render(s)
			case st >= 400:
				return stWarn.Render(s)
			}
			return s
		})
}

// selected is the client of the request when the lab has it.
func (v *ingressView) selected() (target, bool) {
	if e, ok := v.picked(); ok {
		return fromTarget(e.From)
	}
	return target{}, false
}
