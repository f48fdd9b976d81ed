// Package store is a lab's object store, what etcd and the API server's registry are
// to a cluster: every Kubernetes object of the lab (Pods, Deployments, Services,
// EndpointSlices, Nodes, ...) typed with the k8s.io/api types, each with a
// resourceVersion, and a generation counter that every write advances. It is the only
// writer of objects: components read it through Reader and write through the Store's
// methods. Watch is level-triggered and coalesced: a watcher learns that the store moved
// past a generation, reads what it needs, and programs it; a burst of writes wakes it
// once. A bounded change log answers "what changed since version N" for components that
// work incrementally and, later, for a Kubernetes watch.
//
// The store is persisted as an append-only log in the lab's state directory (one JSON
// line per write, compacted into a snapshot as it grows), so a supervisor killed and
// restarted resumes with every object. It never touches the kernel.
package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
)

// Object is a Kubernetes object: a pointer to a k8s.io/api type, or an
// *unstructured.Unstructured for kinds the store has no Go type for.
type Object interface {
	metav1.Object
	runtime.Object
}

// Key names one object.
type Key struct{ Kind, Namespace, Name string }

func (k Key) String() string {
	if k.Namespace == "" {
		return k.Kind + "/" + k.Name
	}
	return k.Kind + "/" + k.Namespace + "/" + k.Name
}

// KeyOf is the key of o; its kind comes from the scheme.
func KeyOf(o Object) Key {
	return Key{Kind: KindOf(o), Namespace: o.GetNamespace(), Name: o.GetName()}
}

// Change is one write, as the change log keeps it.
type Change struct {
	Type    string // ADDED, MODIFIED, DELETED (a Kubernetes watch's event types)
	Key     Key
	Version uint64
	Object  Object // the object after the write; for DELETED, the last state
	Status  bool   // only the status changed (UpdateStatus)
}

// Reader is what components read: objects by key or kind, the generation, and the
// wait for the next one. Objects returned are shared: never modify them, DeepCopy first.
type Reader interface {
	Get(kind, namespace, name string) (Object, bool)
	List(kind, namespace string) []Object
	Count(kind string) int
	Generation() uint64
	Wait(ctx context.Context, after uint64) (uint64, error)
	Changes(since uint64) ([]Change, bool)
}

// Count says how many objects of kind the store holds.
func (s *Store) Count(kind string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byKind[kind])
}

type entry struct {
	obj Object
	rv  uint64
	raw []byte // obj as JSON, once marshalled (to persist it, or for a reader)
}

// Store holds a lab's objects.
type Store struct {
	mu      sync.RWMutex
	objs    map[Key]*entry
	byKind  map[string]map[Key]*entry
	gen     uint64
	changed chan struct{} // closed and replaced at every write: the level-triggered wake-up
	log     []Change      // ring of the latest changes, oldest first
	logMax  int
	disk    *disk
	now     func() time.Time
	// sorted caches each kind's objects in List's order; an update replaces its
	// object in place, a create or delete drops the kind's cache.
	sorted map[string]*sortedKind
	// batching holds wake-ups back during a batch of writes.
	batching bool
}

type sortedKind struct {
	objs []Object
	at   map[Key]int
}

// New returns an empty, unpersisted store.
func New() *Store {
	return &Store{objs: map[Key]*entry{}, byKind: map[string]map[Key]*entry{}, changed: make(chan struct{}), logMax: 20000, now: time.Now, sorted: map[string]*sortedKind{}}
}

// Generation is the store's version: the resourceVersion of the latest write.
func (s *Store) Generation() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

// Wait returns the generation as soon as it is past after, or ctx's error.
func (s *Store) Wait(ctx context.Context, after uint64) (uint64, error) {
	for {
		s.mu.RLock()
		gen, ch := s.gen, s.changed
		s.mu.RUnlock()
		if gen > after {
			return gen, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return gen, ctx.Err()
		}
	}
}

// Get returns one object.
func (s *Store) Get(kind, namespace, name string) (Object, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e, ok := s.objs[Key{kind, namespace, name}]
	if !ok {
		return nil, false
	}
	return e.obj, true
}

// List returns the objects of kind in namespace (every namespace when empty), sorted
// by namespace and name.
func (s *Store) List(kind, namespace string) []Object {
	s.mu.RLock()
	sk := s.sorted[kind]
	if sk == nil {
		s.mu.RUnlock()
		s.mu.Lock()
		sk = s.sortKind(kind)
		s.mu.Unlock()
		s.mu.RLock()
	}
	out := make([]Object, 0, len(sk.objs))
	for _, o := range sk.objs {
		if namespace == "" || o.GetNamespace() == namespace {
			out = append(out, o)
		}
	}
	s.mu.RUnlock()
	return out
}

