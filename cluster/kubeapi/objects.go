package kubeapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab.dev/podlab/cluster/store"
)

// list returns req's objects in namespace (all when empty): the store's, or the
// Backend's Events.
func (h *handler) list(req request) []store.Object {
	if req.res.kind == "Event" {
		var out []store.Object
		for _, e := range h.b.Events(req.namespace) {
			out = append(out, e)
		}
		return out
	}
	return h.b.Objects().List(req.res.kind, req.namespace)
}

// get returns req's object, or `pods "x" not found`.
func (h *handler) get(req request) (store.Object, error) {
	if req.res.kind == "Event" {
		for _, e := range h.b.Events(req.namespace) {
			if e.Name == req.name {
				return e, nil
			}
		}
		return nil, notFound(req.res, req.name)
	}
	o, ok := h.b.Objects().Get(req.res.kind, req.namespace, req.name)
	if !ok {
		return nil, notFound(req.res, req.name)
	}
	return o, nil
}

// served is o as req's group version serves it: a Gateway API object asked for as
// v1beta1 is the stored v1 object under v1beta1's apiVersion (the same schema).
func served(req request, o runtime.Object) runtime.Object {
	want := req.res.gv.WithKind(req.res.kind)
	if o.GetObjectKind().GroupVersionKind() == want {
		return o
	}
	o = o.DeepCopyObject()
	o.GetObjectKind().SetGroupVersionKind(want)
	return o
}

func (h *handler) serveGet(w http.ResponseWriter, r *http.Request, req request) {
	o, err := h.get(req)
	if err != nil {
		writeError(w, err)
		return
	}
	h.writeObject(w, r, req, http.StatusOK, o)
}

// writeObject answers one object, as a Table when asked for one.
func (h *handler) writeObject(w http.ResponseWriter, r *http.Request, req request, code int, o runtime.Object) {
	if wantsTable(r) {
		t, err := h.table(r, req, []store.Object{o.(store.Object)}, o.(metav1.Object).GetResourceVersion())
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, code, t)
		return
	}
	writeJSON(w, code, served(req, o))
}

func (h *handler) serveList(w http.ResponseWriter, r *http.Request, req request) {
	sel, err := parseSelectors(r, req.res)
	if err != nil {
		writeError(w, err)
		return
	}
	rv := strconv.FormatUint(h.b.Objects().Generation(), 10)
	var objs []store.Object
	for _, o := range h.list(req) {
		if sel.matches(o) {
			objs = append(objs, o)
		}
	}
	if wantsTable(r) {
		t, err := h.table(r, req, objs, rv)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, t)
		return
	}
	// The items are the store's own encodings where it has them: a list of a large
	// lab is not marshalled again object by object.
	items := make([]json.RawMessage, 0, len(objs))
	for _, o := range objs {
		raw, err := h.encode(req, o)
		if err != nil {
			writeError(w, err)
			return
		}
		items = append(items, raw)
	}
	writeList(w, req, rv, items)
}

// encode is o as JSON in req's group version.
func (h *handler) encode(req request, o store.Object) (json.RawMessage, error) {
	if s, ok := h.b.Objects().(interface {
		JSON(store.Object) ([]byte, error)
	}); ok && o.GetObjectKind().GroupVersionKind().GroupVersion() == req.res.gv {
		return s.JSON(o)
	}
	return json.Marshal(served(req, o))
}

// readObject reads the object of a create or update (verb) and its dryRun.
func readObject(w http.ResponseWriter, r *http.Request, req request, verb string) (store.Object, bool, error) {
	dry, err := dryRun(r)
	if err != nil {
		return nil, false, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, false, err
	}
	o, err := decodeObject(w, r, req, body)
	if err != nil {
		return nil, false, err
	}
	if err := checkNamespace(req, o); err != nil {
		return nil, false, err
	}
	if verb == "update" && o.GetName() != req.name {
		return nil, false, badRequest("the name of the object (%s) does not match the name on the URL (%s)", o.GetName(), req.name)
	}
	return o, dry, nil
}

