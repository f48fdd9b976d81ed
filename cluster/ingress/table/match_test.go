package table

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
)

func TestPathMatch(t *testing.T) {
	for _, c := range []struct {
		m    PathMatch
		path string
		want bool
	}{
		{PathMatch{}, "/anything", true},
		{PathMatch{Type: "Exact", Value: "/foo"}, "/foo", true},
		{PathMatch{Type: "Exact", Value: "/foo"}, "/foo/", false},
		{PathMatch{Type: "Prefix", Value: "/"}, "/x/y", true},
		{PathMatch{Type: "Prefix", Value: "/foo/"}, "/foo", true},
		{PathMatch{Type: "Prefix", Value: "/foo"}, "/foo/bar", true},
		{PathMatch{Type: "Prefix", Value: "/foo"}, "/foobar", false},
		{PathMatch{Type: "RegexPrefix", Regex: regexp.MustCompile(`(?i)^/api`)}, "/API/v1", true},
		{PathMatch{Type: "RegexPrefix", Regex: regexp.MustCompile(`(?i)^/api`)}, "/x/api", false},
		{PathMatch{Type: "RegexPrefix", Regex: regexp.MustCompile(`api`)}, "/x/api", false},
		{PathMatch{Type: "RegularExpression", Regex: regexp.MustCompile(`^(?:/v[0-9]+)$`)}, "/v12", true},
		{PathMatch{Type: "RegularExpression", Regex: regexp.MustCompile(`^(?:/v[0-9]+)$`)}, "/v12/x", false},
		{PathMatch{Type: "Bogus"}, "/", false},
	} {
		if got := c.m.Matches(c.path); got != c.want {
			t.Errorf("%s %q %v matches %q = %v, want %v", c.m.Type, c.m.Value, c.m.Regex, c.path, got, c.want)
		}
	}
}

func TestHostnameMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, host  string
		oneLabel, want bool
	}{
		{"", "x.y", true, true},
		{"foo.com", "FOO.com", true, true},
		{"foo.com", "bar.foo.com", true, false},
		{"*.foo.com", "bar.foo.com", true, true},
		{"*.foo.com", "baz.bar.foo.com", true, false},
		{"*.foo.com", "baz.bar.foo.com", false, true},
		{"*.foo.com", "foo.com", false, false},
		{"*.foo.com", ".foo.com", false, false},
	} {
		if got := HostnameMatches(c.pattern, c.host, c.oneLabel); got != c.want {
			t.Errorf("HostnameMatches(%q, %q, %v) = %v, want %v", c.pattern, c.host, c.oneLabel, got, c.want)
		}
	}
	for in, want := range map[string]string{"Foo.Com:8080": "foo.com", "foo.com.": "foo.com", "[::1]:80": "::1", "10.0.0.1": "10.0.0.1"} {
		if got := HostOnly(in); got != want {
			t.Errorf("HostOnly(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListenerRoute(t *testing.T) {
	api := &Route{Match: Match{Path: PathMatch{Type: "Prefix", Value: "/api"}, Method: "GET",
		Headers: []ValueMatch{{Name: "x-env", Value: "canary"}}, Query: []ValueMatch{{Name: "v", Regex: regexp.MustCompile(`^[0-9]+$`)}}}}
	def := &Route{Status: 404}
	wild := &Route{}
	l := &Listener{VirtualHosts: []*VirtualHost{
		{Hostname: "foo.com", Routes: []*Route{api}, Default: def},
		{Hostname: "*.foo.com", WildcardOneLabel: true, Routes: []*Route{wild}},
	}}
	hdr := http.Header{"X-Env": {"canary"}}
	for _, c := range []struct {
		host, path string
		hdr        http.Header
		query      string
		method     string
		vh         string
		r          *Route
	}{
		{"foo.com:80", "/api/x", hdr, "v=3", "GET", "foo.com", api},
		{"foo.com", "/api/x", hdr, "v=3", "POST", "foo.com", def},
		{"foo.com", "/api/x", nil, "v=3", "GET", "foo.com", def},
		{"foo.com", "/api/x", hdr, "v=x", "GET", "foo.com", def},
		{"a.foo.com", "/", nil, "", "GET", "*.foo.com", wild},
		{"a.b.foo.com", "/", nil, "", "GET", "", nil},
	} {
		q, _ := url.ParseQuery(c.query)
		vh, r := l.Route(c.host, c.path, c.hdr, q, c.method)
		name := ""
		if vh != nil {
			name = vh.Hostname
		}
		if name != c.vh || r != c.r {
			t.Errorf("Route(%q, %q, %v, %q, %s) = %q %p, want %q %p", c.host, c.path, c.hdr, c.query, c.method, name, r, c.vh, c.r)
		}
	}
}
