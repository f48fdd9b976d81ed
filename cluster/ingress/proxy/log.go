package proxy

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

// Entry is one request, as the access log keeps it: plain fields, formatted only
// when String is called.
type Entry struct {
	Time     time.Time
	Frontend string // table.FrontendIngress or table.FrontendGateway(ns, name)
	Pod      string // "namespace/name" of the proxy pod; "" for Handler
	Listener string // the listener's name ("http", "https", a Gateway listener's)

	Client        string // ip:port
	Method        string
	Host          string // the Host header as sent
	Path          string // the request URI as sent, query included
	Proto         string // "HTTP/1.1", "HTTP/2.0"
	Referer       string
	UserAgent     string
	RequestID     string
	RequestLength int64 // request line, headers and body (nginx's $request_length, approximate)

	Status    int // 499: the client went away before the answer
	BytesSent int64
	Duration  time.Duration

	// Matched is the rule that took the request (zero Kind: none, a 404).
	Matched table.Source
	// The Service port the request was sent to ("" when none).
	Namespace, Service string
	ServicePort        int32

	Upstream         string // the endpoint, "ip:port"; "" when nothing was forwarded
	UpstreamStatus   int    // 0 when no answer came
	UpstreamDuration time.Duration
}

// recorder is the ResponseWriter the request is served through: it applies the
// response header modifiers when the headers go out, and keeps what the access log
// needs.
type recorder struct {
	http.ResponseWriter
	h     *handler
	start time.Time

	status      int
	bytes       int64
	wroteHeader bool
	filters     [2][]table.Filter // the Route's and the Backend's

	listener       string
	reqID          string
	route          *table.Route
	backend        *table.Backend
	upstream       string
	upstreamFailed bool
	upstreamTime   time.Duration
}

func (rec *recorder) WriteHeader(code int) {
	if rec.wroteHeader {
		return
	}
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		rec.ResponseWriter.WriteHeader(code) // 103 Early Hints and the like pass through
		return
	}
	for _, fs := range rec.filters {
		for i := range fs {
			if fs[i].Type == table.FilterResponseHeaders {
				modifyHeaders(rec.Header(), &fs[i])
				for _, n := range fs[i].Remove {
					// A name present with no value keeps net/http from adding its
					// own (Content-Type sniffed, Date).
					rec.Header()[http.CanonicalHeaderKey(n)] = nil
				}
			}
		}
	}
	rec.wroteHeader, rec.status = true, code
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// FlushError lets ReverseProxy stream answers (it flushes through a
// ResponseController, which finds this method first).
func (rec *recorder) FlushError() error {
	if !rec.wroteHeader {
		rec.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(rec.ResponseWriter).Flush()
}

// Unwrap gives ResponseController the connection (Hijack for upgrades, deadlines).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (h *handler) log(rec *recorder, r *http.Request, host, uri string, reqLen int64) {
	logf := h.p.opts.Log
	if logf == nil {
		return
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
		if r.Header.Get("Upgrade") != "" && rec.upstream != "" {
			status = http.StatusSwitchingProtocols // hijacked by ReverseProxy
		}
	}
	e := Entry{
		Time: rec.start, Frontend: h.frontend, Pod: h.pod, Listener: rec.listener,
		Client: r.RemoteAddr, Method: r.Method, Host: host, Path: uri, Proto: r.Proto,
		Referer: r.Header.Get("Referer"), UserAgent: r.Header.Get("User-Agent"),
		RequestID: rec.reqID, RequestLength: reqLen,
		Status: status, BytesSent: rec.bytes, Duration: time.Since(rec.start),
		Upstream: rec.upstream, UpstreamDuration: rec.upstreamTime,
	}
	if rec.route != nil {
		e.Matched = rec.route.Source
	}
	if b := rec.backend; b != nil {
		e.Namespace, e.Service, e.ServicePort = b.Namespace, b.Service, b.Port
	}
	if rec.upstream != "" && !rec.upstreamFailed {
		e.UpstreamStatus = rec.status
	}
	logf(e)
}

// String is the line ingress-nginx's default log-format writes, followed by the rule
// that matched:
//
//	$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
//	"$http_referer" "$http_user_agent" $request_length $request_time
//	[$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr
//	$upstream_response_length $upstream_response_time $upstream_status $req_id
//	matched=Ingress/ns/name rules[0].paths[1]
func (e Entry) String() string {
	b := make([]byte, 0, 256)
	client := e.Client
	if ip, _, err := net.SplitHostPort(client); err == nil {
		client = ip
	}
	b = append(b, client...)
	b = append(b, " - - ["...)
	b = e.Time.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, `] "`...)
	b = append(b, e.Method...)
	b = append(b, ' ')
	b = append(b, e.Path...)
	b = append(b, ' ')
	b = append(b, e.Proto...)
	b = append(b, `" `...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.BytesSent, 10)
	b = append(b, ' ')
	b = appendQuoted(b, e.Referer)
	b = append(b, ' ')
	b = appendQuoted(b, e.UserAgent)
	b = append(b, ' ')
	b = strconv.AppendInt(b, e.RequestLength, 10)
	b = append(b, ' ')
	b = appendSeconds(b, e.Duration)
	b = append(b, " ["...)
	if e.Service != "" {
		b = append(b, e.Namespace...)
		b = append(b, '-')
		b = append(b, e.Service...)
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(e.ServicePort), 10)
	}
	b = append(b, "] [] "...)
	if e.Upstream == "" {
		b = append(b, "- - - -"...)
	} else {
		b = append(b, e.Upstream...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, e.BytesSent, 10)
		b = append(b, ' ')
		b = appendSeconds(b, e.UpstreamDuration)
		b = append(b, ' ')
		if e.UpstreamStatus == 0 {
			b = append(b, '-')
		} else {
			b = strconv.AppendInt(b, int64(e.UpstreamStatus), 10)
		}
	}
	b = append(b, ' ')
	b = append(b, e.RequestID...)
	b = append(b, " matched="...)
	b = append(b, Matched(e.Matched)...)
	return string(b)
}

// Matched names the rule s says: "Ingress/ns/name rules[0].paths[1]",
// "Ingress/ns/name defaultBackend", "HTTPRoute/ns/name rules[0].matches[0]"; "-"
// for none.
func Matched(s table.Source) string {
	if s.Kind == "" {
		return "-"
	}
	id := s.Kind + "/" + s.Namespace + "/" + s.Name
	switch {
	case s.Rule < 0:
		return id + " defaultBackend"
	case s.Kind == "Ingress":
		return id + " rules[" + strconv.Itoa(s.Rule) + "].paths[" + strconv.Itoa(s.Match) + "]"
	}
	return id + " rules[" + strconv.Itoa(s.Rule) + "].matches[" + strconv.Itoa(s.Match) + "]"
}

// appendQuoted is nginx's "$var": "-" when empty, quotes and control bytes escaped
// as \xHH (log-format escape=default).
func appendQuoted(b []byte, s string) []byte {
	if s == "" {
		return append(b, `"-"`...)
	}
	b = append(b, '"')
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' || r >= 0x7f }) {
		b = append(b, s...)
	} else {
		const hexdigits = "0123456789ABCDEF"
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
				b = append(b, '\\', 'x', hexdigits[c>>4], hexdigits[c&15])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}

// appendSeconds is nginx's msec precision: "0.003".
func appendSeconds(b []byte, d time.Duration) []byte {
	return strconv.AppendFloat(b, d.Seconds(), 'f', 3, 64)
}
