package kubeapi

import (
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"podlab.dev/podlab/cluster/kubeapi/patch"
	"podlab.dev/podlab/cluster/store"
)

// scaleScheme knows the Scale, for patches of the scale subresource.
var scaleScheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := autoscalingv1.AddToScheme(s); err != nil {
		panic(err) // compiled-in types: a failure is a bug
	}
	return s
})

// patched is cur with the request's patch applied (package patch: strategic merge,
// JSON merge, JSON patch, server-side apply).
func (h *handler) patched(w http.ResponseWriter, r *http.Request, req request, cur runtime.Object) (runtime.Object, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, unsupportedMediaType(r.Header.Get("Content-Type"))
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	o := patchOptions(w, r, req)
	if req.res.kind == "Scale" {
		o.Scheme = scaleScheme()
	}
	if cur != nil {
		cur = served(req, cur)
	}
	return patch.Apply(cur, types.PatchType(mt), body, o)
}

// patchOptions are package patch's options for the request: who writes, how strictly
// (fieldValidation: Warn when not given, as the API server; warnings become Warning
// headers).
func patchOptions(w http.ResponseWriter, r *http.Request, req request) patch.Options {
	q := r.URL.Query()
	v := q.Get("fieldValidation")
	if v == "" {
		v = metav1.FieldValidationWarn
	}
	return patch.Options{FieldManager: patch.Manager(q.Get("fieldManager"), r.UserAgent()), Force: q.Get("force") == "true",
		Scheme: store.Scheme(), GVK: req.res.gv.WithKind(req.res.kind), Resource: req.res.plural, Namespace: req.namespace,
		Name: req.name, Subresource: req.sub, FieldValidation: v,
		Warn: func(msg string) { w.Header().Add("Warning", "299 - "+strconv.Quote(msg)) }}
}

// managed is o with its managedFields recording the request's field manager's
// write over old (nil for a create), as the API server keeps them for a POST or PUT.
func managed(w http.ResponseWriter, r *http.Request, req request, old, o store.Object) store.Object {
	var prev runtime.Object
	if old != nil {
		prev = served(req, old)
	}
	n, err := patch.RecordUpdate(prev, o, patchOptions(w, r, req))
	if err != nil {
		return o // the API server never fails a write over its bookkeeping
	}
	if so, ok := n.(store.Object); ok {
		return so
	}
	return o
}

func (h *handler) servePatch(w http.ResponseWriter, r *http.Request, req request) {
	dry, err := dryRun(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var cur runtime.Object
	if o, err := h.get(req); err == nil {
		cur = o
	}
	p, err := h.patched(w, r, req, cur)
	if err != nil {
		writeError(w, err)
		return
	}
	o, ok := p.(store.Object)
	if !ok {
		writeError(w, badRequest("the patch does not make a %s", req.res.kind))
		return
	}
	if err := checkNamespace(req, o); err != nil {
		writeError(w, err)
		return
	}
	// The patch applies to the version read: a write in between is a conflict only
	// when the patch named a resourceVersion, as the API server retries otherwise.
	// No current object: server-side apply creates it.
	if cur != nil && (strings.Contains(r.Header.Get("Content-Type"), "apply-patch") || o.GetResourceVersion() == cur.(store.Object).GetResourceVersion()) {
		o.SetResourceVersion("")
	}
	h.update(w, r, req, o, dry)
}
