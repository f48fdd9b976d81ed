package proxy

import (
	"context"
	"fmt"
	"strconv"

	"sigs.k8s.io/knftables"
)

// Per-endpoint accounting is podlab's addition to upstream's layout. Upstream
// (v1.36+) DNATs straight from the service chain through a numgen-indexed map, so
// no rule knows the chosen endpoint before DNAT; after DNAT it is known. So:
//
//   - one named counter per (service port, endpoint), named like the endpoint's
//     chain ("endpoint-<H>-ns/svc/proto/port__ip/port");
//   - a map endpoint-counters from (original destination . proto . endpoint IP .
//     endpoint port) to that counter;
//   - a chain count-endpoints, jumped to from filter-input, filter-forward and
//     filter-output for packets of DNATed connections in the original direction,
//     with one rule: counter name <key> map @endpoint-counters.
//
// It counts every client-to-endpoint packet and byte (not only the first packet
// of a connection, which is all a nat chain ever sees), never changes a verdict,
// and a Service's figures are the sum of its endpoints'. Limit: the key has the
// original destination address but not the original port (nftables cannot
// concatenate "ct original proto-dst"), so two ports of one Service that target
// the same endpoint port share the first port's counter.

// Counter is what nftables counted.
type Counter struct {
	Packets, Bytes uint64
}

// counterOwner says which service port and endpoint a named counter belongs to.
type counterOwner struct {
	servicePort string // "ns/name:port"
	endpoint    string // "ip:port"
}

func setupCounting(tx *knftables.Transaction) {
	tx.Add(&knftables.Map{Name: endpointCountersMap,
		Type:    "ipv4_addr . inet_proto . ipv4_addr . inet_service : counter",
		Comment: knftables.PtrTo("podlab: per-endpoint packet and byte counters")})
	tx.Add(&knftables.Rule{Chain: countEndpointsChain,
		Rule: "counter name ct original ip daddr . meta l4proto . ip daddr . th dport map @" + endpointCountersMap})
}

// countEndpoints ensures the counters of one service port and the map elements
// that lead to them, for every address the service port is reachable on.
func (p *Proxier) countEndpoints(tx *knftables.Transaction, st *syncState, sp *servicePort, eps []*endpoint,
	epNames map[*endpoint]string, hasInternal, hasEndpoints bool) {
	if len(eps) == 0 {
		return
	}
	var vips []string
	if hasInternal {
		vips = append(vips, sp.clusterIP.String())
	}
	if hasEndpoints {
		for _, ip := range sp.externalIPs {
			vips = append(vips, ip.String())
		}
		for _, ip := range sp.lbVIPs {
			vips = append(vips, ip.String())
		}
		if sp.nodePort != 0 {
			for _, ip := range p.nodeIPs {
				vips = append(vips, ip.String())
			}
		}
	}
	for _, ep := range eps {
		name := endpointChainPrefix + epNames[ep]
		st.counters[name] = counterOwner{servicePort: sp.nameString, endpoint: ep.key}
		if p.rec != nil {
			p.rec.counters[name] = st.counters[name]
		}
		if _, ok := p.counters[name]; !ok {
			tx.Add(&knftables.Counter{Name: name})
		}
		value := []string{strconv.Quote(name)}
		for _, vip := range vips {
			p.endpointCounters.ensure(tx, []string{vip, sp.protocol, ep.ip.String(), strconv.Itoa(ep.port)}, value, "")
		}
	}
}

// Counters reads the counters back. Keys are "ns/name:port" for a service port
// (the sum of its endpoints) and "ns/name:port@ip:port" for one endpoint; a port
// without a name is "ns/name".
func (p *Proxier) Counters(ctx context.Context) (map[string]Counter, error) {
	p.mu.Lock()
	owners := make(map[string]counterOwner, len(p.counters))
	for name, o := range p.counters {
		owners[name] = o
	}
	p.mu.Unlock()

	list, err := p.nft.ListCounters(ctx)
	if err != nil {
		return nil, fmt.Errorf("proxy: list counters of table %s: %w", tableName, err)
	}
	out := make(map[string]Counter)
	for _, c := range list {
		if c == nil {
			continue // knftables' Fake pads its list with nils
		}
		o, ok := owners[c.Name]
		if !ok {
			continue
		}
		var v Counter
		if c.Packets != nil {
			v.Packets = *c.Packets
		}
		if c.Bytes != nil {
			v.Bytes = *c.Bytes
		}
		out[o.servicePort+"@"+o.endpoint] = v
		sum := out[o.servicePort]
		sum.Packets += v.Packets
		sum.Bytes += v.Bytes
		out[o.servicePort] = sum
	}
	return out, nil
}
