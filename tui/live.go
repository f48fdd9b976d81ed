package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// Messages from the lab's source. Each carries the session it belongs to: after
// leaving a lab, late answers from it are dropped.
type (
	stateMsg struct {
		sess int
		st   *api.LabState
		err  error
		at   time.Time // when the request left: events after it are newer than st
		// The objectKinds, listed after the state; objErr: they could not be.
		objs    map[string][]store.Object
		decoded decodedObjects
		objErr  error
	}
	eventsMsg struct {
		sess int
		evs  []events.Event
	}
	streamEndMsg struct {
		sess int
		err  error
	}
	fetchNowMsg     struct{ sess int }
	countersTickMsg struct{ sess int }
	countersMsg     struct {
		sess int
		cs   *api.CounterSet
		err  error
	}
	detailsMsg struct {
		sess int
		t    target
		det  *api.Details
		err  error
	}
	actionMsg struct {
		sess int
		done string
		err  error
	}
	shellDoneMsg struct {
		sess int
		t    target
		err  error
	}
	// goneMsg answers "is the lab still deployed?" after the source failed.
	goneMsg struct {
		sess int
		gone bool
		err  error // what failed
		from string
	}
	retryStreamMsg struct{ sess int }
	labsMsg        struct {
		labs []string
		err  error
	}
	pickerTickMsg struct{ gen int }
)

const requestTimeout = 5 * time.Second

func (a *App) fetchState() tea.Cmd {
	src, ctx, sess, prev := a.src, a.ctx, a.sess, a.decoded
	return func() tea.Msg {
		at := time.Now()
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		st, err := src.State(c)
		if err != nil {
			return stateMsg{sess: sess, err: err, at: at}
		}
		objs := make(map[string][]store.Object, len(objectKinds))
		next := decodedObjects{}
		for _, kind := range objectKinds {
			l, err := src.Objects(c, kind, "")
			if err != nil {
				return stateMsg{sess: sess, st: st, at: at, objErr: fmt.Errorf("listing %s objects: %w", kind, err)}
			}
			objs[kind] = decodeObjects(l, prev, next)
		}
		return stateMsg{sess: sess, st: st, at: at, objs: objs, decoded: next}
	}
}

// requestFetch asks for the state again, at most once per coalescing period and
// never with two requests in flight: a burst of events costs one or two fetches.
func (a *App) requestFetch() tea.Cmd {
	if a.fetching {
		a.dirty = true
		return nil
	}
	if a.scheduled {
		return nil
	}
	wait := a.cfg.Coalesce - time.Since(a.lastFetch)
	if wait <= 0 {
		a.fetching = true
		return a.fetchState()
	}
	a.scheduled = true
	sess := a.sess
	return tea.Tick(wait, func(time.Time) tea.Msg { return fetchNowMsg{sess} })
}

// startStream follows the lab's events in a goroutine that ends with the session.
func (a *App) startStream() tea.Cmd {
	ch := make(chan events.Event, 4096)
	done := make(chan error, 1)
	src, ctx := a.src, a.ctx
	go func() {
		err := src.Events(ctx, true, func(e events.Event) error {
			select {
			case ch <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		if err == nil {
			err = errors.New("the event stream ended")
		}
		done <- err
		close(ch)
	}()
	a.evCh, a.evDone = ch, done
	return a.waitEvents()
}

// waitEvents delivers what the stream has, in one batch.
func (a *App) waitEvents() tea.Cmd {
	ch, done, sess := a.evCh, a.evDone, a.sess
	return func() tea.Msg {
		e, ok := <-ch
		if !ok {
			return streamEndMsg{sess: sess, err: <-done}
		}
		batch := []events.Event{e}
		for len(batch) < 2048 {
			select {
			case e, ok := <-ch:
				if !ok {
					return eventsMsg{sess: sess, evs: batch}
				}
				batch = append(batch, e)
			default:
				return eventsMsg{sess: sess, evs: batch}
			}
		}
		return eventsMsg{sess: sess, evs: batch}
	}
}

func (a *App) fetchCounters() tea.Cmd {
	src, ctx, sess := a.src, a.ctx, a.sess
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		cs, err := src.Counters(c)
		return countersMsg{sess: sess, cs: cs, err: err}
	}
}

func (a *App) countersTick() tea.Cmd {
	sess := a.sess
	return tea.Tick(a.cfg.CountersEvery, func(time.Time) tea.Msg { return countersTickMsg{sess} })
}

func (a *App) fetchDetails(t target) tea.Cmd {
	src, ctx, sess := a.src, a.ctx, a.sess
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		det, err := src.Details(c, t.Kind, t.Namespace, t.Name)
		return detailsMsg{sess: sess, t: t, det: det, err: err}
	}
}

func (a *App) action(done string, fn func(ctx context.Context, src Source) error) tea.Cmd {
	src, ctx, sess := a.src, a.ctx, a.sess
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		return actionMsg{sess: sess, done: done, err: fn(c, src)}
	}
}

// checkGone asks whether the lab is still deployed after its source failed.
func (a *App) checkGone(from string, err error) tea.Cmd {
	labsFn, lab, sess := a.cfg.Labs, a.lab, a.sess
	return func() tea.Msg {
		labs, lerr := labsFn()
		return goneMsg{sess: sess, gone: lerr == nil && !slices.Contains(labs, lab), err: err, from: from}
	}
}

func (a *App) listLabs() tea.Cmd {
	labsFn := a.cfg.Labs
	return func() tea.Msg {
		labs, err := labsFn()
		return labsMsg{labs: labs, err: err}
	}
}

func (a *App) pickerTick() tea.Cmd {
	gen := a.pickGen
	return tea.Tick(2*time.Second, func(time.Time) tea.Msg { return pickerTickMsg{gen} })
}

// applyEvents changes the last state at once for events that say exactly what
// changed, so the screen does not wait for the next fetch. Events older than the
// state (the replayed history) are already in it.
func (a *App) applyEvents(evs []events.Event) bool {
	if a.st == nil {
		return false
	}
	changed := false
	for _, e := range evs {
		if e.Kind != kindPod || !e.Time.After(a.stAt) {
			continue
		}
		i := slices.IndexFunc(a.st.Pods, func(p api.PodState) bool { return p.Namespace == e.Namespace && p.Name == e.Name })
		if i < 0 {
			continue
		}
		switch e.Type {
		case events.PodDeleted:
			// A new slice: the old state may still back a view's rows.
			pods := make([]api.PodState, 0, len(a.st.Pods)-1)
			pods = append(append(pods, a.st.Pods[:i]...), a.st.Pods[i+1:]...)
			st := *a.st
			st.Pods = pods
			a.st = &st
			changed = true
		case events.PodReady, events.PodNotReady:
			pods := slices.Clone(a.st.Pods)
			pods[i].Ready = e.Type == events.PodReady
			if !pods[i].Ready {
				pods[i].Reason = e.Message
			}
			st := *a.st
			st.Pods = pods
			a.st = &st
			changed = true
		}
	}
	return changed
}
