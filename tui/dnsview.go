package tui

import (
	"context"
	"net/netip"
	"strings"

	"podlab.dev/podlab/cluster/api"
)

// dnsQueriesShown is how many of the newest queries the :dns view asks for.
const dnsQueriesShown = 500

// dnsView lists the newest queries the lab's DNS servers answered (CoreDNS pods, hosts
// serving zones), newest first, polled while shown: the supervisor's query log, which
// `podlab logs` prints too.
type dnsView struct{ logTable[api.DNSQuery] }

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
	return &dnsView{logTable[api.DNSQuery]{cells: dnsCells, same: func(a, b *api.DNSQuery) bool {
		return a.Time.Equal(b.Time) && a.ID == b.ID && a.Client == b.Client
	}, cols: []column{
		dcTime:    {title: "TIME", fixed: 12, prio: 6},
		dcClient:  {title: "CLIENT", max: 32, min: 10, prio: 9},
		dcName:    {title: "NAME", max: 60, min: 26, prio: 10},
		dcType:    {title: "TYPE", fixed: 5, prio: 8},
		dcRcode:   {title: "RCODE", fixed: 8, prio: 8},
		dcAnswer:  {title: "ANSWER", max: 48, min: 7, prio: 4},
		dcLatency: {title: "LATENCY", fixed: 7, right: true, prio: 7},
		dcServer:  {title: "SERVER", max: 28, min: 6, prio: 3},
	}}}
}

func (v *dnsView) name() string { return "dns" }

// dnsPoller polls the query log while v is shown.
func dnsPoller(v *dnsView) *poller {
	return &poller{v: v, label: "dns queries", fetch: func(ctx context.Context, src Source) func() error {
		qs, err := src.DNSQueries(ctx, dnsQueriesShown)
		return func() error { v.set(qs, err); return err }
	}}
}

// dnsCells is one query's row: the client as the lab names it, the answer's data,
// the answering pod or host.
func dnsCells(q *api.DNSQuery) []string {
	server := q.Server
	if _, name, ok := strings.Cut(server, "/"); ok {
		server = name
	}
	return []string{q.Time.Format("15:04:05.000"), clientName(q.From, q.Client), q.Name, q.Type, q.Rcode, orDash(q.AnswerData()), q.Latency(), orDash(server)}
}

// clientName is a client as the lab names it: ns/pod, "node NAME", "host NAME", or
// its address (ip:port) without the port when no pod, node or host has it.
func clientName(from api.ObjectRef, addr string) string {
	switch from.Kind {
	case "":
		if ap, err := netip.ParseAddrPort(addr); err == nil {
			return ap.Addr().String()
		}
		return addr
	case kindPod:
		return podKey(from.Namespace, from.Name)
	case kindNode:
		return "node " + from.Name
	case kindHost:
		return "host " + from.Name
	}
	return from.Name
}

func (v *dnsView) render() string {
	return v.draw("dns queries", "no DNS queries yet (try: podlab exec POD -- nslookup kubernetes.default)", "query",
		func(r, c int, s string) string {
			if c == dcRcode && v.row(r).Rcode != "NOERROR" {
				return stWarn.Render(s)
			}
			return s
		})
}

// selected is the client of the query when the lab has it.
func (v *dnsView) selected() (target, bool) {
	if q, ok := v.picked(); ok {
		return fromTarget(q.From)
	}
	return target{}, false
}

// fromTarget is the pod, node or host a client is, for enter and s; false when the
// lab has none with its address.
func fromTarget(from api.ObjectRef) (target, bool) {
	switch from.Kind {
	case kindPod, kindNode, kindHost:
		return target{from.Kind, from.Namespace, from.Name}, true
	}
	return target{}, false
}
