package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/validation"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/defaults"
	"podlab.dev/podlab/cluster/kubelet"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/topology"
)

func (s *Supervisor) routes() http.Handler {
	mux := http.NewServeMux()
	// The Go profiler, for measuring the supervisor itself.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET "+api.PathState, func(w http.ResponseWriter, r *http.Request) { reply(w, s.State(), nil) })
	s.logRoutes(mux)
	s.netpolRoutes(mux)
	s.netpolTraceRoutes(mux)
	s.netpolLogRoutes(mux)
	mux.HandleFunc("GET "+api.PathEvents, s.serveEvents)
	mux.HandleFunc("GET "+api.PathWatch, s.serveWatch)
	mux.HandleFunc("GET "+api.PathReady, func(w http.ResponseWriter, r *http.Request) { reply(w, s.ReadyCount(), nil) })
	mux.HandleFunc("GET "+api.PathCounters, func(w http.ResponseWriter, r *http.Request) {
		cs, err := s.Counters(r.Context(), r.URL.Query().Get("services") != "")
		reply(w, cs, err)
	})
	mux.HandleFunc("GET "+api.PathDetails+"{kind}/{name}", func(w http.ResponseWriter, r *http.Request) {
		d, err := s.Details(r.Context(), r.PathValue("kind"), r.URL.Query().Get("namespace"), r.PathValue("name"))
		reply(w, d, err)
	})
	mux.HandleFunc("GET "+api.PathPodEtc+"{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		e, err := s.PodEtc(r.PathValue("namespace"), r.PathValue("name"))
		reply(w, e, err)
	})
	mux.HandleFunc("DELETE "+api.PathPods+"{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, struct{}{}, s.DeletePod(r.Context(), r.PathValue("namespace"), r.PathValue("name")))
	})
	mux.HandleFunc("PUT "+api.PathPods+"{namespace}/{name}/labels", func(w http.ResponseWriter, r *http.Request) {
		var labels map[string]string
		if !decode(w, r, &labels, "labels: expected a JSON object of strings") {
			return
		}
		reply(w, struct{}{}, s.SetLabels(r.Context(), "Pod", r.PathValue("namespace"), r.PathValue("name"), labels))
	})
	mux.HandleFunc("PUT "+api.PathNodes+"{name}/labels", func(w http.ResponseWriter, r *http.Request) {
		var labels map[string]string
		if !decode(w, r, &labels, "labels: expected a JSON object of strings") {
			return
		}
		reply(w, struct{}{}, s.SetLabels(r.Context(), "Node", "", r.PathValue("name"), labels))
	})
	mux.HandleFunc("PUT "+api.PathNamespaces+"{name}/labels", func(w http.ResponseWriter, r *http.Request) {
		var labels map[string]string
		if !decode(w, r, &labels, "labels: expected a JSON object of strings") {
			return
		}
		reply(w, struct{}{}, s.SetLabels(r.Context(), "Namespace", "", r.PathValue("name"), labels))
	})
	mux.HandleFunc("GET "+api.PathObjects, func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.Objects(r.URL.Query().Get("kind"), r.URL.Query().Get("namespace")), nil)
	})
	mux.HandleFunc("POST "+api.PathApply, func(w http.ResponseWriter, r *http.Request) {
		var req api.ApplyRequest
		if !decode(w, r, &req, "apply: expected {objects}") {
			return
		}
		reply(w, s.Apply(r.Context(), req), nil)
	})
	mux.HandleFunc("POST "+api.PathDelete, func(w http.ResponseWriter, r *http.Request) {
		var refs []api.ObjectRef
		if !decode(w, r, &refs, "delete: expected a JSON list of object references") {
			return
		}
		reply(w, s.DeleteObjects(r.Context(), refs), nil)
	})
	mux.HandleFunc("POST "+api.PathScale, func(w http.ResponseWriter, r *http.Request) {
		var req api.ScaleRequest
		if !decode(w, r, &req, "scale: expected {kind, namespace, name, replicas}") {
			return
		}
		res, err := s.Scale(r.Context(), req)
		reply(w, res, err)
	})
	mux.HandleFunc("POST "+api.PathRollout, func(w http.ResponseWriter, r *http.Request) {
		var req api.RolloutRequest
		if !decode(w, r, &req, "rollout: expected {kind, namespace, name, action}") {
			return
		}
		res, err := s.Rollout(r.Context(), req)
		reply(w, res, err)
	})
	return mux
}

func decode(w http.ResponseWriter, r *http.Request, v any, msg string) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(api.Error{Error: msg})
		return false
	}
	return true
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, api.ErrNotFound) || apierrors.IsNotFound(err) {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(api.Error{Error: err.Error()})
		return
	}
	json.NewEncoder(w).Encode(v)
}

