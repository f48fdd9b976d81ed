package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Paths of the logs and the DNS query log.
const (
	PathLogs       = "/v1/logs/"       // pod/{ns}/{name} | host/{name} ?follow=1&tail=N&since=RFC3339: NDJSON LogLine
	PathDNSQueries = "/v1/dns/queries" // ?limit=N: the newest queries of every DNS server, newest first
)

// LogQuery selects the lines of a log, as kubectl logs does.
type LogQuery struct {
	Follow bool
	Tail   int       // the last Tail lines only; < 0: all
	Since  time.Time // lines from then on; zero: all
}

// LogLine is one line of a pod's or host's log.
type LogLine struct {
	Time  time.Time `json:"time"`
	Line  string    `json:"line,omitempty"`
	Query *DNSQuery `json:"query,omitempty"` // the query a DNS server's line logs
	// Note is not a line of the log but says something about it (this pod keeps no
	// logs): `podlab logs` prints it on stderr.
	Note string `json:"note,omitempty"`
}

// QueryRecord is cluster/dns.Query on the wire, field for field: one query a lab's DNS
// server (a CoreDNS pod, or a host serving zones) answered and its reply.
type QueryRecord struct {
	Time     time.Time     `json:"time"`
	Server   string        `json:"server,omitempty"` // namespace/name of the pod, or the host, that answered
	Client   string        `json:"client"`           // address:port
	Proto    string        `json:"proto"`            // udp | tcp
	ID       uint16        `json:"id"`
	Name     string        `json:"name"`
	Type     string        `json:"type"`
	Class    string        `json:"class"`
	Size     int           `json:"size"`
	DO       bool          `json:"do"`
	BufSize  int           `json:"bufsize"`
	Rcode    string        `json:"rcode"`
	Flags    string        `json:"flags"`
	Answers  []string      `json:"answers"`
	RespSize int           `json:"respSize"`
	Took     time.Duration `json:"took"`
	Upstream string        `json:"upstream,omitempty"`
}

// DNSQuery is a query with the lab object that sent it: the pod, node or host whose
// address the client's is when the log is read (Kind empty: none has it now).
type DNSQuery struct {
	QueryRecord
	From ObjectRef `json:"from"`
}

// AnswerData is the answer section's data: "10.96.12.34, 10.96.12.35"; a record of
// another type than asked keeps its type ("CNAME web.example.").
func (q QueryRecord) AnswerData() string {
	var out []string
	for _, rr := range q.Answers {
		f := strings.Fields(rr) // owner ttl class type data...
		if len(f) < 5 {
			out = append(out, rr)
			continue
		}
		data := strings.Join(f[4:], " ")
		if f[3] != q.Type {
			data = f[3] + " " + data
		}
		out = append(out, data)
	}
	return strings.Join(out, ", ")
}

// Latency is the time the server took, in milliseconds: 0.21ms, 3.4ms, 120ms.
func (q QueryRecord) Latency() string {
	ms := float64(q.Took) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return fmt.Sprintf("%.2fms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1fms", ms)
	}
	return fmt.Sprintf("%.0fms", ms)
}

// Logs calls fn for each line of a pod's log (host "" ) or of a lab host's (host set,
// namespace and name ignored); with q.Follow it goes on until ctx ends.
func (c *Client) Logs(ctx context.Context, host, namespace, name string, q LogQuery, fn func(LogLine) error) error {
	path := PathLogs + "pod/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
	if host != "" {
		path = PathLogs + "host/" + url.PathEscape(host)
	}
	v := url.Values{}
	if q.Follow {
		v.Set("follow", "1")
	}
	if q.Tail >= 0 {
		v.Set("tail", strconv.Itoa(q.Tail))
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	resp, err := c.get(ctx, path+"?"+v.Encode())
	if err != nil {
		return err
	}
	return readNDJSON(ctx, resp.Body, fn)
}

// DNSQueries returns the newest queries (at most limit) every DNS server of the lab
// answered, newest first.
func (c *Client) DNSQueries(ctx context.Context, limit int) ([]DNSQuery, error) {
	var out []DNSQuery
	err := c.do(ctx, http.MethodGet, PathDNSQueries+"?limit="+strconv.Itoa(limit), nil, &out)
	return out, err
}
