// Package nodelease is the kubelet's node heartbeat: a coordination.k8s.io/v1 Lease
// per node in kube-node-lease, held by the node and renewed every 10 s, as the
// kubelet's lease controller (k8s.io/component-helpers/apimachinery/lease) keeps it,
// so that `kubectl describe node` shows the Lease section and kubectl get leases -n
// kube-node-lease lists one per node.
//
// It owns those Leases and nothing else: it writes them through a Writer (the store),
// reads nothing else from the store, and programs nothing. A renewal is an ordinary
// update that changes only spec.renewTime; components whose Interest is not keyed on
// kind must ignore them (see Renewal).
package nodelease

import (
	"context"
	"fmt"
	"math"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

const (
	// Namespace holds the nodes' Leases.
	Namespace = corev1.NamespaceNodeLease
	// DurationSeconds is the kubelet's --node-lease-duration-seconds default.
	DurationSeconds int32 = 40
	// RenewInterval is the kubelet's renewal period: a quarter of the duration.
	RenewInterval = time.Duration(DurationSeconds) * time.Second / 4
)

// Writer is how the heartbeat writes its Leases: the store's own methods.
type Writer interface {
	Create(store.Object) (store.Object, error)
	Update(store.Object) (store.Object, error)
}

// Heartbeat renews the Leases of nodes. It is a component (package component) that
// is always synced: no write waits on it, since it programs nothing.
type Heartbeat struct {
	nodes []string
	w     Writer
	emit  func(events.Event)
	// Now and Interval are the clock and the period; tests set them.
	Now      func() time.Time
	Interval time.Duration
}

// New returns the heartbeat of nodes, writing through w; a failed write is reported
// through emit as a Warning event of the node.
func New(nodes []string, w Writer, emit func(events.Event)) *Heartbeat {
	return &Heartbeat{nodes: nodes, w: w, emit: emit, Now: time.Now, Interval: RenewInterval}
}

func (h *Heartbeat) Name() string { return "node-lease" }

// Synced is every generation: the heartbeat programs nothing a write could wait for.
func (h *Heartbeat) Synced() uint64 { return math.MaxUint64 }

// Run renews at once (a restarted supervisor's nodes are not left expired), then
// every Interval, until ctx ends.
func (h *Heartbeat) Run(ctx context.Context, r store.Reader) error {
	t := time.NewTicker(h.Interval)
	defer t.Stop()
	for {
		for _, err := range h.Renew(r) {
			if h.emit != nil {
				h.emit(events.Event{Type: events.Warning, Kind: "Lease", Namespace: Namespace, Name: err.node, Message: err.Error()})
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// renewError is a node's failed renewal.
type renewError struct {
	node string
	err  error
}

func (e renewError) Error() string {
	return fmt.Sprintf("node-lease: renewing the Lease of node %s: %v", e.node, e.err)
}

// Renew renews each node's Lease once, creating those that are missing (owned by
// their Node, as the kubelet makes them, so that deleting the Node takes its Lease).
func (h *Heartbeat) Renew(r store.Reader) []renewError {
	var errs []renewError
	now := metav1.NewMicroTime(h.Now())
	for _, node := range h.nodes {
		var err error
		if o, ok := r.Get("Lease", Namespace, node); ok {
			l := o.(*coordinationv1.Lease).DeepCopy()
			l.Spec.RenewTime = &now
			_, err = h.w.Update(l)
		} else {
			_, err = h.w.Create(h.lease(r, node, now))
			if apierrors.IsAlreadyExists(err) {
				err = nil // the next tick renews it
			}
		}
		if err != nil {
			errs = append(errs, renewError{node, err})
		}
	}
	return errs
}

// lease is a node's new Lease, as the kubelet's newLease makes it: no acquireTime
// (describe node says <unset>), the holder and the duration, the renewal time.
func (h *Heartbeat) lease(r store.Reader, node string, now metav1.MicroTime) *coordinationv1.Lease {
	holder, duration := node, DurationSeconds
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: Namespace, Name: node},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &duration, RenewTime: &now},
	}
	if n, ok := r.Get("Node", "", node); ok {
		l.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: n.GetUID()}}
	}
	return l
}

// Renewal says whether a store change is a Lease's renewal (a MODIFIED Lease): a
// component whose Interest takes every kind's writes ignores these, or it would sync
// every RenewInterval for each node.
func Renewal(c store.Change) bool { return c.Key.Kind == "Lease" && c.Type == "MODIFIED" }