// sortKind builds (or returns) kind's sorted cache; s.mu is held for writing.
func (s *Store) sortKind(kind string) *sortedKind {
	if sk := s.sorted[kind]; sk != nil {
		return sk
	}
	sk := &sortedKind{objs: make([]Object, 0, len(s.byKind[kind])), at: make(map[Key]int, len(s.byKind[kind]))}
	for _, e := range s.byKind[kind] {
		sk.objs = append(sk.objs, e.obj)
	}
	slices.SortFunc(sk.objs, func(a, b Object) int {
		if c := strings.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
			return c
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
	for i, o := range sk.objs {
		sk.at[Key{kind, o.GetNamespace(), o.GetName()}] = i
	}
	s.sorted[kind] = sk
	return sk
}

// JSON is o, an object this store returned, as JSON: the encoding it persisted
// when it still holds that version, so that serving a list does not marshal every
// object again.
func (s *Store) JSON(o Object) ([]byte, error) {
	s.mu.RLock()
	e := s.objs[KeyOf(o)]
	s.mu.RUnlock()
	if e != nil && e.obj == o && e.raw != nil {
		return e.raw, nil
	}
	return json.Marshal(o)
}

// Kinds lists the kinds the store holds objects of.
func (s *Store) Kinds() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	for k, m := range s.byKind {
		if len(m) > 0 {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// Changes returns the writes after version since, oldest first; ok is false when the
// log no longer reaches back that far (the caller then lists instead, as a Kubernetes
// client does after "410 Gone").
func (s *Store) Changes(since uint64) (changes []Change, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if since >= s.gen {
		return nil, true
	}
	if len(s.log) == 0 || s.log[0].Version > since+1 {
		return nil, false
	}
	i, _ := slices.BinarySearchFunc(s.log, since+1, func(c Change, v uint64) int { return cmp.Compare(c.Version, v) })
	return slices.Clone(s.log[i:]), true
}

// Create adds a new object. It fills uid, creationTimestamp, resourceVersion and,
// for kinds with a spec, metadata.generation 1. generateName is honoured.
func (s *Store) Create(o Object) (Object, error) {
	o = o.DeepCopyObject().(Object)
	kind := KindOf(o)
	if o.GetName() == "" && o.GetGenerateName() != "" {
		o.SetName(o.GetGenerateName() + randomSuffix())
	}
	if o.GetName() == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s: metadata.name: Required value", kind))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createLocked(o)
}

// createLocked stores a new object o (a private copy); s.mu is held.
func (s *Store) createLocked(o Object) (Object, error) {
	o = canonical(o)
	kind := KindOf(o)
	k := Key{kind, o.GetNamespace(), o.GetName()}
	if _, ok := s.objs[k]; ok {
		return nil, apierrors.NewAlreadyExists(resource(kind), o.GetName())
	}
	if o.GetUID() == "" {
		o.SetUID(types.UID(uuid.NewUUID()))
	}
	if ts := o.GetCreationTimestamp(); ts.IsZero() {
		o.SetCreationTimestamp(metav1.NewTime(s.now().Truncate(time.Second)))
	}
	if hasSpec(o) {
		o.SetGeneration(1)
	}
	return s.put(k, o, "ADDED")
}

// Update replaces an object. When o carries a resourceVersion it must be the stored one
// (optimistic concurrency, a Conflict otherwise). uid and creationTimestamp are kept;
// metadata.generation advances when anything but status and metadata changed; the
// status is kept as stored (it changes through UpdateStatus).
// An update that changes nothing is not a write: the stored object is returned.
func (s *Store) Update(o Object) (Object, error) {
	return s.update(o, false)
}

// UpdateStatus replaces only the status of an object (the status subresource):
// spec and metadata stay as stored.
func (s *Store) UpdateStatus(o Object) (Object, error) {
	return s.update(o, true)
}

func (s *Store) update(o Object, statusOnly bool) (Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updateLocked(o, statusOnly)
}

// UpdateStatuses is UpdateStatus of many objects as one write: one lock, one wake-up
// of the watchers, one append to the log (kubelet reports a burst of readiness so).
func (s *Store) UpdateStatuses(objs []Object) ([]Object, []error) {
	out, errs := make([]Object, len(objs)), make([]error, len(objs))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batch(func() {
		for i, o := range objs {
			out[i], errs[i] = s.updateLocked(o, true)
		}
	})
	return out, errs
}

// CreateMany is Create of many objects as one write.
func (s *Store) CreateMany(objs []Object) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	s.batch(func() {
		for _, o := range objs {
			if _, e := s.createLocked(o.DeepCopyObject().(Object)); e != nil && err == nil {
				err = e
			}
		}
	})
	return err
}

// batch runs fn with wake-ups and log writes held back, then does each once; s.mu
// is held.
func (s *Store) batch(fn func()) {
	gen := s.gen
	s.batching = true
	if s.disk != nil {
		s.disk.batching = true
	}
	fn()
	s.batching = false
	if s.disk != nil {
		s.disk.flush()
	}
	if s.gen != gen {
		s.wake()
	}
}

func (s *Store) updateLocked(o Object, statusOnly bool) (Object, error) {
	o = canonical(o.DeepCopyObject().(Object))
	kind := KindOf(o)
	k := Key{kind, o.GetNamespace(), o.GetName()}
	old, ok := s.objs[k]
	if !ok {
		return nil, apierrors.NewNotFound(resource(kind), o.GetName())
	}
	if rv := o.GetResourceVersion(); rv != "" && rv != old.obj.GetResourceVersion() {
		return nil, apierrors.NewConflict(resource(kind), o.GetName(), fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
	}
	if statusOnly {
		n := old.obj.DeepCopyObject().(Object)
		if !setStatus(n, o) {
			return nil, apierrors.NewBadRequest(kind + " has no status")
		}
		o = n
	} else {
		o.SetUID(old.obj.GetUID())
		o.SetCreationTimestamp(old.obj.GetCreationTimestamp())
		o.SetGeneration(old.obj.GetGeneration())
		if hasSpec(o) && !reflect.DeepEqual(specOf(o), specOf(old.obj)) {
			o.SetGeneration(old.obj.GetGeneration() + 1)
		}
		if o.GetDeletionTimestamp() == nil {
			o.SetDeletionTimestamp(old.obj.GetDeletionTimestamp())
		}
		if hasStatusField(o) {
			setStatus(o, old.obj) // status is written through UpdateStatus only, as with the API server's status subresource
		}
	}
	o.SetResourceVersion(old.obj.GetResourceVersion())
	if equalObjects(o, old.obj) {
		return old.obj, nil
	}
	if statusOnly {
		return s.put(k, o, "MODIFIED/status")
	}
	return s.put(k, o, "MODIFIED")
}

// Delete removes an object at once (no finalizers in a lab: the component that must
// see a deletion through, kubelet for a Pod, uses MarkDeleted first).
func (s *Store) Delete(kind, namespace, name string) (Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := Key{kind, namespace, name}
	old, ok := s.objs[k]
	if !ok {
		return nil, apierrors.NewNotFound(resource(kind), name)
	}
	s.gen++
	delete(s.objs, k)
	delete(s.byKind[kind], k)
	delete(s.sorted, kind)
	s.record(Change{Type: "DELETED", Key: k, Version: s.gen, Object: old.obj})
	if s.disk != nil {
		s.disk.del(k, s.gen)
	}
	s.wake()
	return old.obj, nil
}

// MarkDeleted sets metadata.deletionTimestamp, as the API server does for an object
// whose deletion must be seen through (a Pod's sandbox torn down by its kubelet). The
// object stays until that component calls Delete.
func (s *Store) MarkDeleted(kind, namespace, name string) (Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := Key{kind, namespace, name}
	old, ok := s.objs[k]
	if !ok {
		return nil, apierrors.NewNotFound(resource(kind), name)
	}
	if old.obj.GetDeletionTimestamp() != nil {
		return old.obj, nil
	}
	o := old.obj.DeepCopyObject().(Object)
	now := metav1.NewTime(s.now())
	o.SetDeletionTimestamp(&now)
	return s.put(k, o, "MODIFIED")
}

// put stores o under k as a new version; s.mu is held.
func (s *Store) put(k Key, o Object, typ string) (Object, error) {
	s.gen++
	o.SetResourceVersion(strconv.FormatUint(s.gen, 10))
	setTypeMeta(o, k.Kind)
	e := &entry{obj: o, rv: s.gen}
	if sk := s.sorted[k.Kind]; sk != nil {
		if i, ok := sk.at[k]; ok && typ == "MODIFIED" {
			sk.objs[i] = o
		} else {
			delete(s.sorted, k.Kind)
		}
	}
	s.objs[k] = e
	if s.byKind[k.Kind] == nil {
		s.byKind[k.Kind] = map[Key]*entry{}
	}
	s.byKind[k.Kind][k] = e
	status := typ == "MODIFIED/status"
	if status {
		typ = "MODIFIED"
	}
	s.record(Change{Type: typ, Key: k, Version: s.gen, Object: o, Status: status})
	if s.disk != nil {
		e.raw = s.disk.put(o, s.gen)
	}
	if !s.batching {
		s.wake()
	}
	return o, nil
}

func (s *Store) record(c Change) {
	if len(s.log) >= s.logMax {
		n := copy(s.log, s.log[len(s.log)/2:])
		s.log = s.log[:n]
	}
	s.log = append(s.log, c)
}

func (s *Store) wake() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// resource is the lower-case plural a Kubernetes error names.
func resource(kind string) schema.GroupResource {
	r := strings.ToLower(kind)
	switch {
	case strings.HasSuffix(r, "s"):
		r += "es"
	case strings.HasSuffix(r, "y"):
		r = r[:len(r)-1] + "ies"
	default:
		r += "s"
	}
	return schema.GroupResource{Resource: r}
}
