package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"podlab.dev/podlab/events"
	"podlab.dev/podlab/topology"
)

// StoredObject is a Kubernetes object the lab holds (every manifest object but pods,
// which the lab runs), as `podlab get` shows it.
type StoredObject struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Namespace  string          `json:"namespace,omitempty"`
	Name       string          `json:"name"`
	Applied    bool            `json:"applied"` // a component of this version acts on it
	Created    time.Time       `json:"created"`
	Object     json.RawMessage `json:"object"`
}

func (o *StoredObject) key() string { return o.Kind + "/" + o.Namespace + "/" + o.Name }

// ApplyResult says what apply or delete did to one object.
type ApplyResult struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Action    string `json:"action,omitempty"` // created, configured, unchanged, deleted
	Error     string `json:"error,omitempty"`
}

// ObjectRef names an object to delete.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// objectStore holds the lab's objects in memory.
type objectStore struct {
	mu   sync.RWMutex
	objs map[string]*StoredObject
}

func newObjectStore() *objectStore { return &objectStore{objs: map[string]*StoredObject{}} }

// liveKinds are the kinds a pod-running component creates from: changing them live
// needs a redeploy in this version.
var liveKinds = map[string]bool{"Pod": true, "Deployment": true}

// apply stores o, saying whether it was created, configured or unchanged.
func (st *objectStore) apply(o topology.Object, now time.Time) ApplyResult {
	r := ApplyResult{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
	st.mu.Lock()
	defer st.mu.Unlock()
	so := &StoredObject{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Applied: o.Applied, Created: now, Object: o.Raw}
	old, ok := st.objs[so.key()]
	switch {
	case !ok:
		r.Action = "created"
	case bytes.Equal(old.Object, so.Object):
		r.Action = "unchanged"
		return r
	default:
		r.Action = "configured"
		so.Created = old.Created
	}
	st.objs[so.key()] = so
	return r
}

func (st *objectStore) remove(ref ObjectRef) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	k := ref.Kind + "/" + ref.Namespace + "/" + ref.Name
	_, ok := st.objs[k]
	delete(st.objs, k)
	return ok
}

// list returns the objects of kind (all kinds when empty) in namespace (all when
// empty), sorted by namespace and name.
func (st *objectStore) list(kind, namespace string) []*StoredObject {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []*StoredObject
	for _, o := range st.objs {
		if (kind == "" || strings.EqualFold(o.Kind, kind)) && (namespace == "" || o.Namespace == namespace) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b *StoredObject) int { return strings.Compare(a.key(), b.key()) })
	return out
}

// loadObjects puts the lab file's manifest objects (all but pods) into the store.
func (s *Supervisor) loadObjects() {
	for _, o := range s.plan.Objects {
		if o.Kind != "Pod" {
			s.objects.apply(o, s.started)
		}
	}
}

// Apply stores objects applied over the API.
func (s *Supervisor) Apply(objs []topology.Object) []ApplyResult {
	var out []ApplyResult
	for _, o := range objs {
		if liveKinds[o.Kind] {
			out = append(out, ApplyResult{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name,
				Error: fmt.Sprintf("%s objects are created at deploy in this version: add it to the lab file and run `podlab deploy --reconfigure`", o.Kind)})
			continue
		}
		r := s.objects.apply(o, time.Now())
		if r.Action != "unchanged" {
			msg := r.Action
			if !o.Applied {
				msg += "; kept, not applied yet by this version"
			}
			s.events.emit(events.Event{Type: events.ObjectApplied, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Message: msg})
		}
		out = append(out, r)
	}
	return out
}

// DeleteObjects removes objects.
func (s *Supervisor) DeleteObjects(refs []ObjectRef) []ApplyResult {
	var out []ApplyResult
	for _, ref := range refs {
		r := ApplyResult{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name, Action: "deleted"}
		if !s.objects.remove(ref) {
			r.Action, r.Error = "", fmt.Sprintf("%s %q not found", strings.ToLower(ref.Kind), ref.Name)
		} else {
			s.events.emit(events.Event{Type: events.ObjectDeleted, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name})
		}
		out = append(out, r)
	}
	return out
}

func (s *Supervisor) objectRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathObjects, func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.objects.list(r.URL.Query().Get("kind"), r.URL.Query().Get("namespace")), nil)
	})
	mux.HandleFunc("POST "+PathApply, func(w http.ResponseWriter, r *http.Request) {
		var objs []topology.Object
		if err := json.NewDecoder(r.Body).Decode(&objs); err != nil {
			http.Error(w, `{"error":"apply: expected a JSON list of objects"}`, http.StatusBadRequest)
			return
		}
		reply(w, s.Apply(objs), nil)
	})
	mux.HandleFunc("POST "+PathDelete, func(w http.ResponseWriter, r *http.Request) {
		var refs []ObjectRef
		if err := json.NewDecoder(r.Body).Decode(&refs); err != nil {
			http.Error(w, `{"error":"delete: expected a JSON list of object references"}`, http.StatusBadRequest)
			return
		}
		reply(w, s.DeleteObjects(refs), nil)
	})
}
