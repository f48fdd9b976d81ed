package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// PathAccessLog is the ingress and gateway proxies' access log: ?limit=N, the newest
// requests of every proxy pod, newest first (the TUI's :ingress view).
const PathAccessLog = "/v1/ingress/accesslog"

// AccessEntry is one request a proxy pod (the ingress controller's or a Gateway's)
// served, cluster/ingress/proxy.Entry on the wire with the rule that took it and the
// lab object whose address the client's is when the log is read.
type AccessEntry struct {
	Time     time.Time `json:"time"`
	Pod      string    `json:"pod"`      // namespace/name of the proxy pod
	Frontend string    `json:"frontend"` // "ingress", or "gateway/ns/name"
	Listener string    `json:"listener"` // "http", "https", a Gateway listener's name
	Client   string    `json:"client"`   // ip:port
	Method   string    `json:"method"`
	Host     string    `json:"host"` // the Host header as sent
	Path     string    `json:"path"` // the request URI as sent, query included
	Proto    string    `json:"proto"`
	Status   int       `json:"status"` // 499: the client went away first
	Bytes    int64     `json:"bytes"`
	// DurationMs is the time from the request to the last byte of the answer.
	DurationMs float64 `json:"durationMs"`
	// Matched is the rule that took the request: "Ingress/default/web rules[0].paths[1]",
	// "Ingress/ns/name defaultBackend", "HTTPRoute/ns/name rules[0].matches[0]"; ""
	// when none did (a 404).
	Matched        string `json:"matched,omitempty"`
	Backend        string `json:"backend,omitempty"`        // "ns/service:port"; "" when none
	Upstream       string `json:"upstream,omitempty"`       // the endpoint, "ip:port"; "" when nothing was forwarded
	UpstreamStatus int    `json:"upstreamStatus,omitempty"` // 0 when no answer came
	// From is the pod, node or host that has the client's address (Kind empty: none
	// has it now).
	From ObjectRef `json:"from"`
}

// Duration is how long the request took, as the :dns view writes latencies: 0.21ms,
// 3.4ms, 120ms, 2.5s.
func (e AccessEntry) Duration() string {
	ms := e.DurationMs
	switch {
	case ms < 1:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	case ms < 10000:
		return fmt.Sprintf("%.0fms", ms)
	}
	return fmt.Sprintf("%.1fs", ms/1000)
}

// AccessLog returns the newest requests (at most limit) the lab's ingress and gateway
// proxies served, newest first.
func (c *Client) AccessLog(ctx context.Context, limit int) ([]AccessEntry, error) {
	var out []AccessEntry
	err := c.do(ctx, http.MethodGet, PathAccessLog+"?limit="+strconv.Itoa(limit), nil, &out)
	return out, err
}
