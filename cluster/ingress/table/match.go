package table

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Route walks l as the package comment says: the first VirtualHost whose Hostname
// matches host (its port stripped), then the first Route whose Match matches, then
// that VirtualHost's Default. A nil VirtualHost means no host matched; a nil Route
// means nothing serves the request: both answer 404. The proxy and the compilers'
// tests call this, so both walk the table the same way.
func (l *Listener) Route(host, path string, hdr http.Header, query url.Values, method string) (*VirtualHost, *Route) {
	host = HostOnly(host)
	for _, vh := range l.VirtualHosts {
		if !vh.MatchesHost(host) {
			continue
		}
		for _, r := range vh.Routes {
			if r.Match.Matches(path, hdr, query, method) {
				return vh, r
			}
		}
		return vh, vh.Default
	}
	return nil, nil
}

// HostOnly is a Host header without its port or trailing dot, lower-cased:
// "Foo.Example.com:8080" -> "foo.example.com", "[::1]:80" -> "::1".
func HostOnly(hostport string) string {
	h := hostport
	if strings.Contains(h, ":") {
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// MatchesHost says whether host (lower-case, no port) is one of vh's names.
func (vh *VirtualHost) MatchesHost(host string) bool {
	return HostnameMatches(vh.Hostname, host, vh.WildcardOneLabel)
}

// HostnameMatches compares a hostname pattern ("", "foo.example.com",
// "*.example.com") with a request's host. A wildcard needs at least one label in
// place of "*": exactly one when oneLabel (Ingress), one or more otherwise (Gateway
// API).
func HostnameMatches(pattern, host string, oneLabel bool) bool {
	switch {
	case pattern == "":
		return true
	case strings.HasPrefix(pattern, "*."):
		suffix := pattern[1:] // ".example.com"
		if len(host) <= len(suffix) || !strings.EqualFold(host[len(host)-len(suffix):], suffix) {
			return false
		}
		return !oneLabel || !strings.Contains(host[:len(host)-len(suffix)], ".")
	default:
		return strings.EqualFold(pattern, host)
	}
}

// Matches says whether a request has everything m asks for.
func (m *Match) Matches(path string, hdr http.Header, query url.Values, method string) bool {
	if m.Method != "" && m.Method != method {
		return false
	}
	if !m.Path.Matches(path) {
		return false
	}
	for _, h := range m.Headers {
		v, ok := hdr[http.CanonicalHeaderKey(h.Name)]
		if !ok || len(v) == 0 || !h.matches(v[0]) {
			return false
		}
	}
	for _, q := range m.Query {
		v, ok := query[q.Name]
		if !ok || len(v) == 0 || !q.matches(v[0]) {
			return false
		}
	}
	return true
}

func (v ValueMatch) matches(s string) bool {
	if v.Regex != nil {
		return v.Regex.MatchString(s)
	}
	return v.Value == s
}

// Matches says whether the request path (no query) matches p; see PathMatch.Type.
func (p PathMatch) Matches(path string) bool {
	switch p.Type {
	case "":
		return true
	case "Exact":
		return path == p.Value
	case "Prefix":
		v := strings.TrimRight(p.Value, "/")
		return v == "" || path == v || strings.HasPrefix(path, v+"/")
	case "RegexPrefix":
		loc := p.Regex.FindStringIndex(path) // leftmost: starts at 0 if any match does
		return loc != nil && loc[0] == 0
	case "RegularExpression":
		// The compiler anchors Regex (^(?:re)$): a leftmost match is not always the
		// longest ("a|ab" finds "a" in "ab"), so the span check alone would miss some.
		loc := p.Regex.FindStringIndex(path)
		return loc != nil && loc[0] == 0 && loc[1] == len(path)
	}
	return false
}
