package tui

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

// Fake is an in-memory Source for tests: a lab state, an event history, and live
// events pushed with Emit. DeletePod and SetLabels change the state and emit the
// events the supervisor would (DeletePod also removes the Pod object); every call is
// recorded.
type Fake struct {
	mu       sync.Mutex
	st       *api.LabState
	history  []events.Event
	subs     []chan events.Event
	closed   bool
	Counter  *api.CounterSet
	Detail   map[string]*api.Details // key kind/namespace/name
	StateErr error                   // State fails with it when set
	Calls    []string                // "DeletePod ns/name", "SetLabels ns/name k=v"
	objs     []*api.StoredObject
	// SvcCounter is what ServiceCounters returns (nil: an error); SvcCounterCalls
	// counts the calls, ObjectsCalls the Objects calls.
	SvcCounter      *api.CounterSet
	SvcCounterCalls int
	ObjectsCalls    int
	// Queries is what DNSQueries returns; DNSCalls counts the calls.
	Queries  []api.DNSQuery
	DNSCalls int
	// Netpol is what NetpolCounters returns (nil: an empty set); NetpolCalls counts
	// the calls.
	Netpol      *api.NetpolCounters
	NetpolCalls int
	// Access is what AccessLog returns; AccessCalls counts the calls.
	Access      []api.AccessEntry
	AccessCalls int
	// LogLines is what Logs returns, by namespace/name.
	LogLines map[string][]api.LogLine
}

// NewFake returns a Fake serving st.
func NewFake(st *api.LabState, history []events.Event) *Fake {
	return &Fake{st: st, history: history, Detail: map[string]*api.Details{}}
}

func (f *Fake) State(ctx context.Context) (*api.LabState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.StateErr != nil {
		return nil, f.StateErr
	}
	st := *f.st
	st.Pods = slices.Clone(f.st.Pods)
	return &st, nil
}

func (f *Fake) Events(ctx context.Context, follow bool, fn func(events.Event) error) error {
	f.mu.Lock()
	past := slices.Clone(f.history)
	var ch chan events.Event
	if follow && !f.closed {
		ch = make(chan events.Event, 1024)
		f.subs = append(f.subs, ch)
	}
	f.mu.Unlock()
	for _, e := range past {
		if err := fn(e); err != nil {
			return err
		}
	}
	if ch == nil {
		if follow {
			return errors.New("fake: stream closed")
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-ch:
			if !ok {
				return errors.New("fake: stream closed")
			}
			if err := fn(e); err != nil {
				return err
			}
		}
	}
}

// Emit records e and sends it to every follower.
func (f *Fake) Emit(e events.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	f.history = append(f.history, e)
	for _, ch := range f.subs {
		ch <- e
	}
}

// Close ends every stream, as a supervisor that stops does.
func (f *Fake) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, ch := range f.subs {
		close(ch)
	}
	f.subs = nil
}

func (f *Fake) Counters(ctx context.Context) (*api.CounterSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Counter == nil {
		return nil, errors.New("fake: no counters")
	}
	return f.Counter, nil
}

