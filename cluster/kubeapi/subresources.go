package kubeapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"podlab.dev/podlab/cluster/store"
)

func (h *handler) serveSubresource(w http.ResponseWriter, r *http.Request, req request) {
	if req.name == "" {
		writeError(w, notFoundResource())
		return
	}
	switch req.sub {
	case "log":
		if r.Method != http.MethodGet {
			writeError(w, methodNotSupported(req.res, strings.ToLower(r.Method)))
			return
		}
		h.serveLog(w, r, req)
	case "exec", "attach", "portforward":
		if _, err := h.get(req); err != nil {
			writeError(w, err)
			return
		}
		s, err := h.b.PodStream(req.sub, req.namespace, req.name)
		if err != nil {
			writeError(w, err)
			return
		}
		s.ServeHTTP(w, r)
	case "eviction":
		h.serveEviction(w, r, req)
	case "status":
		h.serveStatus(w, r, req)
	case "scale":
		h.serveScale(w, r, req)
	default:
		writeError(w, notFoundResource())
	}
}

// serveStatus is the status subresource: GET is the object, PUT and PATCH change its
// status only.
func (h *handler) serveStatus(w http.ResponseWriter, r *http.Request, req request) {
	cur, err := h.get(req)
	if err != nil {
		writeError(w, err)
		return
	}
	var n store.Object
	switch r.Method {
	case http.MethodGet:
		h.writeObject(w, r, req, http.StatusOK, cur)
		return
	case http.MethodPut:
		req.name = cur.GetName()
		if n, _, err = readObject(w, r, req, "update"); err != nil {
			writeError(w, err)
			return
		}
	case http.MethodPatch:
		p, err := h.patched(w, r, req, cur)
		if err != nil {
			writeError(w, err)
			return
		}
		var ok bool
		if n, ok = p.(store.Object); !ok {
			writeError(w, badRequest("the patch does not make a %s", req.res.kind))
			return
		}
	default:
		writeError(w, methodNotSupported(req.res, strings.ToLower(r.Method)))
		return
	}
	n.SetNamespace(req.namespace)
	n.SetName(req.name)
	out, err := h.b.UpdateStatus(r.Context(), n)
	if err != nil {
		writeError(w, err)
		return
	}
	h.writeObject(w, r, req, http.StatusOK, out)
}

// scaleOf is the autoscaling/v1 Scale of a Deployment, ReplicaSet or StatefulSet.
func scaleOf(o store.Object) (*autoscalingv1.Scale, error) {
	s := &autoscalingv1.Scale{TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: o.GetName(), Namespace: o.GetNamespace(), UID: o.GetUID(),
			ResourceVersion: o.GetResourceVersion(), CreationTimestamp: o.GetCreationTimestamp()}}
	var sel *metav1.LabelSelector
	switch t := o.(type) {
	case *appsv1.Deployment:
		s.Spec.Replicas, s.Status.Replicas, sel = replicas(t.Spec.Replicas), t.Status.Replicas, t.Spec.Selector
	case *appsv1.ReplicaSet:
		s.Spec.Replicas, s.Status.Replicas, sel = replicas(t.Spec.Replicas), t.Status.Replicas, t.Spec.Selector
	case *appsv1.StatefulSet:
		s.Spec.Replicas, s.Status.Replicas, sel = replicas(t.Spec.Replicas), t.Status.Replicas, t.Spec.Selector
	default:
		return nil, apierrors.NewBadRequest(store.KindOf(o) + " has no scale subresource")
	}
	if ls, err := metav1.LabelSelectorAsSelector(sel); err == nil {
		s.Status.Selector = ls.String()
	}
	return s, nil
}

// replicas is spec.replicas as the API server defaults it.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

// withReplicas is o with spec.replicas n.
func withReplicas(o store.Object, n int32) store.Object {
	o = o.DeepCopyObject().(store.Object)
	switch t := o.(type) {
	case *appsv1.Deployment:
		t.Spec.Replicas = &n
	case *appsv1.ReplicaSet:
		t.Spec.Replicas = &n
	case *appsv1.StatefulSet:
		t.Spec.Replicas = &n
	}
	return o
}

