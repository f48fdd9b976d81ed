package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

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

// loadObjects puts the lab file's manifest objects (all but pods, which run) into the
// store, Services through the Services component.
func (s *Supervisor) loadObjects() {
	for _, o := range s.plan.Objects {
		if o.Kind == "Pod" {
			continue
		}
		if r := s.applyObject(o, s.started); r.Error != "" {
			s.events.emit(events.Event{Type: events.Warning, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Message: r.Error})
		}
	}
}

// ApplyRequest is what `podlab apply` sends: the objects and the pods they make (a
// Pod makes one, a Deployment its replicas), as topology decoded them.
type ApplyRequest struct {
	Objects []topology.Object `json:"objects"`
	Pods    []topology.Pod    `json:"pods,omitempty"`
}

// Apply creates or replaces objects applied over the API; Pods and Deployments start
// their missing pods.
func (s *Supervisor) Apply(ctx context.Context, req ApplyRequest) []ApplyResult {
	var out []ApplyResult
	for _, o := range req.Objects {
		var r ApplyResult
		if liveKinds[o.Kind] {
			r = s.applyWorkload(ctx, o, req.Pods)
		} else {
			r = s.applyObject(o, time.Now())
		}
		if r.Error == "" && r.Action != "unchanged" {
			msg := r.Action
			if !o.Applied {
				msg += "; kept, not applied yet by this version"
			}
			s.events.emit(events.Event{Type: events.ObjectApplied, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Message: msg})
		}
		out = append(out, r)
	}
	if s.svc != nil {
		s.svc.waitSettled(context.Background()) // apply returns once kube-proxy has the change
	}
	return out
}

// applyWorkload stores a Pod or Deployment and starts those of its pods the lab does
// not run yet. Changing the pods of a running workload needs a redeploy.
func (s *Supervisor) applyWorkload(ctx context.Context, o topology.Object, pods []topology.Pod) ApplyResult {
	r := ApplyResult{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
	var mine []topology.Pod
	for _, p := range pods {
		if p.Namespace == o.Namespace && (o.Kind == "Pod" && p.Name == o.Name && p.Owner == "" || p.Owner == o.Kind+"/"+o.Name) {
			mine = append(mine, p)
		}
	}
	started := 0
	for _, tp := range mine {
		s.mu.RLock()
		_, exists := s.plan.Pod(tp.Namespace, tp.Name)
		s.mu.RUnlock()
		if exists {
			continue
		}
		if err := s.AddPod(ctx, tp); err != nil {
			r.Error = err.Error()
			return r
		}
		started++
	}
	r = s.objects.apply(o, time.Now())
	if started > 0 && r.Action == "unchanged" {
		r.Action = "configured"
	}
	return r
}

// applyObject admits one object (the Services component validates and allocates
// Services and checks user-supplied endpoints) and stores it.
func (s *Supervisor) applyObject(o topology.Object, now time.Time) ApplyResult {
	r := ApplyResult{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
	ss := s.svc
	switch o.Kind {
	case "Service":
		var svc v1.Service
		if err := json.Unmarshal(o.Raw, &svc); err != nil {
			r.Error = err.Error()
			return r
		}
		svc.Namespace = o.Namespace
		stored, err := ss.reg.Apply(&svc, o.Pos)
		if err != nil {
			r.Error = err.Error()
			return r
		}
		o = topoObject(o.APIVersion, o.Kind, o.Namespace, o.Name, stored)
	case "EndpointSlice", "Endpoints":
		if err := admit(ss.reg, o); err != nil {
			r.Error = err.Error()
			return r
		}
		ss.mu.Lock()
		if o.Kind == "EndpointSlice" {
			var sl discoveryv1.EndpointSlice
			json.Unmarshal(o.Raw, &sl)
			sl.Namespace = o.Namespace
			ss.manual[o.Namespace+"/"+o.Name] = &sl
		} else {
			var eps v1.Endpoints
			json.Unmarshal(o.Raw, &eps)
			eps.Namespace = o.Namespace
			ss.manEps[o.Namespace+"/"+o.Name] = &eps
		}
		ss.mu.Unlock()
	}
	r = s.objects.apply(o, now)
	if ss != nil && (o.Kind == "Service" || o.Kind == "EndpointSlice" || o.Kind == "Endpoints") {
		ss.ensureStarted()
		ss.kick()
	}
	return r
}

// DeleteObjects removes objects.
func (s *Supervisor) DeleteObjects(refs []ObjectRef) []ApplyResult {
	var out []ApplyResult
	for _, ref := range refs {
		r := ApplyResult{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name, Action: "deleted"}
		switch ref.Kind {
		case "Service":
			s.svc.reg.Delete(ref.Namespace, ref.Name)
		case "EndpointSlice":
			s.svc.mu.Lock()
			delete(s.svc.manual, ref.Namespace+"/"+ref.Name)
			s.svc.mu.Unlock()
		case "Endpoints":
			s.svc.mu.Lock()
			delete(s.svc.manEps, ref.Namespace+"/"+ref.Name)
			s.svc.mu.Unlock()
		}
		if !s.objects.remove(ref) {
			r.Action, r.Error = "", fmt.Sprintf("%s %q not found", strings.ToLower(ref.Kind), ref.Name)
		} else {
			s.events.emit(events.Event{Type: events.ObjectDeleted, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name})
			s.svc.kick()
		}
		out = append(out, r)
	}
	s.svc.waitSettled(context.Background())
	return out
}

func (s *Supervisor) objectRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+PathObjects, func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.objects.list(r.URL.Query().Get("kind"), r.URL.Query().Get("namespace")), nil)
	})
	mux.HandleFunc("POST "+PathApply, func(w http.ResponseWriter, r *http.Request) {
		var req ApplyRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":"apply: expected {objects, pods}"}`, http.StatusBadRequest)
			return
		}
		reply(w, s.Apply(r.Context(), req), nil)
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
