// Package proxy is the data plane of the ingress and gateway controller: it serves a
// table.Table, the only thing it reads. Each proxy pod's listeners are opened inside
// the pod's network namespace (ServePod), and each backend connection is dialed from
// that same namespace, so traffic crosses the lab's network as it would from an
// ingress-nginx or Envoy pod. One Proxy serves every pod of every frontend from the
// supervisor's process.
//
// It owns its listeners, its upstream connections and its mirror requests; it never
// reads the object store, and it never changes the table it is given (tables are
// swapped whole by Update: a request in flight finishes on the table it started on).
package proxy

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

// Options tune a Proxy; zero values take ingress-nginx's defaults.
type Options struct {
	// Log receives one Entry per request (nil: no access log). It runs on the
	// request's goroutine: keep it short and do the formatting (Entry.String) later.
	Log func(Entry)
	// Errors receives what cannot be tied to a request: a listener that cannot be
	// opened after an Update (nil: dropped).
	Errors func(error)

	DialTimeout           time.Duration // connecting to an endpoint (5s, proxy-connect-timeout)
	ResponseHeaderTimeout time.Duration // waiting for an endpoint's answer (60s, proxy-read-timeout)
	IdleConnTimeout       time.Duration // keep-alive toward endpoints (60s, upstream-keepalive-timeout)
	ReadHeaderTimeout     time.Duration // a client's request headers (60s, client-header-timeout)
	IdleTimeout           time.Duration // a client's idle keep-alive connection (75s, keepalive-timeout)
	// MaxMirrors bounds the mirror requests in flight (64); beyond it, copies are
	// dropped rather than queued, so a slow mirror never slows the real traffic.
	MaxMirrors int
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.DialTimeout, 5*time.Second)
	def(&o.ResponseHeaderTimeout, 60*time.Second)
	def(&o.IdleConnTimeout, 60*time.Second)
	def(&o.ReadHeaderTimeout, 60*time.Second)
	def(&o.IdleTimeout, 75*time.Second)
	if o.MaxMirrors == 0 {
		o.MaxMirrors = 64
	}
}

// Proxy serves the current table on every pod given to ServePod.
type Proxy struct {
	opts  Options
	table atomic.Pointer[table.Table]

	ctx    context.Context // ends at Close: mirrors in flight stop
	cancel context.CancelFunc

	mu       sync.Mutex
	pods     map[*PodServer]struct{}
	forwards map[string]*forwarder // by network namespace path ("" = the process's own)
	closed   bool

	mirrors chan struct{} // a slot per mirror in flight
	wg      sync.WaitGroup
}

// New returns a Proxy with an empty table: every request gets 404 until Update.
func New(opts Options) *Proxy {
	opts.defaults()
	p := &Proxy{
		opts:     opts,
		pods:     map[*PodServer]struct{}{},
		forwards: map[string]*forwarder{},
		mirrors:  make(chan struct{}, opts.MaxMirrors),
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.table.Store(&table.Table{})
	return p
}

// Update serves t from now on: requests already routed finish on the old table, and
// every pod's listeners are opened or closed to match t's ports for its frontend.
func (p *Proxy) Update(t *table.Table) {
	if t == nil {
		t = &table.Table{}
	}
	p.table.Store(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	for ps := range p.pods {
		if err := ps.sync(t); err != nil {
			p.errorf(err)
		}
	}
}

// Close stops every pod's listeners and their connections, cancels mirrors in
// flight and waits for them, and drops idle upstream connections.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	pods := p.pods
	p.pods = map[*PodServer]struct{}{}
	p.mu.Unlock()
	for ps := range pods {
		ps.close()
	}
	p.cancel()
	p.wg.Wait()
	p.mu.Lock()
	for _, f := range p.forwards {
		f.closeIdle()
	}
	p.mu.Unlock()
	return nil
}

func (p *Proxy) errorf(err error) {
	if p.opts.Errors != nil {
		p.opts.Errors(err)
	}
}
