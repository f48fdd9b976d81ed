package cluster

import (
	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/defaults"
	"podlab.dev/podlab/cluster/store"
)

// podAdmission is the store as the controllers write to it: a Pod they create goes
// through the Pod-only defaults (enableServiceLinks, the not-ready and unreachable
// tolerations, priority), as a controller's create through the API server does. Its
// template is stored defaulted already; every other write is the store's own.
type podAdmission struct{ *store.Store }

func (w podAdmission) Create(o store.Object) (store.Object, error) {
	if p, ok := o.(*corev1.Pod); ok {
		p = p.DeepCopy()
		defaults.Pod(p)
		o = p
	}
	return w.Store.Create(o)
}
