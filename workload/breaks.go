package workload

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// withBreaks puts the break endpoints (see the package doc) in front of an image's
// handler. Health endpoints answer 503 while broken; while healthy /healthz is the
// image's own and /readyz and /livez say ok.
func (s *Server) withBreaks(image http.Handler) http.Handler { return s.breaks(image, false) }

// breaks is withBreaks; with echoes (an image that answers every path, whose answers
// conformance tests check) only /podlab/... is podlab's, and /healthz, /readyz and
// /livez are the image's own answer unless broken.
func (s *Server) breaks(image http.Handler, echoes bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", image)
	exitPaths := []string{"/exit", "/podlab/exit"}
	if echoes {
		exitPaths = exitPaths[1:]
	}
	for _, p := range exitPaths {
		mux.HandleFunc(p, s.exitEndpoint)
	}
	mux.HandleFunc("/podlab/fail-readiness", func(w http.ResponseWriter, r *http.Request) {
		s.notReady.Store(true)
		fmt.Fprintln(w, "readiness broken: /readyz and /healthz answer 503 until /podlab/recover; a readinessProbe on them takes this pod out of its Services' endpoints")
	})
	mux.HandleFunc("/podlab/fail-liveness", func(w http.ResponseWriter, r *http.Request) {
		s.notLive.Store(true)
		fmt.Fprintln(w, "liveness broken: /livez and /healthz answer 503 until /podlab/recover; a livenessProbe on them makes the kubelet restart this container")
	})
	mux.HandleFunc("/podlab/recover", func(w http.ResponseWriter, r *http.Request) {
		s.notReady.Store(false)
		s.notLive.Store(false)
		fmt.Fprintln(w, "recovered: /readyz, /livez and /healthz answer 200 again")
	})
	own := http.Handler(nil) // "ok"
	if echoes {
		own = image
	}
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { s.health(w, r, s.Ready(), own) })
	mux.HandleFunc("/livez", func(w http.ResponseWriter, r *http.Request) { s.health(w, r, s.Live(), own) })
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { s.health(w, r, s.Healthy(), image) })
	return mux
}

// exitEndpoint is /exit?code=N&wait=D.
func (s *Server) exitEndpoint(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.FormValue("code"))
	if err != nil && r.FormValue("code") != "" {
		http.Error(w, fmt.Sprintf("argument 'code' must be an integer [0-127] or empty, got %q", r.FormValue("code")), http.StatusBadRequest)
		return
	}
	wait, err := time.ParseDuration(r.FormValue("wait"))
	if err != nil && r.FormValue("wait") != "" {
		http.Error(w, fmt.Sprintf("argument 'wait' must be a Go duration such as 5s or empty, got %q", r.FormValue("wait")), http.StatusBadRequest)
		return
	}
	s.exit(w, code, wait)
}

// health answers a health endpoint: 503 naming the break while broken, else the
// image's own answer (nil: "ok").
func (s *Server) health(w http.ResponseWriter, r *http.Request, ok bool, image http.Handler) {
	switch {
	case !ok:
		http.Error(w, "broken on purpose by /podlab/fail-readiness or /podlab/fail-liveness: /podlab/recover undoes it", http.StatusServiceUnavailable)
	case image != nil:
		image.ServeHTTP(w, r)
	default:
		fmt.Fprint(w, "ok")
	}
}

// exit makes the container exit with code after wait: OnExit is called once, and the
// kubelet closes this server and restarts the container. Without OnExit nothing
// would restart it, so the request is refused instead.
func (s *Server) exit(w http.ResponseWriter, code int, wait time.Duration) {
	s.mu.Lock()
	refusal := ""
	switch {
	case s.opts.OnExit == nil:
		refusal = "this pod has no kubelet watching it to restart it: /exit is ignored"
	case s.exited || s.closed:
		refusal = "this container is already exiting"
	default:
		s.exited = true
	}
	s.mu.Unlock()
	if refusal != "" {
		http.Error(w, refusal, http.StatusConflict)
		return
	}
	w.Header().Set("Connection", "close")
	fmt.Fprintf(w, "exiting with code %d in %s\n", code, wait)
	// Not from this goroutine: OnExit closes the server, which waits for this request.
	time.AfterFunc(wait, func() {
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			s.opts.OnExit(code)
		}
	})
}
