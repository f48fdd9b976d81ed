package cluster

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
)

// A watch sends the kind's objects, a bookmark, then each change in order; other
// kinds and namespaces stay out.
func TestAPIWatch(t *testing.T) {
	s := newSupervisor(t)
	serve(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	got := make(chan api.WatchEvent, 64)
	done := make(chan error, 1)
	go func() {
		done <- api.NewClient(s.dir).Watch(ctx, "Service", "default", func(e api.WatchEvent) error {
			got <- e
			return nil
		})
	}()
	next := func() string {
		t.Helper()
		select {
		case e := <-got:
			if e.Object == nil {
				return e.Type
			}
			return e.Type + " " + e.Object.Namespace + "/" + e.Object.Name
		case <-time.After(5 * time.Second):
			t.Fatal("no watch event in 5 s")
			return ""
		}
	}
	for _, want := range []string{"ADDED default/kubernetes", "ADDED default/web", "BOOKMARK"} {
		if e := next(); e != want {
			t.Fatalf("got %q, want %q", e, want)
		}
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: corev1.ServiceSpec{ClusterIP: "None", Ports: []corev1.ServicePort{{Port: 5432}}}}
	if _, err := s.store.Create(svc); err != nil {
		t.Fatal(err)
	}
	other := svc.DeepCopy()
	other.Namespace = "kube-system"
	if _, err := s.store.Create(other); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.Create(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	o, _ := s.store.Get("Service", "default", "db")
	upd := o.(*corev1.Service).DeepCopy()
	upd.Labels = map[string]string{"tier": "db"}
	if _, err := s.store.Update(upd); err != nil {
		t.Fatal(err)
	}
	if _, err := s.store.Delete("Service", "default", "db"); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for range 3 {
		seen = append(seen, next())
	}
	if strings.Join(seen, ", ") != "ADDED default/db, MODIFIED default/db, DELETED default/db" {
		t.Errorf("changes: %q", seen)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Watch after cancel: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after the context was cancelled")
	}
}

// A watcher behind the change log gets the difference of a new list: what was
// added, changed or deleted meanwhile, deleted ones with their last state.
func TestWatchRelist(t *testing.T) {
	s := newSupervisor(t)
	web, _ := s.store.Get("Service", "default", "web")
	gone := web.DeepCopyObject().(store.Object)
	gone.SetName("gone")
	known := map[store.Key]store.Object{
		store.KeyOf(gone): gone,
		// An older version of web than the store's.
		store.KeyOf(web): func() store.Object { o := web.DeepCopyObject().(store.Object); o.SetResourceVersion("1"); return o }(),
	}
	var sent []string
	err := s.relist("Service", "default", known, func(typ string, o store.Object) error {
		sent = append(sent, typ+" "+o.GetName())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(sent, ", "); got != "ADDED kubernetes, MODIFIED web, DELETED gone" {
		t.Errorf("relist sent %q", got)
	}
	if len(known) != 2 || known[store.KeyOf(web)] != web {
		t.Errorf("known after relist: %v", known)
	}
}
