package nodelease

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"
)

// Renew creates each node's Lease as the kubelet does (held by the node, 40 s, owned
// by the Node), then renews only renewTime; a renewal is a MODIFIED Lease (Renewal).
func TestRenew(t *testing.T) {
	s := store.New()
	node, _ := s.Create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-1"}})
	t0 := time.Date(2026, 12, 2, 11, 0, 0, 0, time.UTC)
	h := New([]string{"worker-1", "worker-2"}, s, nil)
	h.Now = func() time.Time { return t0 }
	if errs := h.Renew(s); len(errs) != 0 {
		t.Fatal(errs)
	}
	for _, name := range []string{"worker-1", "worker-2"} {
		o, ok := s.Get("Lease", Namespace, name)
		if !ok {
			t.Fatalf("no Lease %s/%s", Namespace, name)
		}
		l := o.(*coordinationv1.Lease)
		if *l.Spec.HolderIdentity != name || *l.Spec.LeaseDurationSeconds != 40 || !l.Spec.RenewTime.Time.Equal(t0) || l.Spec.AcquireTime != nil {
			t.Errorf("Lease %s: %+v", name, l.Spec)
		}
	}
	o, _ := s.Get("Lease", Namespace, "worker-1")
	if refs := o.GetOwnerReferences(); len(refs) != 1 || refs[0].Kind != "Node" || refs[0].UID != node.GetUID() {
		t.Errorf("worker-1's Lease owners: %+v", refs)
	}
	gen := s.Generation()
	t1 := t0.Add(RenewInterval)
	h.Now = func() time.Time { return t1 }
	h.Renew(s)
	changes, _ := s.Changes(gen)
	if len(changes) != 2 {
		t.Fatalf("%d changes after a renewal, want 2", len(changes))
	}
	for _, c := range changes {
		if !Renewal(c) {
			t.Errorf("change %s %s is not a renewal", c.Type, c.Key)
		}
		if got := c.Object.(*coordinationv1.Lease).Spec.RenewTime.Time; !got.Equal(t1) {
			t.Errorf("%s renewed at %v, want %v", c.Key, got, t1)
		}
	}
}

// Run renews at once and then every Interval, and is always synced.
func TestRun(t *testing.T) {
	s := store.New()
	h := New([]string{"n1"}, s, nil)
	h.Interval = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx, s); close(done) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		if o, ok := s.Get("Lease", Namespace, "n1"); ok && o.GetResourceVersion() != "" && s.Generation() >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the Lease was not created and renewed")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if h.Synced() < s.Generation() {
		t.Error("the heartbeat is not synced")
	}
}