// serveEvents streams the lab's events as NDJSON: every past event, then, with
// follow, each new one as it happens.
func (s *Supervisor) serveEvents(w http.ResponseWriter, r *http.Request) {
	past, ch := s.events.subscribe()
	defer s.events.unsubscribe(ch)
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, e := range past {
		if err := enc.Encode(e); err != nil {
			return
		}
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	if r.URL.Query().Get("follow") == "" {
		return
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case e := <-ch:
			if err := enc.Encode(e); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

// ReadyCount says how many of the lab's pods are ready and whether every component
// has programmed every change.
func (s *Supervisor) ReadyCount() api.ReadyCount {
	ready, total := kubelet.Ready(s.store)
	return api.ReadyCount{Ready: ready, Total: total, Settled: s.Settled()}
}

// applied says whether a component of this version acts on objects of kind (the
// data kinds count: being stored is all there is to do), as topology.NotEnforced says.
func applied(kind string) bool { return topology.NotEnforced(kind) == "" }

// Objects lists stored objects of kind (all but Pods and Nodes when empty) in
// namespace (all when empty).
func (s *Supervisor) Objects(kind, namespace string) []*api.StoredObject {
	if kind == "Event" {
		return s.kubeEvents(namespace)
	}
	kinds := []string{kind}
	if kind == "" {
		kinds = nil
		for _, k := range s.store.Kinds() {
			if k != "Pod" && k != "Node" && k != "Namespace" {
				kinds = append(kinds, k)
			}
		}
	} else {
		for _, k := range s.store.Kinds() {
			if strings.EqualFold(k, kind) {
				kinds = []string{k}
			}
		}
	}
	var out []*api.StoredObject
	for _, k := range kinds {
		for _, o := range s.store.List(k, namespace) {
			out = append(out, s.stored(k, o))
		}
	}
	return out
}

// stored is o, of kind k, as the API serves it.
func (s *Supervisor) stored(k string, o store.Object) *api.StoredObject {
	raw, _ := s.store.JSON(o)
	gvk := o.GetObjectKind().GroupVersionKind()
	return &api.StoredObject{APIVersion: gvk.GroupVersion().String(), Kind: k, Namespace: o.GetNamespace(), Name: o.GetName(),
		Applied: applied(k), Created: o.GetCreationTimestamp().Time, Object: raw}
}

// Apply creates or replaces objects, as `kubectl apply` does (the whole object is
// replaced; status is kept), through the API server's admission, and returns once
// every component has programmed them.
func (s *Supervisor) Apply(ctx context.Context, req api.ApplyRequest) []api.ApplyResult {
	var out []api.ApplyResult
	for _, o := range req.Objects {
		r := s.admitAndStore(o)
		if r.Error == "" && r.Action != "unchanged" {
			msg := r.Action
			if ne := topology.NotEnforced(o.Kind); ne != "" && !applied(o.Kind) {
				msg += "; " + ne
			}
			s.events.emit(events.Event{Type: events.ObjectApplied, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Message: msg})
		}
		out = append(out, r)
	}
	s.settle(ctx, s.store.Generation())
	return out
}

// admitAndStore checks one object as the API server would and writes it.
func (s *Supervisor) admitAndStore(o topology.Object) api.ApplyResult {
	r := api.ApplyResult{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
	obj, err := store.Decode(o.APIVersion, o.Kind, o.Raw)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	obj.SetNamespace(o.Namespace)
	// The API server's defaulting, before admission sees the object; a Service's is the
	// registry's (it allocates as it defaults).
	defaults.Object(obj)
	if o.Namespace != "" {
		if _, ok := s.store.Get("Namespace", "", o.Namespace); !ok {
			r.Error = fmt.Sprintf("namespaces %q not found", o.Namespace)
			return r
		}
	}
	switch o.Kind {
	case "Service":
		s.regMu.Lock()
		svc, err := s.reg.Apply(obj.(*corev1.Service), o.Pos)
		s.regMu.Unlock()
		if err != nil {
			r.Error = err.Error()
			return r
		}
		if why := s.reg.PendingReason(svc); why != "" {
			s.events.emit(events.Event{Type: services.AllocationFailed, Kind: "Service", Namespace: o.Namespace, Name: o.Name,
				Message: "Failed to allocate IP for \"" + o.Namespace + "/" + o.Name + "\": " + why})
		}
		obj = svc
	case "EndpointSlice", "Endpoints":
		if err := services.Admit(s.reg, o); err != nil {
			r.Error = err.Error()
			return r
		}
		if sl, ok := obj.(*discoveryv1.EndpointSlice); ok && sl.Labels[discoveryv1.LabelManagedBy] == "" {
			if sl.Labels == nil {
				sl.Labels = map[string]string{}
			}
			sl.Labels[discoveryv1.LabelManagedBy] = "podlab-user"
		}
	case "Namespace":
		// The API server labels every namespace with its name (immutable), so that
		// NetworkPolicy's namespaceSelector can pick it by name; it starts Active.
		ns := obj.(*corev1.Namespace)
		if ns.Labels == nil {
			ns.Labels = map[string]string{}
		}
		ns.Labels[corev1.LabelMetadataName] = ns.Name
		ns.Status.Phase = corev1.NamespaceActive
	case "Ingress":
		if _, exists := s.store.Get("Ingress", o.Namespace, o.Name); !exists {
			s.defaultIngressClass(obj.(*networkingv1.Ingress))
		}
	case "Pod":
		if errs := validation.IsDNS1123Subdomain(o.Name); len(errs) > 0 {
			r.Error = strings.Join(errs, "; ")
			return r
		}
	}
	old, exists := s.store.Get(o.Kind, o.Namespace, o.Name)
	if !exists {
		if _, err := s.store.Create(obj); err != nil {
			r.Error = err.Error()
			return r
		}
		r.Action = "created"
		return r
	}
	if o.Kind == "Pod" {
		if err := podUpdateAllowed(old.(*corev1.Pod), obj.(*corev1.Pod)); err != nil {
			r.Error = err.Error()
			return r
		}
		p := old.(*corev1.Pod).DeepCopy()
		p.Labels, p.Annotations = obj.GetLabels(), obj.GetAnnotations()
		obj = p
	}
	obj.SetResourceVersion("")
	obj.SetUID(old.GetUID())
	n, err := s.store.Update(obj)
	switch {
	case err != nil:
		r.Error = err.Error()
	case n.GetResourceVersion() == old.GetResourceVersion():
		r.Action = "unchanged"
	default:
		r.Action = "configured"
	}
	return r
}

// podUpdateAllowed is the API server's rule for Pod updates: the spec is fixed but
// for images and a few fields. Both sides are compared defaulted, so that a pod stored
// before podlab defaulted (a lab adopted from an older store) takes its manifest again.
func podUpdateAllowed(old, n *corev1.Pod) error {
	op := old.DeepCopy()
	defaults.Pod(op)
	a, b := &op.Spec, n.Spec.DeepCopy()
	b.NodeName = a.NodeName
	if b.RestartPolicy == "" {
		b.RestartPolicy = a.RestartPolicy
	}
	if b.SchedulerName == "" {
		b.SchedulerName = a.SchedulerName
	}
	for i := range a.Containers {
		if i < len(b.Containers) {
			b.Containers[i].Image = a.Containers[i].Image
		}
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		return fmt.Errorf("Pod %q is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), `spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n  hint: delete the pod and apply it again (podlab delete pod %s)", n.Name, n.Name)
	}
	return nil
}

// DeleteObjects deletes objects; owners' dependents follow (the garbage collector), a
// Pod is torn down by its kubelet first.
func (s *Supervisor) DeleteObjects(ctx context.Context, refs []api.ObjectRef) []api.ApplyResult {
	var out []api.ApplyResult
	for _, ref := range refs {
		r := api.ApplyResult{Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name, Action: "deleted"}
		var err error
		switch ref.Kind {
		case "Pod":
			err = s.DeletePod(ctx, ref.Namespace, ref.Name)
		case "Service":
			s.regMu.Lock()
			s.reg.Delete(ref.Namespace, ref.Name)
			s.regMu.Unlock()
			_, err = s.store.Delete(ref.Kind, ref.Namespace, ref.Name)
		case "Namespace":
			err = s.deleteNamespace(ctx, ref.Name)
			if errors.Is(err, errImmortal) {
				r.Action, r.Error = "", err.Error()
				out = append(out, r)
				continue
			}
		default:
			_, err = s.store.Delete(ref.Kind, ref.Namespace, ref.Name)
		}
		if err != nil {
			r.Action = ""
			r.Error = fmt.Sprintf("%s %q not found", strings.ToLower(ref.Kind), ref.Name)
			if !apierrors.IsNotFound(err) && !errors.Is(err, api.ErrNotFound) {
				r.Error = err.Error()
			}
		} else {
			s.events.emit(events.Event{Type: events.ObjectDeleted, Kind: ref.Kind, Namespace: ref.Namespace, Name: ref.Name})
		}
		out = append(out, r)
	}
	s.settle(ctx, s.store.Generation())
	return out
}

var errImmortal = errors.New("this namespace may not be deleted")

// deleteNamespace deletes a namespace as the namespace controller does: every object
// in it first (controllers and Services, then the pods, each torn down as DeletePod
// does), then the namespace itself. default and the kube-* namespaces may not be
// deleted, as the API server refuses.
func (s *Supervisor) deleteNamespace(ctx context.Context, name string) error {
	switch name {
	case "default", "kube-system", "kube-public", "kube-node-lease":
		return fmt.Errorf("namespaces %q is forbidden: %w", name, errImmortal)
	}
	if _, ok := s.store.Get("Namespace", "", name); !ok {
		return fmt.Errorf("namespace %s: %w", name, api.ErrNotFound)
	}
	for _, kind := range s.store.Kinds() {
		if kind == "Pod" || kind == "Namespace" || kind == "Node" {
			continue
		}
		for _, o := range s.store.List(kind, name) {
			if kind == "Service" {
				s.regMu.Lock()
				s.reg.Delete(name, o.GetName())
				s.regMu.Unlock()
			}
			s.store.Delete(kind, name, o.GetName())
		}
	}
	pods := s.store.List("Pod", name)
	errs := make([]error, len(pods))
	var wg sync.WaitGroup
	for i, o := range pods { // torn down together, as the namespace controller does
		wg.Go(func() {
			if err := s.DeletePod(ctx, name, o.GetName()); err != nil && !errors.Is(err, api.ErrNotFound) {
				errs[i] = err
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	_, err := s.store.Delete("Namespace", "", name)
	return err
}

// DeletePod deletes a pod as the API server and kubelet do: it is marked terminating
// (its endpoints leave), kubelet tears its sandbox down, then the object goes; it
// returns once the pod is gone, as kubectl delete waits.
func (s *Supervisor) DeletePod(ctx context.Context, namespace, name string) error {
	o, err := s.store.MarkDeleted("Pod", namespace, name)
	if err != nil {
		return fmt.Errorf("pod %s/%s: %w", namespace, name, api.ErrNotFound)
	}
	uid := o.GetUID()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for gen := s.store.Generation(); ; {
		cur, ok := s.store.Get("Pod", namespace, name)
		if !ok || cur.GetUID() != uid {
			break
		}
		if cur.(*corev1.Pod).Spec.NodeName == "" { // never scheduled: nothing to tear down
			s.store.Delete("Pod", namespace, name)
			break
		}
		if gen, err = s.store.Wait(ctx, gen); err != nil {
			return fmt.Errorf("pod %s/%s: still terminating: %w", namespace, name, err)
		}
	}
	s.settle(ctx, s.store.Generation())
	return nil
}

// SetLabels replaces the labels of a pod or node.
func (s *Supervisor) SetLabels(ctx context.Context, kind, namespace, name string, labels map[string]string) error {
	o, ok := s.store.Get(kind, namespace, name)
	if !ok {
		return fmt.Errorf("%s %s: %w", strings.ToLower(kind), strings.TrimPrefix(namespace+"/"+name, "/"), api.ErrNotFound)
	}
	n := o.DeepCopyObject().(store.Object)
	if kind == "Namespace" { // the API server keeps this label, whatever the request says
		labels[corev1.LabelMetadataName] = name
	}
	n.SetLabels(labels)
	if _, err := s.store.Update(n); err != nil {
		return err
	}
	typ := events.PodLabelsChanged
	if kind != "Pod" {
		typ = kind + "LabelsChanged"
	}
	s.events.emit(events.Event{Type: typ, Kind: kind, Namespace: namespace, Name: name, Message: labelString(labels)})
	s.settle(ctx, s.store.Generation())
	return nil
}

func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + l[k])
	}
	return b.String()
}

// defaultIngressClass is the DefaultIngressClass admission plugin: a new Ingress
// without a class (and without the deprecated annotation) gets the IngressClass
// marked ingressclass.kubernetes.io/is-default-class, the newest when several are.
func (s *Supervisor) defaultIngressClass(ing *networkingv1.Ingress) {
	if ing.Spec.IngressClassName != nil || ing.Annotations["kubernetes.io/ingress.class"] != "" {
		return
	}
	var best *networkingv1.IngressClass
	for _, o := range s.store.List("IngressClass", "") {
		ic := o.(*networkingv1.IngressClass)
		if ic.Annotations[networkingv1.AnnotationIsDefaultIngressClass] != "true" {
			continue
		}
		if best == nil || best.CreationTimestamp.Before(&ic.CreationTimestamp) {
			best = ic
		}
	}
	if best != nil {
		name := best.Name
		ing.Spec.IngressClassName = &name
	}
}
