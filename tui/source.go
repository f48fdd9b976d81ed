// Package tui is podlab's terminal UI: bubbletea views over one lab's supervisor API
// (state, event stream, counters, details) and the actions the CLI also offers
// (delete a pod, set its labels, open a shell). Everything it shows comes from a
// Source; it never reads the kernel, the plan or the state directory itself, so it
// cannot disagree with `podlab inspect`.
package tui

import (
	"context"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

// Source is what the TUI needs from a lab's supervisor; *api.Client is one.
type Source interface {
	State(ctx context.Context) (*api.LabState, error)
	// Events calls fn for every past event, then (with follow) for live ones until
	// ctx ends or the stream breaks.
	Events(ctx context.Context, follow bool, fn func(events.Event) error) error
	Counters(ctx context.Context) (*api.CounterSet, error)
	Details(ctx context.Context, kind, namespace, name string) (*api.Details, error)
	DeletePod(ctx context.Context, namespace, name string) error
	// DeleteObjects deletes stored objects (Services, Deployments, ...), as `podlab
	// delete` does.
	DeleteObjects(ctx context.Context, refs []api.ObjectRef) ([]api.ApplyResult, error)
	// Logs calls fn for each line of a pod's log (host "") or a host's; a line with
	// a Note says something about the log (the pod keeps none).
	Logs(ctx context.Context, host, namespace, name string, q api.LogQuery, fn func(api.LogLine) error) error
	// SetLabels replaces the pod's labels.
	SetLabels(ctx context.Context, namespace, name string, labels map[string]string) error
	// Objects lists the stored objects of a kind ("Pod", "Deployment", "Service",
	// "EndpointSlice", "Endpoints"); namespace "" for all.
	Objects(ctx context.Context, kind, namespace string) ([]*api.StoredObject, error)
	// ServiceCounters is Counters plus kube-proxy's per-Service and per-endpoint
	// counters: one nft listing per node, so it is polled only while shown.
	ServiceCounters(ctx context.Context) (*api.CounterSet, error)
	// DNSQueries is the newest queries the lab's DNS servers answered (at most
	// limit), newest first: polled only while :dns is shown.
	DNSQueries(ctx context.Context, limit int) ([]api.DNSQuery, error)
	// NetpolCounters is the NetworkPolicy tables' counters, summed per policy and
	// pod: one nft listing per node, polled only while :netpol is shown.
	NetpolCounters(ctx context.Context) (*api.NetpolCounters, error)
	// AccessLog is the newest requests the lab's ingress and gateway proxies served
	// (at most limit), newest first: polled only while :ingress is shown.
	AccessLog(ctx context.Context, limit int) ([]api.AccessEntry, error)
}

var _ Source = (*api.Client)(nil)