func (f *Fake) Details(ctx context.Context, kind, namespace, name string) (*api.Details, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d, ok := f.Detail[kind+"/"+namespace+"/"+name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("fake: no details for %s %s/%s", kind, namespace, name)
}

func (f *Fake) DeletePod(ctx context.Context, namespace, name string) error {
	f.mu.Lock()
	f.Calls = append(f.Calls, "DeletePod "+podKey(namespace, name))
	i := slices.IndexFunc(f.st.Pods, func(p api.PodState) bool { return p.Namespace == namespace && p.Name == name })
	if i < 0 {
		f.mu.Unlock()
		return fmt.Errorf("pod %s/%s not found", namespace, name)
	}
	f.st.Pods = slices.Delete(slices.Clone(f.st.Pods), i, i+1)
	f.objs = slices.DeleteFunc(slices.Clone(f.objs), func(o *api.StoredObject) bool {
		return o.Kind == kindPod && o.Namespace == namespace && o.Name == name
	})
	f.mu.Unlock()
	f.Emit(events.Event{Type: events.PodDeleted, Kind: kindPod, Namespace: namespace, Name: name})
	return nil
}

func (f *Fake) SetLabels(ctx context.Context, namespace, name string, labels map[string]string) error {
	f.mu.Lock()
	f.Calls = append(f.Calls, "SetLabels "+podKey(namespace, name)+" "+labelString(labels))
	i := slices.IndexFunc(f.st.Pods, func(p api.PodState) bool { return p.Namespace == namespace && p.Name == name })
	if i < 0 {
		f.mu.Unlock()
		return fmt.Errorf("pod %s/%s not found", namespace, name)
	}
	f.st.Pods = slices.Clone(f.st.Pods)
	f.st.Pods[i].Labels = maps.Clone(labels)
	f.mu.Unlock()
	f.Emit(events.Event{Type: events.PodLabelsChanged, Kind: kindPod, Namespace: namespace, Name: name})
	return nil
}

// CallLog returns the calls made so far.
func (f *Fake) CallLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Calls)
}

// SetObjects replaces the stored objects (Pods, Deployments, Services,
// EndpointSlices, Endpoints...).
func (f *Fake) SetObjects(objs []*api.StoredObject) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objs = slices.Clone(objs)
}

func (f *Fake) Objects(ctx context.Context, kind, namespace string) ([]*api.StoredObject, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ObjectsCalls++
	var out []*api.StoredObject
	for _, o := range f.objs {
		if o.Kind == kind && (namespace == "" || o.Namespace == namespace) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (f *Fake) ServiceCounters(ctx context.Context) (*api.CounterSet, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.SvcCounterCalls++
	if f.SvcCounter == nil {
		return nil, errors.New("fake: no service counters")
	}
	return f.SvcCounter, nil
}

func (f *Fake) DNSQueries(ctx context.Context, limit int) ([]api.DNSQuery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.DNSCalls++
	return slices.Clone(f.Queries[:min(limit, len(f.Queries))]), nil
}

func (f *Fake) AccessLog(ctx context.Context, limit int) ([]api.AccessEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.AccessCalls++
	return slices.Clone(f.Access[:min(limit, len(f.Access))]), nil
}

func (f *Fake) NetpolCounters(ctx context.Context) (*api.NetpolCounters, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.NetpolCalls++
	if f.Netpol == nil {
		return &api.NetpolCounters{}, nil
	}
	return f.Netpol, nil
}

// SvcCalls returns how many times ServiceCounters was called.
func (f *Fake) SvcCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.SvcCounterCalls
}

// DeleteObjects removes the objects from the stored ones; a missing one is an error
// in its result, as the supervisor answers.
func (f *Fake) DeleteObjects(ctx context.Context, refs []api.ObjectRef) ([]api.ApplyResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.ApplyResult
	for _, r := range refs {
		f.Calls = append(f.Calls, "DeleteObjects "+r.Kind+" "+podKey(r.Namespace, r.Name))
		res := api.ApplyResult{Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Action: "deleted"}
		n := len(f.objs)
		f.objs = slices.DeleteFunc(slices.Clone(f.objs), func(o *api.StoredObject) bool {
			return o.Kind == r.Kind && o.Namespace == r.Namespace && o.Name == r.Name
		})
		if len(f.objs) == n {
			res.Action, res.Error = "", fmt.Sprintf("%s %s not found", r.Kind, podKey(r.Namespace, r.Name))
		}
		out = append(out, res)
	}
	return out, nil
}

func (f *Fake) Logs(ctx context.Context, host, namespace, name string, q api.LogQuery, fn func(api.LogLine) error) error {
	f.mu.Lock()
	lines := slices.Clone(f.LogLines[podKey(namespace, name)])
	f.mu.Unlock()
	for _, l := range lines {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}
