package component

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"
)

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatal(what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A loop syncs on the writes it is interested in, skips the others, and reports
// every generation as synced either way; a kick syncs without a write.
func TestLoopInterestAndKick(t *testing.T) {
	s := store.New()
	var l Loop
	l.Interest = func(_ store.Reader, c store.Change) bool { return c.Key.Kind == "Node" }
	var syncs atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx, s, func(context.Context, uint64) { syncs.Add(1) })
	eventually(t, "no first sync", func() bool { return syncs.Load() == 1 })
	for i := 0; i < 20; i++ {
		s.Create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: string(rune('a' + i))}})
	}
	eventually(t, "pod writes not reported as synced", func() bool { return l.Synced() == s.Generation() })
	if n := syncs.Load(); n != 1 {
		t.Fatalf("%d syncs after uninteresting writes, want 1", n)
	}
	s.Create(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}})
	eventually(t, "no sync after a node write", func() bool { return syncs.Load() == 2 && l.Synced() == s.Generation() })
	l.Kick()
	eventually(t, "no sync after a kick", func() bool { return syncs.Load() == 3 })
	if !Settled([]Component{fake{&l}}, s.Generation()) {
		t.Fatal("not settled")
	}
}

type fake struct{ *Loop }

func (fake) Name() string                            { return "fake" }
func (fake) Run(context.Context, store.Reader) error { return nil }

// A kick is never lost, also when it comes as the loop wakes for a write it does
// not care about (the race left pods unprobed after a 1,000-pod deploy under load:
// deploy's last attachments and its end were kicks that no sync followed).
func TestLoopKeepsKicksAmongWrites(t *testing.T) {
	s := store.New()
	var l Loop
	l.Interest = func(_ store.Reader, c store.Change) bool { return c.Key.Kind == "Node" }
	var syncs atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go l.Run(ctx, s, func(context.Context, uint64) { syncs.Add(1) })
	eventually(t, "no first sync", func() bool { return syncs.Load() == 1 })
	go func() { // uninteresting writes as fast as they come
		for i := 0; ctx.Err() == nil; i++ {
			s.Create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p" + strconv.Itoa(i)}})
		}
	}()
	for i := range 300 {
		before := syncs.Load()
		l.Kick()
		for deadline := time.Now().Add(2 * time.Second); syncs.Load() == before; time.Sleep(20 * time.Microsecond) {
			if time.Now().After(deadline) {
				t.Fatalf("kick %d: no sync followed it", i)
			}
		}
	}
}
