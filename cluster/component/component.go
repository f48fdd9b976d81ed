// Package component is the shape every cluster component has: it watches the lab's
// object store and programs one thing (the scheduler binds pods, a controller writes
// the objects it owns, kubelet runs sandboxes, kube-proxy writes its nft table). The
// supervisor lists the components and runs each with Run; an API write returns once
// every component's Synced has reached the generation the write made.
//
// Adding a component (DNS, NetworkPolicy, Ingress) is one package with a type that
// implements Component, plus one line in the supervisor's list of components. The
// component takes what it programs through its constructor (an nftables interface
// per node, namespace paths, a Writer), so its unit tests run on fakes without root.
package component

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// Component watches the store and programs one thing.
type Component interface {
	Name() string
	// Run programs what the store says until ctx ends.
	Run(ctx context.Context, r store.Reader) error
	// Synced is the last store generation this component has fully programmed.
	Synced() uint64
}

// Writer is how a component writes objects: the store's own write methods.
type Writer interface {
	Create(store.Object) (store.Object, error)
	Update(store.Object) (store.Object, error)
	UpdateStatus(store.Object) (store.Object, error)
	Delete(kind, namespace, name string) (store.Object, error)
	MarkDeleted(kind, namespace, name string) (store.Object, error)
}

// Emit records an event of the lab (what `podlab events` and the TUI show).
type Emit func(events.Event)

// Loop is the level-triggered loop most components run: sync is called with the
// store's generation each time it moves (a burst of writes is one call), and Synced
// reports the generation of the last sync that returned.
type Loop struct {
	synced atomic.Uint64
	kick   chan struct{}
	once   sync.Once
	// Interest, when set, says which writes concern the component: a burst of writes
	// none of which does (a thousand pods' readiness, for the scheduler) costs no sync.
	Interest func(r store.Reader, c store.Change) bool
}

// interesting says whether any write after version since concerns the component
// (true when the change log no longer reaches back that far).
func (l *Loop) interesting(r store.Reader, since uint64) bool {
	if l.Interest == nil {
		return true
	}
	changes, ok := r.Changes(since)
	if !ok {
		return true
	}
	for _, c := range changes {
		if l.Interest(r, c) {
			return true
		}
	}
	return false
}

func (l *Loop) kicks() chan struct{} {
	l.once.Do(func() { l.kick = make(chan struct{}, 1) })
	return l.kick
}

// Kick makes the loop sync again without a store change (a timer ran out: a pod
// became available after minReadySeconds, a back-off ended).
func (l *Loop) Kick() {
	select {
	case l.kicks() <- struct{}{}:
	default:
	}
}

// After kicks the loop once d has passed.
func (l *Loop) After(d time.Duration) { time.AfterFunc(d, l.Kick) }

// Synced is the generation the last sync covered.
func (l *Loop) Synced() uint64 { return l.synced.Load() }

// Run calls sync until ctx ends. A sync error does not stop the loop: the component
// reports it (as an event) and the next change retries.
func (l *Loop) Run(ctx context.Context, r store.Reader, sync func(ctx context.Context, gen uint64)) error {
	gen := r.Generation()
	kicked := true
	var last uint64
	for {
		if kicked || l.interesting(r, last) {
			sync(ctx, gen)
		}
		l.synced.Store(gen)
		last = gen
		if ctx.Err() != nil {
			return nil
		}
		wctx, cancel := context.WithCancel(ctx)
		var gotKick atomic.Bool
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			select {
			case <-l.kicks():
				gotKick.Store(true)
				cancel()
			case <-wctx.Done():
			}
		}()
		next, _ := r.Wait(wctx, gen) // an error: the kick's cancel, or ctx's end
		cancel()
		<-watched
		if ctx.Err() != nil {
			return nil
		}
		// Woken by a kick, or by a write with a kick that came meanwhile: the
		// watcher may have taken it just as the write woke us (the kick then
		// used to be lost when the write did not concern the component), or it
		// may still be in the channel.
		kicked = gotKick.Load()
		select {
		case <-l.kicks():
			kicked = true
		default:
		}
		gen = max(gen, next)
	}
}

// Settled says whether every component has programmed generation gen.
func Settled(cs []Component, gen uint64) bool {
	for _, c := range cs {
		if c.Synced() < gen {
			return false
		}
	}
	return true
}
