package workload

import (
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Request is one request a pod's built-in server served, kept raw: it is formatted
// (as agnhost, nginx or podlab's own server would log it) only when read.
type Request struct {
	Time      time.Time
	Client    string // ip:port
	UDP       bool
	Method    string // HTTP; "" for a datagram
	URI       string // HTTP request URI, or the datagram's text
	Proto     string
	UserAgent string
	Referer   string
	Status    int
	Bytes     int
}

// RequestLog is a bounded ring of a pod's requests; Add costs no formatting.
type RequestLog struct {
	mu   sync.Mutex
	ring []Request // grows to max: a thousand quiet pods cost nothing up front
	max  int
	next int
	full bool
}

// NewRequestLog keeps the last n requests.
func NewRequestLog(n int) *RequestLog { return &RequestLog{max: max(n, 1)} }

// Add records r, dropping the oldest when the ring is full.
func (l *RequestLog) Add(r Request) {
	l.mu.Lock()
	if !l.full && len(l.ring) < l.max {
		l.ring = append(l.ring, r)
		if len(l.ring) == l.max {
			l.full = true
		}
		l.mu.Unlock()
		return
	}
	l.ring[l.next] = r
	l.next = (l.next + 1) % l.max
	l.mu.Unlock()
}

// Requests are the kept requests, oldest first.
func (l *RequestLog) Requests() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return append([]Request(nil), l.ring...)
	}
	return append(append([]Request(nil), l.ring[l.next:]...), l.ring[:l.next]...)
}

// LogStyle says how an image logs requests.
type LogStyle int

const (
	StylePlain     LogStyle = iota // podlab's own server
	StyleNginx                     // nginx's combined access log
	StyleAgnhost                   // agnhost netexec / serve-hostname
	StyleEchoBasic                 // Gateway API's echo-basic: a line per request it echoes
)

// StyleOf is the log style of the image o runs.
func StyleOf(o Options) LogStyle {
	for _, so := range emulate(o).sockets {
		switch so.kind {
		case nginxHTTP:
			return StyleNginx
		case echoHTTP, echoH2C:
			return StyleEchoBasic
		case netexecHTTP, netexecUDP, hostnameHTTP, hostnameTCP, hostnameUDP:
			return StyleAgnhost
		}
	}
	return StylePlain
}

// Format is r as a line of the image's log.
func (r Request) Format(style LogStyle) string {
	switch {
	case style == StyleNginx && !r.UDP:
		ip := r.Client
		if ap, err := netip.ParseAddrPort(r.Client); err == nil {
			ip = ap.Addr().String()
		}
		ref := r.Referer
		if ref == "" {
			ref = "-"
		}
		return fmt.Sprintf(`%s - - [%s] "%s %s %s" %d %d "%s" "%s"`, ip, r.Time.Format("02/Jan/2006:15:04:05 -0700"),
			r.Method, r.URI, r.Proto, r.Status, r.Bytes, ref, r.UserAgent)
	case style == StyleAgnhost && r.UDP:
		return r.Time.Format("2006/01/02 15:04:05") + " UDP request from " + r.Client + ": " + strconv.Quote(r.URI)
	case style == StyleAgnhost:
		return r.Time.Format("2006/01/02 15:04:05") + " " + r.Method + " " + r.URI
	case style == StyleEchoBasic && !r.UDP:
		return "Echoing back request made to " + r.URI + " to client (" + r.Client + ")"
	case r.UDP:
		return fmt.Sprintf("%s %s UDP %q %d bytes", r.Time.Format(time.RFC3339Nano), r.Client, r.URI, r.Bytes)
	}
	return fmt.Sprintf("%s %s %s %s %d %d %q", r.Time.Format(time.RFC3339Nano), r.Client, r.Method, r.URI, r.Status, r.Bytes, r.UserAgent)
}

// countingWriter records the status and body size a handler wrote.
type countingWriter struct {
	http.ResponseWriter
	status, bytes int
	unlogged      bool // see unlessLogged
}

// Unwrap lets http.ResponseController reach the connection (echo-basic's /retry/
// hijacks it).
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// unlessLogged wraps the handler of an image that logs only some requests: a request
// goes to the log only if a handler inside calls logged.
func unlessLogged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cw, ok := w.(*countingWriter); ok {
			cw.unlogged = true
		}
		h.ServeHTTP(w, r)
	})
}

// logged says that the request w answers goes to the log (see unlessLogged).
func logged(w http.ResponseWriter) {
	if cw, ok := w.(*countingWriter); ok {
		cw.unlogged = false
	}
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// logRequests wraps h so that each request served goes to hook.
func logRequests(h http.Handler, hook func(Request)) http.Handler {
	if hook == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cw := &countingWriter{ResponseWriter: w}
		h.ServeHTTP(cw, r)
		if cw.unlogged {
			return
		}
		if cw.status == 0 {
			cw.status = http.StatusOK
		}
		hook(Request{Time: time.Now(), Client: r.RemoteAddr, Method: r.Method, URI: r.RequestURI, Proto: r.Proto,
			UserAgent: r.UserAgent(), Referer: r.Referer(), Status: cw.status, Bytes: cw.bytes})
	})
}
