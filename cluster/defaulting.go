package cluster

import (
	"podlab.dev/podlab/cluster/defaults"
	"podlab.dev/podlab/cluster/store"
)

// defaulting is the store as the workload controllers and the ingress controller
// write to it: what they create goes through the API server's defaulting, as their
// creates through a real API server do (a Pod gets enableServiceLinks, the not-ready
// and unreachable tolerations and its priority; the ingress controller's Deployment
// its strategy). Only creates: these writers make an object once and then update
// what they read back, already defaulted. The endpoints controller writes the store
// directly, since it compares the slices it wants with the stored ones.
type defaulting struct{ *store.Store }

func (w defaulting) Create(o store.Object) (store.Object, error) {
	o = o.DeepCopyObject().(store.Object)
	defaults.Object(o)
	return w.Store.Create(o)
}
