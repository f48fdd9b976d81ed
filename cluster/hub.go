package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"podlab.dev/podlab/events"
)

// eventHub keeps the lab's events (those deploy writes, followed from its file while it
// runs, and the supervisor's own, appended to the supervisor's file) and fans them out
// to followers.
type eventHub struct {
	mu   sync.Mutex
	all  []events.Event
	subs map[chan events.Event]struct{}
	log  *events.Log
	// built is closed once deploy has recorded DeployFinished: every pod's network exists.
	built chan struct{}
	// attached holds the pods ("namespace/name") deploy has recorded PodNetworkReady
	// for while it builds: kubelet probes each as soon as its interface exists instead
	// of waiting for the whole network (about 1 s for 1,000 pods).
	attached map[string]bool
	// onAttached, when set, learns that deploy attached a pod (kubelet then adopts it
	// without waiting for the whole build).
	onAttached atomic.Pointer[func()]
}

// maxHistory is how many events the hub keeps for new followers at least (it holds up
// to twice as many): a lab running for days, or a DNS benchmark's query events, must not
// grow the supervisor without bound. Every event stays in the lab's events file.
const maxHistory = 20000

func newEventHub(ctx context.Context, ownPath, deployPath string) (*eventHub, error) {
	past, err := events.Read(ownPath)
	if err != nil {
		return nil, err
	}
	log, err := events.OpenLog(ownPath)
	if err != nil {
		return nil, err
	}
	if len(past) > maxHistory {
		past = past[len(past)-maxHistory:]
	}
	h := &eventHub{all: past, subs: map[chan events.Event]struct{}{}, log: log, built: make(chan struct{}), attached: map[string]bool{}}
	go events.Follow(ctx, deployPath, 10*time.Millisecond, func(e events.Event) bool {
		if e.Type == events.PodNetworkReady {
			h.mu.Lock()
			h.attached[e.Namespace+"/"+e.Name] = true
			h.mu.Unlock()
			if f := h.onAttached.Load(); f != nil {
				(*f)()
			}
		}
		h.publish(e)
		if e.Type == events.DeployFinished {
			close(h.built)
			return false
		}
		return true
	})
	return h, nil
}

// isAttached says whether deploy has attached pod namespace/name's network.
func (h *eventHub) isAttached(namespace, name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attached[namespace+"/"+name]
}

// emit records one of the supervisor's own events.
func (h *eventHub) emit(e events.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	h.mu.Lock()
	h.log.Emit(e)
	h.log.Flush()
	h.mu.Unlock()
	h.publish(e)
}

func (h *eventHub) publish(e events.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, e)
	if len(h.all) >= 2*maxHistory { // keep the newest, copying once per maxHistory events
		h.all = append([]events.Event(nil), h.all[len(h.all)-maxHistory:]...)
	}
	for ch := range h.subs {
		select {
		case ch <- e:
		default: // a follower that cannot keep up misses events rather than stalling the lab
		}
	}
}

// subscribe returns the past events and a channel of the new ones.
func (h *eventHub) subscribe() ([]events.Event, chan events.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ch := make(chan events.Event, 4096)
	h.subs[ch] = struct{}{}
	return append([]events.Event(nil), h.all...), ch
}

func (h *eventHub) unsubscribe(ch chan events.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, ch)
}

func (h *eventHub) close() {
	h.log.Close()
}
