package cluster

import (
	"encoding/json"
	"errors"
	"net/http"
)

// API paths served on the supervisor's unix socket.
const (
	PathState    = "/v1/state"
	PathEvents   = "/v1/events" // ?follow=1 keeps the stream open
	PathCounters = "/v1/counters"
	PathReady    = "/v1/ready"    // how many pods are ready: cheap to poll
	PathDetails  = "/v1/details/" // {pod|node|host}/{name}?namespace=NS
	PathPods     = "/v1/pods/"    // DELETE {ns}/{name}; PUT {ns}/{name}/labels
	PathObjects  = "/v1/objects"  // ?kind=K&namespace=NS
	PathApply    = "/v1/apply"
	PathDelete   = "/v1/delete"
)

func (s *Supervisor) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathState, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.State())
	})
	mux.HandleFunc("GET "+PathEvents, s.serveEvents)
	s.objectRoutes(mux)
	mux.HandleFunc("GET "+PathReady, func(w http.ResponseWriter, r *http.Request) {
		reply(w, s.ReadyCount(), nil)
	})
	mux.HandleFunc("GET "+PathCounters, func(w http.ResponseWriter, r *http.Request) {
		cs, err := s.Counters(r.Context(), r.URL.Query().Get("services") != "")
		reply(w, cs, err)
	})
	mux.HandleFunc("GET "+PathDetails+"{kind}/{name}", func(w http.ResponseWriter, r *http.Request) {
		d, err := s.Details(r.Context(), r.PathValue("kind"), r.URL.Query().Get("namespace"), r.PathValue("name"))
		reply(w, d, err)
	})
	mux.HandleFunc("DELETE "+PathPods+"{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, struct{}{}, s.DeletePod(r.Context(), r.PathValue("namespace"), r.PathValue("name")))
	})
	mux.HandleFunc("PUT "+PathPods+"{namespace}/{name}/labels", func(w http.ResponseWriter, r *http.Request) {
		var labels map[string]string
		if err := json.NewDecoder(r.Body).Decode(&labels); err != nil {
			http.Error(w, `{"error":"labels: expected a JSON object of strings"}`, http.StatusBadRequest)
			return
		}
		reply(w, struct{}{}, s.SetLabels(r.PathValue("namespace"), r.PathValue("name"), labels))
	})
	return mux
}

// apiError is the body of a failed API call.
type apiError struct {
	Error string `json:"error"`
}

func reply(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrNotFound) {
			code = http.StatusNotFound
		}
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(apiError{err.Error()})
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
