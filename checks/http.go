package checks

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"podlab.dev/podlab/topology"
)

// maxBody is how much of an answer a check reads: enough for any page a lab serves.
const maxBody = 1 << 20

// http sends one request from inside the source's namespace to the URL's host, as
// resolved for the source (a Service's ClusterIP, a pod's address, a name by the
// pod's resolver), with the URL's host as Host unless headers: says otherwise.
func (r *Runner) http(ctx context.Context, v *view, c *topology.Check) (bool, string) {
	src, err := v.source(c.From)
	if err != nil {
		return false, err.Error()
	}
	ip, err := r.address(ctx, v, c.From, c.To)
	if err != nil {
		return false, err.Error()
	}
	addr := netip.AddrPortFrom(ip, uint16(c.To.Port)).String()
	dial := r.Dial(src)
	timeout := r.HTTPTimeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	host, _, _ := strings.Cut(c.To.Text, ":")
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dial(ctx, network, addr)
			},
			// A lab's certificates are its own (podlab create secret tls): the check
			// is about routing, not trust.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: host},
		},
		// A redirect is an answer to check, not to follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return false, err.Error()
	}
	req.Header.Set("User-Agent", "podlab-check")
	for k, val := range c.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = val
			continue
		}
		req.Header.Set(k, val)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Sprintf("GET %s (%s) from %s: %v; expected %s", c.URL, addr, c.From.Key(), unwrapURL(err), expectedHTTP(c.HTTP))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return judgeHTTP(c.HTTP, resp, body)
}

// judgeHTTP compares an answer with what is expected; the detail shows what differs,
// or the status and a short body when all matches.
func judgeHTTP(x *topology.HTTPExpect, resp *http.Response, body []byte) (bool, string) {
	var bad []string
	seen := []string{strconv.Itoa(resp.StatusCode)}
	if x.Status != 0 && resp.StatusCode != x.Status {
		bad = append(bad, fmt.Sprintf("status %d", x.Status))
	}
	if x.Body != "" {
		if !strings.Contains(string(body), x.Body) {
			seen = append(seen, "body "+short(string(body)))
			bad = append(bad, fmt.Sprintf("body containing %q", x.Body))
		} else {
			seen = append(seen, fmt.Sprintf("body contains %q", x.Body))
		}
	}
	if len(x.BodyJSON) > 0 {
		var echo map[string]any
		if err := json.Unmarshal(body, &echo); err != nil {
			seen = append(seen, "body is not JSON: "+short(string(body)))
			bad = append(bad, "an echo server's JSON answer")
		} else {
			for _, k := range sortedKeys(x.BodyJSON) {
				got := fmt.Sprint(echo[k])
				if echo[k] == nil {
					got = "(none)"
				}
				seen = append(seen, k+" "+got)
				if got != x.BodyJSON[k] {
					bad = append(bad, k+" "+x.BodyJSON[k])
				}
			}
		}
	}
	for _, k := range sortedKeys(x.Headers) {
		got := resp.Header.Get(k)
		seen = append(seen, fmt.Sprintf("%s: %q", k, got))
		if got != x.Headers[k] {
			bad = append(bad, fmt.Sprintf("%s: %q", k, x.Headers[k]))
		}
	}
	if len(x.BodyJSON) == 0 && x.Body == "" && len(body) > 0 {
		seen = append(seen, short(string(body)))
	}
	s := strings.Join(seen, ", ")
	if len(bad) > 0 {
		return false, s + "; expected " + strings.Join(bad, ", ")
	}
	return true, s
}

func expectedHTTP(x *topology.HTTPExpect) string {
	if x.Status != 0 {
		return fmt.Sprintf("status %d", x.Status)
	}
	return "an answer"
}

// short is a body on one line, cut to fit a table cell.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return strconv.Quote(s)
}

// unwrapURL drops the "Get URL:" prefix the detail already says.
func unwrapURL(err error) error {
	if ue, ok := err.(interface{ Unwrap() error }); ok && strings.HasPrefix(err.Error(), "Get ") {
		return ue.Unwrap()
	}
	return err
}
