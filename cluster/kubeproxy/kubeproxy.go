// Package kubeproxy is kube-proxy on every node of a lab, as a component: it reads the
// Services and EndpointSlices of the object store and hands them to each node's
// proxy.Proxier, which owns that node's `ip kube-proxy` table. The proxiers start with
// the first Service (their nft processes would only slow a deploy without Services) and
// re-adopt a table a previous supervisor left, without flushing it.
//
// It also answers ARP for LoadBalancer IPs from one node, as MetalLB's layer-2 speaker
// does (Speaker). It never writes objects.
package kubeproxy

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/proxy"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// NewProxier opens one node's proxier (an nft process in the node's namespace).
type NewProxier func(node string) (*proxy.Proxier, error)

// KubeProxy runs every node's proxier.
type KubeProxy struct {
	component.Loop
	nodes []string
	open  NewProxier
	emit  component.Emit
	built <-chan struct{}

	mu       sync.Mutex
	proxiers map[string]*proxy.Proxier
	// last is what the previous sync programmed, by resourceVersion: most store
	// writes (a pod's status) change no Service or slice, and cost no sync.
	last string
	// after are the components whose writes kube-proxy programs (the endpoints
	// controller): a sync waits until they have caught up with its generation, so
	// that a new Service and its slices cost one nft transaction per node, not two.
	after []component.Component
	gates []<-chan struct{}
}

// Gate holds kube-proxy's first sync back until c is closed.
func (k *KubeProxy) Gate(c <-chan struct{}) { k.gates = append(k.gates, c) }

// After makes kube-proxy wait for cs before each sync.
func (k *KubeProxy) After(cs ...component.Component) { k.after = append(k.after, cs...) }

// waitFor returns once every component of after has synced gen and what it wrote
// (a short bound: kube-proxy never stalls on them).
func (k *KubeProxy) waitFor(ctx context.Context, r store.Reader, gen uint64) {
	if len(k.after) == 0 {
		return
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for !component.Settled(k.after, gen) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(200 * time.Microsecond)
	}
}

// New returns kube-proxy for nodes; built, when not nil, holds it back until deploy
// has built the network.
func New(nodes []string, open NewProxier, emit component.Emit, built <-chan struct{}) *KubeProxy {
	k := &KubeProxy{nodes: nodes, open: open, emit: emit, built: built}
	k.Interest = func(_ store.Reader, c store.Change) bool {
		return c.Key.Kind == "Service" || c.Key.Kind == "EndpointSlice"
	}
	return k
}

func (k *KubeProxy) Name() string { return "kube-proxy" }

func (k *KubeProxy) Run(ctx context.Context, r store.Reader) error {
	for _, gate := range append([]<-chan struct{}{k.built}, k.gates...) {
		if gate == nil {
			continue
		}
		select {
		case <-gate:
		case <-ctx.Done():
			return nil
		}
	}
	return k.Loop.Run(ctx, r, func(ctx context.Context, gen uint64) {
		k.waitFor(ctx, r, gen)
		k.Sync(ctx, r)
	})
}

// Objects are the Services and EndpointSlices kube-proxy programs.
func Objects(r store.Reader) ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	so := r.List("Service", "")
	svcs := make([]*corev1.Service, 0, len(so))
	for _, o := range so {
		svcs = append(svcs, o.(*corev1.Service))
	}
	lo := r.List("EndpointSlice", "")
	slices := make([]*discoveryv1.EndpointSlice, 0, len(lo))
	for _, o := range lo {
		slices = append(slices, o.(*discoveryv1.EndpointSlice))
	}
	return svcs, slices
}

// fingerprint names the exact versions of what kube-proxy programs.
func fingerprint(svcs []*corev1.Service, slices []*discoveryv1.EndpointSlice) string {
	var b strings.Builder
	for _, s := range svcs {
		b.WriteString(s.Namespace + "/" + s.Name + "@" + s.ResourceVersion + ";")
	}
	for _, s := range slices {
		b.WriteString(s.Namespace + "/" + s.Name + "@" + s.ResourceVersion + ";")
	}
	return b.String()
}

// Sync programs every node once, when what it programs changed.
func (k *KubeProxy) Sync(ctx context.Context, r store.Reader) {
	svcs, slices := Objects(r)
	fp := fingerprint(svcs, slices)
	k.mu.Lock()
	same := fp == k.last && k.proxiers != nil
	k.mu.Unlock()
	if same {
		return
	}
	proxiers := k.started(len(svcs)+len(slices) > 0)
	var wg sync.WaitGroup
	var failed atomic.Bool
	// A full sync (the first, or after a restart: every element read back) is CPU
	// work: one node at a time on a small machine, so that the pods' servers keep a
	// core. Incremental ones mostly wait for nft: all nodes at once.
	full := make(chan struct{}, max(1, runtime.GOMAXPROCS(0)-1))
	for node, px := range proxiers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if px.NeedsFullSync() {
				full <- struct{}{}
				defer func() { <-full }()
			}
			if err := px.Sync(ctx, svcs, slices); err != nil {
				failed.Store(true)
				if ctx.Err() == nil && k.emit != nil {
					k.emit(events.Event{Type: events.Warning, Kind: "Node", Name: node, Node: node, Message: "kube-proxy sync: " + err.Error()})
				}
			}
		}()
	}
	wg.Wait()
	if len(proxiers) > 0 && !failed.Load() {
		k.mu.Lock()
		k.last = fp
		k.mu.Unlock()
	}
}

// started opens the proxiers once they are needed, in parallel.
func (k *KubeProxy) started(needed bool) map[string]*proxy.Proxier {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.proxiers != nil || !needed {
		return k.proxiers
	}
	out := make(map[string]*proxy.Proxier, len(k.nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range k.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			px, err := k.open(n)
			if err != nil {
				if k.emit != nil {
					k.emit(events.Event{Type: events.Warning, Kind: "Node", Name: n, Node: n, Message: "kube-proxy: " + err.Error()})
				}
				return
			}
			mu.Lock()
			out[n] = px
			mu.Unlock()
		}()
	}
	wg.Wait()
	k.proxiers = out
	return out
}

// Counter is what an nftables counter counted.
type Counter struct{ Packets, Bytes uint64 }

// Counters sums kube-proxy's per-Service and per-endpoint counters over every node:
// services by "namespace/name", endpoints by "namespace/name[:port]@ip:port".
func (k *KubeProxy) Counters(ctx context.Context) (services, endpoints map[string]Counter, err error) {
	k.mu.Lock()
	proxiers := k.proxiers
	k.mu.Unlock()
	services, endpoints = map[string]Counter{}, map[string]Counter{}
	for node, px := range proxiers {
		m, err := px.Counters(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("node %s: %w", node, err)
		}
		for key, c := range m {
			if strings.Contains(key, "@") {
				e := endpoints[key]
				e.Packets, e.Bytes = e.Packets+c.Packets, e.Bytes+c.Bytes
				endpoints[key] = e
				continue
			}
			svc, _, _ := strings.Cut(key, ":") // "ns/name:port": a Service sums its ports
			t := services[svc]
			t.Packets, t.Bytes = t.Packets+c.Packets, t.Bytes+c.Bytes
			services[svc] = t
		}
	}
	return services, endpoints, nil
}
