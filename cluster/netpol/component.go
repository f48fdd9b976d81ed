package netpol

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// NodeEnforcer programs one node's share of the rules (the dataplane: nft.go's
// Enforcer, or a fake in tests).
type NodeEnforcer interface {
	Sync(ctx context.Context, rules []PodRules) error
}

// Component is NetworkPolicy enforcement as a component: at every change of a Pod,
// Namespace or NetworkPolicy it compiles the policies (Compile) and hands each node
// the rules of its pods, then Synced moves on, so an API write returns once every node
// enforces it. A lab that has never had a policy opens nothing.
type Component struct {
	component.Loop
	nodes []string
	open  func(node string) (NodeEnforcer, error)
	iface func(*corev1.Pod) string
	emit  component.Emit

	mu        sync.Mutex // guards enforcers: Counters reads it from the API's goroutines
	enforcers map[string]NodeEnforcer
	last      map[string]uint64 // node -> hash of the rules it enforces
	active    bool              // a policy has existed: the tables are open
}

// NewComponent returns the component for nodes; open opens a node's dataplane, iface
// names a pod's interface in its node.
func NewComponent(nodes []string, open func(node string) (NodeEnforcer, error), iface func(*corev1.Pod) string, emit component.Emit) *Component {
	c := &Component{nodes: nodes, open: open, iface: iface, emit: emit, enforcers: map[string]NodeEnforcer{}, last: map[string]uint64{}}
	c.Interest = func(r store.Reader, ch store.Change) bool {
		switch ch.Key.Kind {
		case "NetworkPolicy", "Namespace":
			return true
		case "Pod":
			return c.active || r.Count("NetworkPolicy") > 0
		}
		return false
	}
	return c
}

func (c *Component) Name() string { return "netpol" }

// Run enforces the store's policies until ctx ends.
func (c *Component) Run(ctx context.Context, r store.Reader) error {
	return c.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { c.sync(ctx, r) })
}

func (c *Component) sync(ctx context.Context, r store.Reader) {
	if !c.active && r.Count("NetworkPolicy") == 0 {
		return
	}
	c.active = true
	byNode := map[string][]PodRules{}
	for _, pr := range FromStore(r).Compile(c.iface) {
		byNode[pr.Node] = append(byNode[pr.Node], pr)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, node := range c.nodes {
		rules := byNode[node]
		h := hashRules(rules)
		if old, ok := c.last[node]; ok && old == h {
			continue
		}
		enf := c.enforcers[node]
		if enf == nil {
			var err error
			if enf, err = c.open(node); err != nil {
				c.warn(node, err)
				continue
			}
			c.mu.Lock()
			c.enforcers[node] = enf
			c.mu.Unlock()
		}
		wg.Go(func() {
			err := enf.Sync(ctx, rules)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				delete(c.last, node) // tried again at the next change
				c.warn(node, err)
				return
			}
			c.last[node] = h
		})
	}
	wg.Wait()
}

func (c *Component) warn(node string, err error) {
	if c.emit != nil {
		c.emit(events.Event{Type: events.Warning, Kind: "Node", Name: node, Node: node, Message: fmt.Sprintf("network policy: %v", err)})
	}
}

// hashRules fingerprints a node's rules (Compile's output is deterministic), field by
// field: formatting them with fmt took longer than compiling them.
func hashRules(rules []PodRules) uint64 {
	h := fnv.New64a()
	var b []byte
	str := func(s string) { b = append(append(b, s...), 0) }
	num := func(n int64) { b = binary.AppendVarint(b, n) }
	addr := func(a netip.Addr) { b, _ = a.AppendBinary(b) }
	ruleList := func(rs []Rule) {
		num(int64(len(rs)))
		for _, r := range rs {
			str(r.Policy)
			num(int64(r.Index))
			num(int64(len(r.Peers)))
			for _, p := range r.Peers {
				num(int64(len(p.IPs)))
				for _, ip := range p.IPs {
					addr(ip)
				}
				b, _ = p.CIDR.AppendBinary(b)
				num(int64(len(p.Except)))
				for _, x := range p.Except {
					b, _ = x.AppendBinary(b)
				}
			}
			num(int64(len(r.Ports)))
			for _, pt := range r.Ports {
				str(pt.Protocol)
				num(int64(pt.Port))
				num(int64(pt.EndPort))
			}
		}
	}
	num(int64(len(rules)))
	for _, r := range rules {
		str(r.Namespace)
		str(r.Name)
		str(r.Iface)
		addr(r.IP)
		flags := int64(0)
		if r.IngressIsolated {
			flags |= 1
		}
		if r.EgressIsolated {
			flags |= 2
		}
		num(flags)
		ruleList(r.Ingress)
		ruleList(r.Egress)
		if len(b) > 1<<16 {
			h.Write(b)
			b = b[:0]
		}
	}
	h.Write(b)
	return h.Sum64()
}
