package cluster

import (
	"sync"
	"time"

	"podlab.dev/podlab/events"
)

// eventHub keeps the lab's events (those deploy wrote and the supervisor's own),
// appends new ones to the event file and fans them out to followers.
type eventHub struct {
	mu   sync.Mutex
	all  []events.Event
	subs map[chan events.Event]struct{}
	log  *events.Log
}

func newEventHub(path string) (*eventHub, error) {
	past, err := events.Read(path)
	if err != nil {
		return nil, err
	}
	log, err := events.OpenLog(path)
	if err != nil {
		return nil, err
	}
	return &eventHub{all: past, subs: map[chan events.Event]struct{}{}, log: log}, nil
}

func (h *eventHub) emit(e events.Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.log.Emit(e)
	h.log.Flush()
	h.all = append(h.all, e)
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
	ch := make(chan events.Event, 1024)
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
