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
//   - a map endpoint-port-counters from (original destination address . proto .
//     original destination port . endpoint IP . endpoint port) to that counter;
//   - a chain count-endpoints, jumped to from filter-input, filter-forward and
//     filter-output for packets of DNATed connections in the original direction,
//     with one rule per protocol: counter name <key> map @endpoint-port-counters.
//
// It counts every client-to-endpoint packet and byte (not only the first packet
// of a connection, which is all a nat chain ever sees), never changes a verdict,
// and a Service's figures are the sum of its endpoints'. The original port is in
// the key because a node IP is shared: two Services whose NodePorts lead to the
// same endpoint port would otherwise share one counter. nftables types "ct
// original proto-dst" only under a protocol match (without one it refuses it in a
// concatenation as "variable sized"), hence one rule per protocol.

// Counter is what nftables counted.
type Counter struct {
	Packets, Bytes uint64
}

// counterOwner says which service port and endpoint a named counter belongs to.
type counterOwner struct {
	servicePort string // "ns/name:port"
	endpoint    string // "ip:port"
}

// countedProtocols are the protocols a Service port can have.
var countedProtocols = []string{"tcp", "udp", "sctp"}

func setupCounting(tx *knftables.Transaction) {
	tx.Add(&knftables.Map{Name: endpointCountersMap,
		Type:    "ipv4_addr . inet_proto . inet_service . ipv4_addr . inet_service : counter",
		Comment: knftables.PtrTo("podlab: per-endpoint packet and byte counters")})
	for _, proto := range countedProtocols {
		tx.Add(&knftables.Rule{Chain: countEndpointsChain,
			Rule: "meta l4proto " + proto + " counter name ct original ip daddr . meta l4proto . ct original proto-dst . ip daddr . th dport map @" + endpointCountersMap})
	}
}

// countEndpoints ensures the counters of one service port and the map elements
// that lead to them, for every address the service port is reachable on.
func (p *Proxier) countEndpoints(tx *knftables.Transaction, st *syncState, sp *servicePort, eps []*endpoint,
	epNames map[*endpoint]string, hasInternal, hasEndpoints bool) {
	if len(eps) == 0 {
		return
	}
	type dest struct {
		ip   string
		port int
	}
	var dests []dest
	if hasInternal {
		dests = append(dests, dest{sp.clusterIP.String(), sp.port})
	}
	if hasEndpoints {
		for _, ip := range sp.externalIPs {
			dests = append(dests, dest{ip.String(), sp.port})
		}
		for _, ip := range sp.lbVIPs {
			dests = append(dests, dest{ip.String(), sp.port})
		}
		if sp.nodePort != 0 {
			for _, ip := range p.nodeIPs {
				dests = append(dests, dest{ip.String(), sp.nodePort})
			}
		}
	}
	for _, ep := range eps {
		name := endpointChainPrefix + epNames[ep]
		_, holds := held(st.gone.counters, p.counters, name)
		st.counters[name] = counterOwner{servicePort: sp.nameString, endpoint: ep.key}
		if p.rec != nil {
			p.rec.counters[name] = st.counters[name]
		}
		if !holds {
			tx.Add(&knftables.Counter{Name: name})
		}
		value := []string{strconv.Quote(name)}
		for _, d := range dests {
			p.endpointCounters.ensure(tx, []string{d.ip, sp.protocol, strconv.Itoa(d.port), ep.ip.String(), strconv.Itoa(ep.port)}, value, "")
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
