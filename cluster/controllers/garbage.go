package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/types"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/nodelease"
	"podlab.dev/podlab/cluster/store"
)

// GarbageCollector deletes objects whose owners are all gone, as Kubernetes' garbage
// collector does for a background cascading delete: deleting a Deployment takes its
// ReplicaSets, and they their Pods. Pods are marked for deletion so that kubelet tears
// them down first.
type GarbageCollector struct {
	component.Loop
	w component.Writer
}

// Owned are the kinds whose objects may have owners worth collecting.
var Owned = []string{"ReplicaSet", "Pod", "ControllerRevision", "EndpointSlice", "Job"}

// NewGarbageCollector returns the garbage collector.
func NewGarbageCollector(w component.Writer) *GarbageCollector {
	g := &GarbageCollector{w: w}
	// Owners and dependents come and go, and ownerReferences change, only in writes
	// other than status updates and the nodes' Lease renewals (every 10 s a node).
	g.Interest = func(_ store.Reader, c store.Change) bool { return !c.Status && !nodelease.Renewal(c) }
	return g
}

func (g *GarbageCollector) Name() string { return "garbage-collector" }

func (g *GarbageCollector) Run(ctx context.Context, r store.Reader) error {
	return g.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { g.Sync(r) })
}

// Sync collects once.
func (g *GarbageCollector) Sync(r store.Reader) {
	for _, kind := range Owned {
		for _, o := range r.List(kind, "") {
			refs := o.GetOwnerReferences()
			if len(refs) == 0 || o.GetDeletionTimestamp() != nil {
				continue
			}
			alive := false
			for _, ref := range refs {
				owner, ok := r.Get(ref.Kind, o.GetNamespace(), ref.Name)
				if !ok {
					owner, ok = r.Get(ref.Kind, "", ref.Name) // cluster-scoped owners
				}
				if ok && owner.GetUID() == types.UID(ref.UID) && owner.GetDeletionTimestamp() == nil {
					alive = true
					break
				}
			}
			if alive {
				continue
			}
			if kind == "Pod" {
				g.w.MarkDeleted(kind, o.GetNamespace(), o.GetName())
			} else {
				g.w.Delete(kind, o.GetNamespace(), o.GetName())
			}
		}
	}
}
