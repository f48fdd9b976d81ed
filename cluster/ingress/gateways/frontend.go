package gateways

import (
	"sort"
	"strings"

	"podlab.dev/podlab/cluster/ingress/table"
)

// frontend is g's table: one table.Listener per port, merging the programmed
// listeners that share it.
//
// Flattening (see table's package comment): the VirtualHosts of a port are every
// listener's own hostname and every effective route hostname. Each belongs to the most
// specific listener whose hostname covers it, and holds only that listener's entries
// whose hostname covers it, in precedence order, so a request falls through from a
// precise host's routes to its wildcard's within a listener but never into another
// listener's (listener isolation). Since the proxy takes the first VirtualHost that
// matches, most specific first, the first match is always the right listener's.
func (c *compile) frontend(g *gateway) *table.Frontend {
	f := &table.Frontend{Key: table.FrontendGateway(g.obj.Namespace, g.obj.Name)}
	byPort := map[int32][]*listener{}
	var ports []int32
	for _, l := range g.listeners {
		if !l.programmed() {
			continue
		}
		if byPort[l.Port] == nil {
			ports = append(ports, l.Port)
		}
		byPort[l.Port] = append(byPort[l.Port], l)
	}
	sort.Slice(ports, func(i, j int) bool { return ports[i] < ports[j] })
	for _, port := range ports {
		ls := byPort[port]
		tl := &table.Listener{Port: port, Protocol: string(ls[0].Protocol)}
		var names []string
		for _, l := range ls {
			names = append(names, string(l.Name))
			tl.Certs = append(tl.Certs, l.certs...)
		}
		tl.Name = strings.Join(names, ",")
		sortCerts(tl.Certs)
		if n := len(tl.Certs); n > 0 {
			// Without SNI (a client dialling the address), the least specific
			// listener's certificate; routing then goes by Host as usual.
			tl.Default = tl.Certs[n-1].Cert
		}
		tl.VirtualHosts = virtualHosts(ls)
		f.Listeners = append(f.Listeners, tl)
	}
	return f
}

// virtualHosts flattens the listeners of one port (see frontend).
func virtualHosts(ls []*listener) []*table.VirtualHost {
	hosts := map[string]bool{}
	for _, l := range ls {
		hosts[l.hostname] = true
		for _, e := range l.entries {
			hosts[e.host] = true
		}
	}
	var out []*table.VirtualHost
	for h := range hosts {
		var owner *listener
		for _, l := range ls {
			if covers(l.hostname, h) && (owner == nil || moreSpecific(l.hostname, owner.hostname)) {
				owner = l
			}
		}
		var es []*entry
		for _, e := range owner.entries {
			if covers(e.host, h) {
				es = append(es, e)
			}
		}
		if len(es) == 0 && h != owner.hostname {
			continue // the owner's own VirtualHost answers the same
		}
		sort.SliceStable(es, func(i, j int) bool { return precedes(es[i], es[j]) })
		vh := &table.VirtualHost{Hostname: h, Listener: string(owner.Name)}
		for _, e := range es {
			vh.Routes = append(vh.Routes, e.r)
		}
		out = append(out, vh)
	}
	sort.Slice(out, func(i, j int) bool { return moreSpecific(out[i].Hostname, out[j].Hostname) })
	return out
}

// pathRank orders path match types: Exact, then RegularExpression (the
// implementation's choice, as Envoy Gateway's), then PathPrefix.
var pathRank = map[string]int{"Exact": 0, "RegularExpression": 1, "Prefix": 2}

// precedes is Gateway API's precedence between two route entries of one listener:
// (1) the more specific matching hostname; (2) Exact, then regular expressions, then
// prefixes; (3) the longer path value; (4) a method match; (5) more header matches;
// (6) more query matches; (7) the older route; (8) namespace/name; (9) rule order
// (then match order within a rule).
func precedes(a, b *entry) bool {
	if a.host != b.host {
		return moreSpecific(a.host, b.host)
	}
	am, bm := a.r.Match, b.r.Match
	if ra, rb := pathRank[am.Path.Type], pathRank[bm.Path.Type]; ra != rb {
		return ra < rb
	}
	if la, lb := len(am.Path.Value), len(bm.Path.Value); la != lb {
		return la > lb
	}
	if (am.Method != "") != (bm.Method != "") {
		return am.Method != ""
	}
	if len(am.Headers) != len(bm.Headers) {
		return len(am.Headers) > len(bm.Headers)
	}
	if len(am.Query) != len(bm.Query) {
		return len(am.Query) > len(bm.Query)
	}
	ta, tb := a.route.CreationTimestamp, b.route.CreationTimestamp
	if !ta.Equal(&tb) {
		return ta.Before(&tb)
	}
	if a.route.Namespace != b.route.Namespace {
		return a.route.Namespace < b.route.Namespace
	}
	if a.route.Name != b.route.Name {
		return a.route.Name < b.route.Name
	}
	if a.r.Source.Rule != b.r.Source.Rule {
		return a.r.Source.Rule < b.r.Source.Rule
	}
	return a.r.Source.Match < b.r.Source.Match
}
