package cluster

import (
	"encoding/json"
	"net/http"
	"strconv"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
)

// serveWatch streams one kind's objects, then each change to them, from the store's
// change log (api.PathWatch). A watcher that falls behind the log lists again and
// sends the difference, as a Kubernetes client relists after "410 Gone".
func (s *Supervisor) serveWatch(w http.ResponseWriter, r *http.Request) {
	kind, ns := r.URL.Query().Get("kind"), r.URL.Query().Get("namespace")
	if kind == "" || kind == "Event" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(api.Error{Error: "watch: expected ?kind= a stored kind (events: podlab events -f)"})
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	send := func(typ string, o store.Object) error {
		return enc.Encode(api.WatchEvent{Type: typ, Object: s.stored(kind, o)})
	}
	// known holds each object as last sent, so that a change the list already showed
	// is not sent again, and a relist can tell what was deleted meanwhile (and send its
	// last state). Stored objects are never modified: keeping them is safe.
	known := map[store.Key]store.Object{}
	gen := s.store.Generation()
	for _, o := range s.store.List(kind, ns) {
		known[store.KeyOf(o)] = o
		if send(api.WatchAdded, o) != nil {
			return
		}
	}
	if enc.Encode(api.WatchEvent{Type: api.WatchBookmark}) != nil {
		return
	}
	flush()
	for {
		next, err := s.store.Wait(r.Context(), gen)
		if err != nil {
			return
		}
		changes, ok := s.store.Changes(gen)
		if !ok {
			if s.relist(kind, ns, known, send) != nil {
				return
			}
			gen = next
			flush()
			continue
		}
		for _, c := range changes {
			gen = max(gen, c.Version)
			if c.Key.Kind != kind || ns != "" && c.Key.Namespace != ns || c.Version <= version(known[c.Key]) {
				continue
			}
			if c.Type == api.WatchDeleted {
				delete(known, c.Key)
			} else {
				known[c.Key] = c.Object
			}
			if send(c.Type, c.Object) != nil {
				return
			}
		}
		gen = max(gen, next)
		flush()
	}
}

// relist sends what changed between known and the store's objects now.
func (s *Supervisor) relist(kind, ns string, known map[store.Key]store.Object, send func(string, store.Object) error) error {
	now := map[store.Key]bool{}
	for _, o := range s.store.List(kind, ns) {
		k := store.KeyOf(o)
		now[k] = true
		seen, ok := known[k]
		if ok && version(seen) == version(o) {
			continue
		}
		known[k] = o
		typ := api.WatchModified
		if !ok {
			typ = api.WatchAdded
		}
		if err := send(typ, o); err != nil {
			return err
		}
	}
	for k, o := range known {
		if !now[k] {
			delete(known, k)
			if err := send(api.WatchDeleted, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// version is o's resourceVersion as a number (0 for none, nil included).
func version(o store.Object) uint64 {
	if o == nil {
		return 0
	}
	v, _ := strconv.ParseUint(o.GetResourceVersion(), 10, 64)
	return v
}
