package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func pod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}}
}

func TestCreateGetListVersions(t *testing.T) {
	s := New()
	a, err := s.Create(pod("default", "b", nil))
	if err != nil {
		t.Fatal(err)
	}
	if a.GetResourceVersion() != "1" || a.GetUID() == "" || a.GetGeneration() != 1 || a.GetCreationTimestamp().Time.IsZero() {
		t.Fatalf("created object lacks metadata: rv %q uid %q gen %d", a.GetResourceVersion(), a.GetUID(), a.GetGeneration())
	}
	if a.(*corev1.Pod).Kind != "Pod" || a.(*corev1.Pod).APIVersion != "v1" {
		t.Fatalf("type meta not set: %+v", a.(*corev1.Pod).TypeMeta)
	}
	s.Create(pod("default", "a", nil))
	s.Create(pod("other", "a", nil))
	if _, err := s.Create(pod("default", "a", nil)); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v, want AlreadyExists", err)
	}
	var names []string
	for _, o := range s.List("Pod", "") {
		names = append(names, o.GetNamespace()+"/"+o.GetName())
	}
	if got := names; len(got) != 3 || got[0] != "default/a" || got[1] != "default/b" || got[2] != "other/a" {
		t.Fatalf("list = %v", got)
	}
	if got := len(s.List("Pod", "other")); got != 1 {
		t.Fatalf("list in other = %d", got)
	}
	if s.Generation() != 3 {
		t.Fatalf("generation = %d, want 3", s.Generation())
	}
}

func TestUpdateGenerationConflictStatus(t *testing.T) {
	s := New()
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}}
	o, _ := s.Create(d)
	d2 := o.DeepCopyObject().(*appsv1.Deployment)
	d2.Labels = map[string]string{"x": "y"} // metadata only: generation stays
	o2, err := s.Update(d2)
	if err != nil || o2.GetGeneration() != 1 || o2.GetResourceVersion() != "2" {
		t.Fatalf("label update: gen %d rv %s err %v", o2.GetGeneration(), o2.GetResourceVersion(), err)
	}
	d3 := o2.DeepCopyObject().(*appsv1.Deployment)
	r := int32(5)
	d3.Spec.Replicas = &r
	o3, _ := s.Update(d3)
	if o3.GetGeneration() != 2 {
		t.Fatalf("spec change: generation %d, want 2", o3.GetGeneration())
	}
	if _, err := s.Update(d2); !apierrors.IsConflict(err) { // d2 carries resourceVersion 1
		t.Fatalf("stale update: %v, want Conflict", err)
	}
	same := o3.DeepCopyObject().(*appsv1.Deployment)
	if o4, _ := s.Update(same); o4.GetResourceVersion() != o3.GetResourceVersion() {
		t.Fatal("an update that changes nothing must not be a write")
	}
	st := o3.DeepCopyObject().(*appsv1.Deployment)
	st.Status.Replicas = 5
	st.Spec.Replicas = nil // ignored by UpdateStatus
	o5, _ := s.UpdateStatus(st)
	if o5.(*appsv1.Deployment).Status.Replicas != 5 || *o5.(*appsv1.Deployment).Spec.Replicas != 5 || o5.GetGeneration() != 2 {
		t.Fatalf("status update: %+v", o5)
	}
	sp := o5.DeepCopyObject().(*appsv1.Deployment)
	sp.Status.Replicas = 0 // ignored by Update
	o6, _ := s.Update(sp)
	if o6.(*appsv1.Deployment).Status.Replicas != 5 {
		t.Fatal("Update must keep the stored status")
	}
}

func TestWaitIsLevelTriggered(t *testing.T) {
	s := New()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Wait(ctx, 0); err == nil {
		t.Fatal("Wait on an unchanged store returned")
	}
	done := make(chan uint64)
	go func() {
		g, _ := s.Wait(context.Background(), 0)
		done <- g
	}()
	for i := 0; i < 10; i++ {
		s.Create(pod("default", string(rune('a'+i)), nil))
	}
	if g := <-done; g < 1 {
		t.Fatalf("woke at %d", g)
	}
	if g, _ := s.Wait(context.Background(), 5); g != 10 { // already past: returns at once
		t.Fatalf("Wait(5) = %d", g)
	}
}

