// Package kubeapi is a thin Kubernetes API over a lab's object store, so that the
// real kubectl (and client-go) work against a lab as against a cluster: version and
// discovery (aggregated v2 too), OpenAPI v3, the resources of the kinds a lab has
// (get, list, watch, create, update, patch, delete), Tables for `kubectl get`, the
// status and scale subresources, pods/log, and errors as the API server's
// metav1.Status.
//
// It owns the HTTP protocol only: what a write means (admission, the Service
// registry, a Pod's teardown by its kubelet) is the Backend's, which package cluster
// implements over the supervisor. Patches are package patch's; exec, attach and
// port-forward are handlers the Backend provides (package stream). It never writes
// the store itself.
package kubeapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"podlab.dev/podlab/cluster/store"
)

// Backend is what the API needs of a lab. Writes go through it so that they are
// admitted as every other write to the lab; errors it returns that are API errors
// (k8s.io/apimachinery/pkg/api/errors) are answered as they are.
type Backend interface {
	// Objects reads the store: objects, the generation, the change log for watches.
	Objects() store.Reader
	// Create admits and stores a new object; with dryRun, it only checks it.
	Create(ctx context.Context, o store.Object, dryRun bool) (store.Object, error)
	// Update admits and replaces an object; a resourceVersion in o must be the
	// stored one (a Conflict otherwise).
	Update(ctx context.Context, o store.Object, dryRun bool) (store.Object, error)
	// UpdateStatus replaces an object's status only.
	UpdateStatus(ctx context.Context, o store.Object) (store.Object, error)
	// Delete deletes an object (a Pod through its kubelet) and returns it as it was
	// last; dependents follow as opts.PropagationPolicy says.
	Delete(ctx context.Context, kind, namespace, name string, opts metav1.DeleteOptions) (store.Object, error)
	// Events are the lab's events as core/v1 Events, in namespace (all when empty).
	Events(namespace string) []*corev1.Event
	// PodLogs writes a pod's log, as kubectl logs prints it, until it ends or, with
	// opts.Follow, until ctx ends.
	PodLogs(ctx context.Context, w io.Writer, namespace, name string, opts *corev1.PodLogOptions) error
	// PodStream is the handler of a pod's exec, attach or portforward request.
	PodStream(subresource, namespace, name string) (http.Handler, error)
}

// Options tune the handler.
type Options struct {
	// Now is the clock of the Tables' ages; time.Now when nil.
	Now func() time.Time
}

type handler struct {
	b   Backend
	now func() time.Time
}

// New returns the API's handler.
func New(b Backend, o Options) http.Handler {
	h := &handler{b: b, now: o.Now}
	if h.now == nil {
		h.now = time.Now
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/version" || p == "/version/":
		serveVersion(w, r)
	case p == "/healthz" || p == "/livez" || p == "/readyz":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok")
	case p == "/api" || p == "/api/":
		serveAPI(w, r)
	case p == "/apis" || p == "/apis/":
		serveAPIs(w, r)
	case p == "/openapi/v3" || p == "/openapi/v3/":
		serveOpenAPIIndex(w, r)
	case strings.HasPrefix(p, "/openapi/v3/"):
		serveOpenAPI(w, r, strings.TrimPrefix(p, "/openapi/v3/"))
	case strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/apis/"):
		h.serveResource(w, r)
	default:
		writeError(w, notFoundResource())
	}
}

// request is a resource request, parsed from its path.
type request struct {
	res       *resource
	namespace string
	name      string
	sub       string
	watch     bool // the /watch/ path
}

// parse reads /api/v1/... or /apis/G/V/...: the group version, then [watch/],
// [namespaces/NS/], RESOURCE, [NAME, [SUB]]. done is true when it answered the
// request itself (a group's or version's discovery, or an error).
func (h *handler) parse(w http.ResponseWriter, r *http.Request) (req request, done bool) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var gv schema.GroupVersion
	switch {
	case segs[0] == "api" && len(segs) >= 2:
		gv, segs = schema.GroupVersion{Version: segs[1]}, segs[2:]
	case segs[0] == "apis" && len(segs) == 2:
		for _, g := range groups() {
			if g == segs[1] {
				ag := apiGroup(g)
				ag.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
				writeJSON(w, http.StatusOK, &ag)
				return req, true
			}
		}
		writeError(w, notFoundResource())
		return req, true
	case segs[0] == "apis" && len(segs) >= 3:
		gv, segs = schema.GroupVersion{Group: segs[1], Version: segs[2]}, segs[3:]
	default:
		writeError(w, notFoundResource())
		return req, true
	}
	if len(segs) == 0 {
		list, ok := resourceList(gv)
		if !ok {
			writeError(w, notFoundResource())
			return req, true
		}
		writeJSON(w, http.StatusOK, list)
		return req, true
	}
	if segs[0] == "watch" {
		req.watch, segs = true, segs[1:]
	}
	// namespaces/NS/RESOURCE...: the resource is namespaced; namespaces/NS[/SUB] is
	// the Namespace itself.
	if len(segs) >= 3 && segs[0] == "namespaces" {
		if _, isSub := lookupSub(gv, "namespaces", segs[2]); !isSub || len(segs) > 3 {
			req.namespace, segs = segs[1], segs[2:]
		}
	}
	res, ok := lookup(gv, segs[0])
	if !ok || len(segs) > 3 {
		writeError(w, notFoundResource())
		return req, true
	}
	req.res = res
	if len(segs) > 1 {
		req.name = segs[1]
	}
	if len(segs) > 2 {
		req.sub = segs[2]
		if !res.has(req.sub) {
			writeError(w, notFoundResource())
			return req, true
		}
	}
	if req.namespace != "" && !res.namespaced {
		writeError(w, notFoundResource())
		return req, true
	}
	return req, false
}

// lookupSub says whether sub is a subresource of plural in gv.
func lookupSub(gv schema.GroupVersion, plural, sub string) (*resource, bool) {
	res, ok := lookup(gv, plural)
	if !ok || !res.has(sub) {
		return nil, false
	}
	return res, true
}

func (h *handler) serveResource(w http.ResponseWriter, r *http.Request) {
	req, done := h.parse(w, r)
	if done {
		return
	}
	q := r.URL.Query()
	watching := req.watch || q.Get("watch") == "true" || q.Get("watch") == "1"
	switch {
	case req.res.review:
		h.serveReview(w, r, req)
	case req.res.readOnly && r.Method != http.MethodGet:
		writeError(w, methodNotSupported(req.res, strings.ToLower(r.Method)))
	case req.sub != "":
		h.serveSubresource(w, r, req)
	case r.Method == http.MethodGet && watching:
		h.serveWatch(w, r, req)
	case r.Method == http.MethodGet && req.name == "":
		h.serveList(w, r, req)
	case r.Method == http.MethodGet:
		h.serveGet(w, r, req)
	case r.Method == http.MethodPost && req.name == "":
		h.serveCreate(w, r, req)
	case r.Method == http.MethodPut && req.name != "":
		h.serveUpdate(w, r, req)
	case r.Method == http.MethodPatch && req.name != "":
		h.servePatch(w, r, req)
	case r.Method == http.MethodDelete && req.name != "":
		h.serveDelete(w, r, req)
	case r.Method == http.MethodDelete:
		h.serveDeleteCollection(w, r, req)
	default:
		writeError(w, methodNotSupported(req.res, strings.ToLower(r.Method)))
	}
}