func (h *handler) serveCreate(w http.ResponseWriter, r *http.Request, req request) {
	o, dry, err := readObject(w, r, req, "create")
	if err == nil {
		o, err = h.b.Create(r.Context(), managed(w, r, req, nil, o), dry)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	h.writeObject(w, r, req, http.StatusCreated, o)
}

func (h *handler) serveUpdate(w http.ResponseWriter, r *http.Request, req request) {
	o, dry, err := readObject(w, r, req, "update")
	if err != nil {
		writeError(w, err)
		return
	}
	cur, err := h.get(req) // PUT replaces: a missing object is NotFound, as for the kinds an API server serves
	if err != nil {
		writeError(w, err)
		return
	}
	h.update(w, r, req, managed(w, r, req, cur, o), dry)
}

// update stores o, an update of an existing object or, for a server-side apply, a
// new one.
func (h *handler) update(w http.ResponseWriter, r *http.Request, req request, o store.Object, dry bool) {
	if _, err := h.get(req); err != nil {
		n, err := h.b.Create(r.Context(), o, dry)
		if err != nil {
			writeError(w, err)
			return
		}
		h.writeObject(w, r, req, http.StatusCreated, n)
		return
	}
	n, err := h.b.Update(r.Context(), o, dry)
	if err != nil {
		writeError(w, err)
		return
	}
	h.writeObject(w, r, req, http.StatusOK, n)
}

// deleteOptions reads a DELETE's options from its body and query.
func deleteOptions(r *http.Request) (metav1.DeleteOptions, error) {
	var opts metav1.DeleteOptions
	opts.SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("DeleteOptions"))
	if err := decodeInto(r, &opts); err != nil {
		return opts, err
	}
	q := r.URL.Query()
	if p := q.Get("propagationPolicy"); p != "" {
		pp := metav1.DeletionPropagation(p)
		opts.PropagationPolicy = &pp
	}
	if g := q.Get("gracePeriodSeconds"); g != "" {
		n, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return opts, badRequest("gracePeriodSeconds: %v", err)
		}
		opts.GracePeriodSeconds = &n
	}
	if dr := q["dryRun"]; len(dr) > 0 {
		opts.DryRun = dr
	}
	if p := opts.PropagationPolicy; p != nil {
		switch *p {
		case metav1.DeletePropagationOrphan, metav1.DeletePropagationBackground, metav1.DeletePropagationForeground:
		default:
			return opts, badRequest("propagationPolicy: Unsupported value: %q", *p)
		}
	}
	return opts, nil
}

func (h *handler) serveDelete(w http.ResponseWriter, r *http.Request, req request) {
	opts, err := deleteOptions(r)
	if err != nil {
		writeError(w, err)
		return
	}
	o, err := h.get(req)
	if err != nil {
		writeError(w, err)
		return
	}
	if len(opts.DryRun) > 0 {
		h.writeObject(w, r, req, http.StatusOK, o)
		return
	}
	last, err := h.b.Delete(r.Context(), req.res.kind, req.namespace, req.name, opts)
	if err != nil {
		writeError(w, err)
		return
	}
	// A Pod is answered as the API server does a graceful deletion: the object,
	// marked. Other kinds go at once: a Status Success naming what went.
	if req.res.kind == "Pod" {
		h.writeObject(w, r, req, http.StatusOK, last)
		return
	}
	writeJSON(w, http.StatusOK, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess,
		Details: &metav1.StatusDetails{Name: req.name, Group: req.res.gv.Group, Kind: req.res.plural, UID: last.GetUID()}})
}

func (h *handler) serveDeleteCollection(w http.ResponseWriter, r *http.Request, req request) {
	sel, err := parseSelectors(r, req.res)
	if err != nil {
		writeError(w, err)
		return
	}
	opts, err := deleteOptions(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var items []json.RawMessage
	for _, o := range h.list(req) {
		if !sel.matches(o) {
			continue
		}
		if len(opts.DryRun) == 0 {
			if _, err := h.b.Delete(r.Context(), req.res.kind, o.GetNamespace(), o.GetName(), opts); err != nil {
				writeError(w, err)
				return
			}
		}
		raw, _ := json.Marshal(served(req, o))
		items = append(items, raw)
	}
	writeList(w, req, strconv.FormatUint(h.b.Objects().Generation(), 10), items)
}

// writeList answers a KIND List of items (JSON already).
func writeList(w http.ResponseWriter, req request, rv string, items []json.RawMessage) {
	if items == nil {
		items = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, struct {
		Kind       string            `json:"kind"`
		APIVersion string            `json:"apiVersion"`
		Metadata   metav1.ListMeta   `json:"metadata"`
		Items      []json.RawMessage `json:"items"`
	}{req.res.kind + "List", req.res.gv.String(), metav1.ListMeta{ResourceVersion: rv}, items})
}