// serveScale is the scale subresource (kubectl scale): GET the Scale, PUT or PATCH a
// new spec.replicas, written as an update of the object.
func (h *handler) serveScale(w http.ResponseWriter, r *http.Request, req request) {
	cur, err := h.get(req)
	if err != nil {
		writeError(w, err)
		return
	}
	s, err := scaleOf(cur)
	if err != nil {
		writeError(w, err)
		return
	}
	scaleReq := req
	scaleReq.res = &resource{gv: autoscalingV1, kind: "Scale", plural: req.res.plural, namespaced: true}
	var n *autoscalingv1.Scale
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s)
		return
	case http.MethodPut:
		n = &autoscalingv1.Scale{TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"}}
		if err := decodeInto(r, n); err != nil {
			writeError(w, err)
			return
		}
	case http.MethodPatch:
		o, err := h.patched(w, r, scaleReq, s)
		if err != nil {
			writeError(w, err)
			return
		}
		if n, _ = o.(*autoscalingv1.Scale); n == nil {
			writeError(w, badRequest("the patch does not make a Scale"))
			return
		}
	default:
		writeError(w, methodNotSupported(req.res, strings.ToLower(r.Method)))
		return
	}
	if rv := n.ResourceVersion; rv != "" && rv != cur.GetResourceVersion() {
		writeError(w, apierrors.NewConflict(schema.GroupResource{Group: req.res.gv.Group, Resource: req.res.plural}, req.name,
			errString("the object has been modified; please apply your changes to the latest version and try again")))
		return
	}
	if n.Spec.Replicas < 0 {
		writeError(w, apierrors.NewInvalid(schema.GroupKind{Group: "autoscaling", Kind: "Scale"}, req.name, nil))
		return
	}
	dry, err := dryRun(r)
	if err != nil {
		writeError(w, err)
		return
	}
	o := withReplicas(cur, n.Spec.Replicas)
	o.SetResourceVersion("")
	updated, err := h.b.Update(r.Context(), o, dry)
	if err != nil {
		writeError(w, err)
		return
	}
	out, _ := scaleOf(updated)
	writeJSON(w, http.StatusOK, out)
}

type errString string

func (e errString) Error() string { return string(e) }

// serveLog is pods/log: the pod's log as text, as kubectl logs prints it.
func (h *handler) serveLog(w http.ResponseWriter, r *http.Request, req request) {
	o, err := h.get(req)
	if err != nil {
		writeError(w, err)
		return
	}
	pod := o.(*corev1.Pod)
	q := r.URL.Query()
	opts := &corev1.PodLogOptions{Container: q.Get("container"), Follow: q.Get("follow") == "true",
		Timestamps: q.Get("timestamps") == "true", Previous: q.Get("previous") == "true"}
	for _, p := range []struct {
		name string
		into **int64
	}{{"tailLines", &opts.TailLines}, {"sinceSeconds", &opts.SinceSeconds}, {"limitBytes", &opts.LimitBytes}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				writeError(w, badRequest("%s: Invalid value: %q: must be a non-negative number", p.name, v))
				return
			}
			*p.into = &n
		}
	}
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeError(w, badRequest("sinceTime: Invalid value: %q: expected an RFC 3339 time", v))
			return
		}
		mt := metav1.NewTime(t)
		opts.SinceTime = &mt
	}
	if opts.Container == "" && len(pod.Spec.Containers) > 1 {
		var names []string
		for _, c := range pod.Spec.Containers {
			names = append(names, c.Name)
		}
		writeError(w, badRequest("a container name must be specified for pod %s, choose one of: [%s]", req.name, strings.Join(names, " ")))
		return
	}
	if opts.Container != "" && !hasContainer(pod, opts.Container) {
		writeError(w, badRequest("container %s is not valid for pod %s", opts.Container, req.name))
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fw := &flushWriter{w: w}
	if err := h.b.PodLogs(r.Context(), fw, req.namespace, req.name, opts); err != nil && !fw.written {
		writeError(w, err)
	}
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, c := range pod.Spec.Containers {
		if c.Name == name {
			return true
		}
	}
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return true
		}
	}
	return false
}

// flushWriter flushes every write, so that a followed log reaches kubectl line by line.
type flushWriter struct {
	w       http.ResponseWriter
	written bool
}

func (f *flushWriter) Write(p []byte) (int, error) {
	f.written = true
	n, err := f.w.Write(p)
	if fl, ok := f.w.(http.Flusher); ok {
		fl.Flush()
	}
	return n, err
}

// serveEviction is pods/eviction (kubectl drain): the pod is deleted as DELETE does;
// a lab has no PodDisruptionBudgets to refuse it.
func (h *handler) serveEviction(w http.ResponseWriter, r *http.Request, req request) {
	if r.Method != http.MethodPost {
		writeError(w, methodNotSupported(req.res, strings.ToLower(r.Method)))
		return
	}
	if _, err := h.get(req); err != nil {
		writeError(w, err)
		return
	}
	if _, err := h.b.Delete(r.Context(), req.res.kind, req.namespace, req.name, metav1.DeleteOptions{}); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess})
}
