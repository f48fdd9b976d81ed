package netpol

import (
	"context"
	"fmt"
	"maps"
)

// Counter is what nftables counted.
type Counter struct {
	Packets, Bytes uint64
}

// Counters reads the table's named counters back, keyed
//
//	drop/<ingress|egress>/<namespace>/<pod>          packets an isolated pod's default deny dropped
//	allow/<ingress|egress>/<namespace>/<policy>/<i>  packets rule i of the policy allowed
//
// In the default mode an allow counts the first packet of each connection (the rest
// are established); with EnforceEstablished every packet in the original direction.
func (e *Enforcer) Counters(ctx context.Context) (map[string]Counter, error) {
	e.mu.Lock()
	keys := maps.Clone(e.counters) // counter name -> key
	e.mu.Unlock()

	list, err := e.nft.ListCounters(ctx)
	if err != nil {
		return nil, fmt.Errorf("netpol: list counters of table ip %s on node %s: %w", TableName, e.opt.Node, err)
	}
	out := make(map[string]Counter, len(keys))
	for _, c := range list {
		if c == nil { // knftables' Fake pads its list with nils
			continue
		}
		if k, ok := keys[c.Name]; ok {
			out[k] = Counter{Packets: value(c.Packets), Bytes: value(c.Bytes)}
		}
	}
	return out, nil
}

func value(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}
