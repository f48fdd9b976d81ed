package kubeapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"podlab.dev/podlab/cluster/store"
)

// watchEvent is one event of a watch stream, as the API server writes it.
type watchEvent struct {
	Type   watch.EventType `json:"type"`
	Object any             `json:"object"`
}

// bookmarkEvery is how often a watch that allows bookmarks gets one.
const bookmarkEvery = 10 * time.Second

// serveWatch streams the changes of req's objects as watch events: from the
// request's resourceVersion (the current objects first as ADDED when it is "" or "0",
// or with sendInitialEvents), until timeoutSeconds or the client leaves. The store's
// change log answers; a version older than the log reaches is 410 Gone, as etcd's
// compaction makes an API server answer, and the client lists again.
func (h *handler) serveWatch(w http.ResponseWriter, r *http.Request, req request) {
	sel, err := parseSelectors(r, req.res)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	ctx := r.Context()
	timeout := 30 * time.Minute
	if t := q.Get("timeoutSeconds"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			writeError(w, badRequest("timeoutSeconds: expected a number of seconds, got %q", t))
			return
		}
		if n > 0 {
			timeout = time.Duration(n) * time.Second
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if req.name != "" { // GET .../pods/NAME?watch=1 is a watch of one object
		sel.fields = andName(sel.fields, req.name)
	}
	objs := h.b.Objects()
	rv := q.Get("resourceVersion")
	initial := rv == "" || rv == "0" || q.Get("sendInitialEvents") == "true"
	var since uint64
	if !initial || rv != "" && rv != "0" {
		n, err := strconv.ParseUint(rv, 10, 64)
		if err != nil {
			writeError(w, badRequest("resourceVersion: invalid value %q", rv))
			return
		}
		since = n
	}
	table := wantsTable(r)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil { // the client waits for the headers before it reads events
		flusher.Flush()
	}
	enc := json.NewEncoder(w)
	send := func(typ watch.EventType, o store.Object) bool {
		var out any = served(req, o)
		if table {
			t, err := h.table(r, req, []store.Object{o}, o.GetResourceVersion())
			if err != nil {
				return false
			}
			out = t
		}
		if enc.Encode(watchEvent{typ, out}) != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	if req.res.kind == "Event" {
		h.watchEvents(ctx, req, sel, initial, send)
		return
	}
	// sent are the objects the client has been told of and not told gone: an object
	// that comes to match the selector is ADDED, one that stops matching DELETED, as
	// the API server's watch cache does. A watch from a version starts with the
	// objects that match now.
	sent := map[store.Key]bool{}
	if initial {
		gen := objs.Generation()
		if since == 0 || since > gen {
			since = gen
		}
	}
	for _, o := range h.list(req) {
		if !sel.matches(o) {
			continue
		}
		sent[store.KeyOf(o)] = true
		if initial && !send(watch.Added, o) {
			return
		}
	}
	if initial {
		if q.Get("sendInitialEvents") == "true" && !bookmark(enc, flusher, req, since, true) {
			return
		}
	}
	bookmarks := q.Get("allowWatchBookmarks") == "true"
	tick := time.NewTicker(bookmarkEvery)
	defer tick.Stop()
	wake := make(chan uint64)
	go func() { // Wait, as a channel the loop can select on with the bookmarks' ticker
		defer close(wake)
		for gen := since; ; {
			n, err := objs.Wait(ctx, gen)
			if err != nil {
				return
			}
			select {
			case wake <- n:
			case <-ctx.Done():
				return
			}
			gen = n
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if bookmarks && !bookmark(enc, flusher, req, since, false) {
				return
			}
		case gen, ok := <-wake:
			if !ok {
				return
			}
			changes, ok := objs.Changes(since)
			if !ok {
				st := statusOf(apierrors.NewResourceExpired("too old resource version: " + strconv.FormatUint(since, 10)))
				enc.Encode(watchEvent{watch.Error, st})
				return
			}
			for _, c := range changes {
				if c.Version > gen {
					break
				}
				since = c.Version
				if c.Key.Kind != req.res.kind || req.namespace != "" && c.Key.Namespace != req.namespace {
					continue
				}
				typ, o := transition(sent, c, sel)
				if typ == "" {
					continue
				}
				if !send(typ, o) {
					return
				}
			}
			since = gen
		}
	}
}

// bookmark sends a BOOKMARK at version rv; initialEnd marks the end of the initial
// events of a sendInitialEvents watch (client-go's WatchList).
func bookmark(enc *json.Encoder, flusher http.Flusher, req request, rv uint64, initialEnd bool) bool {
	u := map[string]any{"apiVersion": req.res.gv.String(), "kind": req.res.kind,
		"metadata": map[string]any{"resourceVersion": strconv.FormatUint(rv, 10)}}
	if initialEnd {
		u["metadata"].(map[string]any)["annotations"] = map[string]string{metav1.InitialEventsAnnotationKey: "true"}
	}
	if enc.Encode(watchEvent{watch.Bookmark, u}) != nil {
		return false
	}
	if flusher != nil {
		flusher.Flush()
	}
	return true
}

// watchEvents watches the Backend's Events, which are not in the store: each one
// new since the last look, every second.
func (h *handler) watchEvents(ctx context.Context, req request, sel selector, initial bool, send func(watch.EventType, store.Object) bool) {
	seen := map[string]bool{}
	first := true
	for {
		for _, e := range h.b.Events(req.namespace) {
			if seen[e.Name] {
				continue
			}
			seen[e.Name] = true
			if (initial || !first) && sel.matches(e) && !send(watch.Added, e) {
				return
			}
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// transition is what a watcher that was sent the objects in sent learns of change c:
// the event type ("" for none) and the object.
func transition(sent map[store.Key]bool, c store.Change, sel selector) (watch.EventType, store.Object) {
	was, matches := sent[c.Key], sel.matches(c.Object)
	switch {
	case c.Type == "DELETED" && (was || matches):
		delete(sent, c.Key)
		// The deleted object at the version of its deletion, as etcd's watch reports it.
		d := c.Object.DeepCopyObject().(store.Object)
		d.SetResourceVersion(strconv.FormatUint(c.Version, 10))
		return watch.Deleted, d
	case c.Type == "DELETED":
		return "", nil
	case matches && was:
		return watch.Modified, c.Object
	case matches:
		sent[c.Key] = true
		return watch.Added, c.Object
	case was:
		delete(sent, c.Key)
		return watch.Deleted, c.Object
	}
	return "", nil
}
