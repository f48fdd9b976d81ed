package cluster

import (
	"encoding/json"
	"net/http"
)

// API paths served on the supervisor's unix socket.
const (
	PathState  = "/v1/state"
	PathEvents = "/v1/events" // ?follow=1 keeps the stream open
)

func (s *Supervisor) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathState, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.State())
	})
	mux.HandleFunc("GET "+PathEvents, s.serveEvents)
	return mux
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
