package controllers

import (
	"testing"

	"podlab.dev/podlab/cluster/store"
)

// The garbage collector syncs on writes that may change owners or dependents, not on
// status updates nor the nodes' Lease renewals (one a node every 10 s).
func TestGarbageCollectorInterest(t *testing.T) {
	g := NewGarbageCollector(store.New())
	for _, c := range []struct {
		change store.Change
		want   bool
	}{
		{store.Change{Type: "ADDED", Key: store.Key{Kind: "Pod", Namespace: "default", Name: "web"}}, true},
		{store.Change{Type: "MODIFIED", Key: store.Key{Kind: "Pod", Namespace: "default", Name: "web"}, Status: true}, false},
		{store.Change{Type: "ADDED", Key: store.Key{Kind: "Lease", Namespace: "kube-node-lease", Name: "worker-1"}}, true},
		{store.Change{Type: "MODIFIED", Key: store.Key{Kind: "Lease", Namespace: "kube-node-lease", Name: "worker-1"}}, false},
		{store.Change{Type: "DELETED", Key: store.Key{Kind: "Node", Name: "worker-1"}}, true},
	} {
		if got := g.Interest(nil, c.change); got != c.want {
			t.Errorf("Interest(%s %s) = %v, want %v", c.change.Type, c.change.Key, got, c.want)
		}
	}
}