func TestChangesAndDelete(t *testing.T) {
	s := New()
	s.Create(pod("default", "a", nil))
	s.Create(pod("default", "b", nil))
	s.MarkDeleted("Pod", "default", "a")
	if o, _ := s.Get("Pod", "default", "a"); o.GetDeletionTimestamp() == nil {
		t.Fatal("MarkDeleted did not set deletionTimestamp")
	}
	if _, err := s.Delete("Pod", "default", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete("Pod", "default", "a"); !apierrors.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
	ch, ok := s.Changes(1)
	if !ok || len(ch) != 3 || ch[0].Type != "ADDED" || ch[1].Type != "MODIFIED" || ch[2].Type != "DELETED" || ch[2].Version != 4 {
		t.Fatalf("changes since 1: %+v %v", ch, ok)
	}
	s.logMax = 4
	for i := 0; i < 10; i++ {
		s.Create(pod("x", string(rune('a'+i)), nil))
	}
	if _, ok := s.Changes(1); ok {
		t.Fatal("Changes from before the log's start must say so")
	}
}

func TestPersistReplayAndCompact(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.ndjson")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		s.Create(pod("default", string(rune('a'+i)), map[string]string{"app": "web"}))
	}
	s.Delete("Pod", "default", "b")
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("widgets.example.com/v1") // a kind the store has no Go type for
	u.SetKind("Widget")
	u.SetNamespace("default")
	u.SetName("gw")
	u.Object["spec"] = map[string]any{"gatewayClassName": "podlab"}
	if _, err := s.Create(u); err != nil {
		t.Fatal(err)
	}
	gen := s.Generation()
	s.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Generation() != gen || len(r.List("Pod", "")) != 2 {
		t.Fatalf("reloaded: gen %d (want %d), %d pods", r.Generation(), gen, len(r.List("Pod", "")))
	}
	o, ok := r.Get("Pod", "default", "c")
	if !ok || o.(*corev1.Pod).Labels["app"] != "web" || o.GetResourceVersion() != "3" {
		t.Fatalf("pod c after reload: %+v", o)
	}
	if g, ok := r.Get("Widget", "default", "gw"); !ok || g.(*unstructured.Unstructured).Object["spec"].(map[string]any)["gatewayClassName"] != "podlab" {
		t.Fatalf("unstructured after reload: %+v", g)
	}
	if o, _ := r.Create(pod("default", "d", nil)); o.GetResourceVersion() != "6" {
		t.Fatalf("versions continue after reload: %s", o.GetResourceVersion())
	}
	// Many writes compact the log; the result replays to the same store.
	for i := 0; i < 5000; i++ {
		p, _ := r.Get("Pod", "default", "d")
		q := p.DeepCopyObject().(*corev1.Pod)
		q.Labels = map[string]string{"i": string(rune('a' + i%26))}
		if _, err := r.Update(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	gen = r.Generation()
	r.Close()
	fi, _ := os.Stat(path)
	if fi.Size() > 1<<20 {
		t.Fatalf("log not compacted: %d bytes", fi.Size())
	}
	r2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Generation() != gen || len(r2.List("Pod", "")) != 3 {
		t.Fatalf("after compaction: gen %d want %d, %d pods", r2.Generation(), gen, len(r2.List("Pod", "")))
	}
	// A line cut short by a crash is ignored.
	r2.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"v":99999,"op":"put","kind":"Pod","obj`)
	f.Close()
	if _, err := Open(path); err != nil {
		t.Fatalf("torn last line: %v", err)
	}
}

func TestBatchesWakeOnceAndPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.ndjson")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var pods []Object
	for i := 0; i < 50; i++ {
		pods = append(pods, pod("default", fmt.Sprintf("p-%d", i), nil))
	}
	if err := s.CreateMany(pods); err != nil {
		t.Fatal(err)
	}
	if s.Generation() != 50 || len(s.List("Pod", "")) != 50 {
		t.Fatalf("after CreateMany: gen %d, %d pods", s.Generation(), len(s.List("Pod", "")))
	}
	var upd []Object
	for _, o := range s.List("Pod", "") {
		p := o.DeepCopyObject().(*corev1.Pod)
		p.Status.Phase = corev1.PodRunning
		upd = append(upd, p)
	}
	woke := make(chan uint64, 1)
	go func() { g, _ := s.Wait(context.Background(), 50); woke <- g }()
	out, errs := s.UpdateStatuses(upd)
	for i, err := range errs {
		if err != nil || out[i].(*corev1.Pod).Status.Phase != corev1.PodRunning {
			t.Fatalf("update %d: %v", i, err)
		}
	}
	if g := <-woke; g != 100 {
		t.Fatalf("the watcher woke at %d, want once at 100", g)
	}
	ch, _ := s.Changes(50)
	if len(ch) != 50 || !ch[0].Status {
		t.Fatalf("%d changes, status flag %v", len(ch), ch[0].Status)
	}
	s.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := r.Get("Pod", "default", "p-7"); o.(*corev1.Pod).Status.Phase != corev1.PodRunning || r.Generation() != 100 {
		t.Fatalf("reloaded: %+v gen %d", o, r.Generation())
	}
}

// A last line cut inside its object, right after a closing brace, is still a torn
// line: the store opens without it.
func TestTornLineEndingInABrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.ndjson")
	s, _ := Open(path)
	s.Create(pod("default", "a", map[string]string{"x": "y"}))
	s.Close()
	data, _ := os.ReadFile(path)
	line := data[:len(data)-1] // without its newline
	cut := bytes.Index(line, []byte(`"labels":{"x":"y"}`)) + len(`"labels":{"x":"y"}`)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(bytes.Replace(line[:cut], []byte(`"name":"a"`), []byte(`"name":"b"`), 2))
	f.Close()
	r, err := Open(path)
	if err != nil {
		t.Fatalf("torn line ending in a brace: %v", err)
	}
	if _, ok := r.Get("Pod", "default", "b"); ok || len(r.List("Pod", "")) != 1 {
		t.Fatal("the torn record was loaded")
	}
}

// JSON serves the encoding the store persisted, for the version it holds, also after
// a reload, and marshals anything else.
func TestJSONReusesThePersistedEncoding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.ndjson")
	s, _ := Open(path)
	o, _ := s.Create(pod("default", "a", map[string]string{"x": "y"}))
	want, _ := json.Marshal(o)
	for _, st := range []*Store{s, func() *Store { s.Close(); r, _ := Open(path); return r }()} {
		cur, _ := st.Get("Pod", "default", "a")
		got, err := st.JSON(cur)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("JSON = %s, %v; want %s", got, err, want)
		}
	}
	other := pod("default", "b", nil) // not stored: marshalled
	if got, _ := s.JSON(other); !bytes.Contains(got, []byte(`"name":"b"`)) {
		t.Fatalf("JSON of an object not stored: %s", got)
	}
}
