// Package events is a lab's event record: what happened (namespace created, link up,
// pod ready, supervisor started) as NDJSON lines in the lab's state directory, the same
// records the supervisor streams to `podlab events` and the TUI.
package events

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// Event types.
const (
	NetnsCreated          = "NetnsCreated"
	LinkUp                = "LinkUp"
	NodeReady             = "NodeReady"
	PodNetworkReady       = "PodNetworkReady"
	PodReady              = "PodReady"
	PodDeleted            = "PodDeleted"
	PodLabelsChanged      = "PodLabelsChanged"
	ObjectApplied         = "ObjectApplied"
	ObjectDeleted         = "ObjectDeleted"
	EndpointsChanged      = "EndpointsChanged"
	LoadBalancerAnnounced = "LoadBalancerAnnounced"
	PodNotReady           = "PodNotReady"
	ObjectNotApplied      = "ObjectNotApplied"
	SupervisorStarted     = "SupervisorStarted"
	SupervisorStopped     = "SupervisorStopped"
	DeployFinished        = "DeployFinished"
	HostLimitChanged      = "HostLimitChanged"
	ContainerDied         = "ContainerDied"      // a container died or was stopped outside podlab
	ContainerRestarted    = "ContainerRestarted" // a container came back outside podlab, with a fresh namespace
	DNSQuery              = "DNSQuery"           // a query a lab's DNS server answered (at most 20 a second; podlab logs has them all)
	PolicyDrop            = "PolicyDrop"         // a packet a pod's NetworkPolicy default deny dropped, with its 5-tuple (the verdict log; at most 20 a second)
	Warning               = "Warning"

	// Kubernetes' own reasons, from the components that act as its controllers,
	// scheduler and kubelet.
	ContainerStarted  = "Started"
	BackOff           = "BackOff"
	Unhealthy         = "Unhealthy"
	Killing           = "Killing"
	Scheduled         = "Scheduled"
	FailedScheduling  = "FailedScheduling"
	SuccessfulCreate  = "SuccessfulCreate"
	SuccessfulDelete  = "SuccessfulDelete"
	ScalingReplicaSet = "ScalingReplicaSet"
	SupervisorAdopted = "SupervisorAdopted" // a restarted supervisor took the lab over again
)

// Event is one thing that happened in a lab.
type Event struct {
	Time      time.Time `json:"time"`
	Type      string    `json:"type"`
	Kind      string    `json:"kind,omitempty"` // Node, Host, Pod, Link, Lab, ...
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name,omitempty"`
	Node      string    `json:"node,omitempty"`
	Message   string    `json:"message,omitempty"`
}

// Log appends events to an NDJSON file; safe for concurrent use.
type Log struct {
	mu sync.Mutex
	f  *os.File
	w  *bufio.Writer
}

// OpenLog opens (creating) the event file for appending.
func OpenLog(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &Log{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Emit records e, stamping its time if unset.
func (l *Log) Emit(e Event) {
	if l == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b, _ := json.Marshal(e)
	l.mu.Lock()
	// Written at once: the supervisor and `events -f` follow the file as it grows.
	l.w.Write(append(b, '\n'))
	l.w.Flush()
	l.mu.Unlock()
}

// Close flushes and closes the file.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Flush()
	return l.f.Close()
}

// Flush writes buffered events out.
func (l *Log) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}

// Read loads every event of a file; a missing file has none.
func Read(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var out []Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e Event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// Follow reads the events of path as they are appended, polling, and calls fn for each
// until fn returns false or ctx ends. A file that does not exist yet is waited for.
func Follow(ctx context.Context, path string, every time.Duration, fn func(Event) bool) {
	var off int64
	var partial []byte
	for {
		if f, err := os.Open(path); err == nil {
			f.Seek(off, io.SeekStart)
			b, _ := io.ReadAll(f)
			f.Close()
			off += int64(len(b))
			partial = append(partial, b...)
			for {
				i := bytes.IndexByte(partial, '\n')
				if i < 0 {
					break
				}
				var e Event
				if json.Unmarshal(partial[:i], &e) == nil && !fn(e) {
					return
				}
				partial = partial[i+1:]
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
		}
	}
}

// ReadAll reads several event files and merges them in time order.
func ReadAll(paths ...string) ([]Event, error) {
	var all []Event
	for _, p := range paths {
		evs, err := Read(p)
		if err != nil {
			return nil, err
		}
		all = append(all, evs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	return all, nil
}
