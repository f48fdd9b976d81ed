// Package table is the routing table the ingress and gateway proxies serve: what the
// Ingress compiler (cluster/ingress/ingresses) and the Gateway API compiler
// (cluster/ingress/gateways) produce from the store's objects, and the only thing the
// proxy (cluster/ingress/proxy) reads. It holds no Kubernetes types and does no I/O:
// the compilers resolve every reference (Services to ready endpoints, Secrets to
// parsed certificates) and order every list, so the proxy's job per request is a
// first-match walk.
//
// A request is routed in three steps, each a first match over a list the compiler
// ordered:
//
//  1. the Listener by local port (and, for HTTPS, the certificate by SNI: Certs);
//  2. the VirtualHost whose Hostname matches the Host header, port stripped (the
//     compiler puts precise names first, then wildcards most specific first, then
//     the catch-all "");
//  3. the Route whose Match matches; none: the VirtualHost's Default, else 404.
//
// Gateway API's precedence across all the routes of a listener (a precise hostname
// over a wildcard, Exact over prefixes, longer prefixes, method, headers, query,
// age, name, rule order) is flattened by the compiler: each VirtualHost lists every
// route entry that applies to its hostname, in precedence order, so requests fall
// through from a precise host's routes to the wildcard's as the spec says. Ingress
// never falls through (a matched host that matches no path goes to the default
// backend), so its VirtualHosts hold only their own host's paths.
package table

import (
	"crypto/tls"
	"net/netip"
	"regexp"
	"time"
)

// Table is everything the proxy serves, one Frontend per set of proxy pods.
type Table struct {
	// Frontends by key: "ingress" for the ingress controller's pods, and
	// "gateway/NAMESPACE/NAME" for each Gateway's pods.
	Frontends map[string]*Frontend
}

// FrontendIngress is the ingress controller's key in Table.Frontends.
const FrontendIngress = "ingress"

// FrontendGateway is the key of Gateway namespace/name in Table.Frontends.
func FrontendGateway(namespace, name string) string { return "gateway/" + namespace + "/" + name }

// Frontend is what one set of proxy pods serves: its listeners by port.
type Frontend struct {
	Key       string
	Listeners []*Listener // sorted by Port; at most one per Port
}

// Listener is one port of the proxy pods.
type Listener struct {
	// Name is the Gateway listener's name ("http" and "https" for the ingress
	// controller), for the access log.
	Name     string
	Port     int32
	Protocol string // "HTTP" | "HTTPS"
	// Certs are the HTTPS certificates in SNI order: the first whose Hosts match the
	// client's server name serves it (precise names before wildcards, longer first);
	// a Cert without Hosts matches every name; with no SNI or no match, Default.
	Certs   []Cert
	Default *tls.Certificate // nil: refuse the handshake when nothing matches
	// VirtualHosts in match order (see the package comment). Gateway listeners that
	// share a port are merged here by the compiler, their hostnames kept apart.
	VirtualHosts []*VirtualHost
}

// Cert is one certificate and the server names it serves.
type Cert struct {
	Hosts  []string // "foo.example.com" | "*.example.com"; empty: any name
	Cert   *tls.Certificate
	Source string // the Secret, "namespace/name", for logs
}

// VirtualHost is the routes for one hostname pattern.
type VirtualHost struct {
	// Hostname: "" matches every host; "foo.example.com" only itself
	// (case-insensitive); "*.example.com" one label under example.com when
	// WildcardOneLabel (Ingress), one or more labels otherwise (Gateway API).
	Hostname         string
	WildcardOneLabel bool
	Routes           []*Route // first match wins
	// Default takes requests no Route matches (an Ingress's defaultBackend); nil: 404.
	Default *Route
	// Listener is the Gateway listener (or "http"/"https") this host came from, for
	// the access log, when several listeners share a port.
	Listener string
}

// Route is one match and what to do with a request that matches it.
type Route struct {
	Source Source
	Match  Match
	// Filters act in order on the request before it is forwarded (or answered, for
	// a redirect): header modifiers, rewrites, mirrors, redirects.
	Filters []Filter
	// Backends share the requests by Weight (a request goes to one of them, chosen at
	// random in proportion). None, and no redirect filter: Status answers.
	Backends []*Backend
	// Status answers every request when non-zero and no Backend or redirect applies
	// (500 for a rule whose references are all invalid, 404 for a fixed miss).
	Status int
	// SSLRedirect, on a plain-HTTP listener, answers 308 to the same URL over https
	// (ingress-nginx's ssl-redirect for hosts with TLS).
	SSLRedirect bool
}

// Source says which object and rule a Route came from: the access log's "matched".
type Source struct {
	Kind      string // "Ingress" | "HTTPRoute"
	Namespace string
	Name      string
	Rule      int // index in spec.rules (Ingress: rules[Rule].http.paths[Match]); -1 for a defaultBackend
	Match     int // index in the rule's matches or paths
}

// Match is what a request must have; zero values match everything.
type Match struct {
	Path    PathMatch
	Headers []ValueMatch // every one must match; Name compared case-insensitively
	Query   []ValueMatch // every one must match; Name exact, the first value of the parameter
	Method  string       // "" any
}

// PathMatch compares the request path (without the query).
type PathMatch struct {
	// Type: "" any path; "Exact" byte equality; "Prefix" element-wise prefix
	// ("/foo" matches "/foo", "/foo/", "/foo/bar", not "/foobar"; the value's
	// trailing slash ignored); "RegularExpression" Regex must match the whole path;
	// "RegexPrefix" Regex must match at the start (ingress-nginx use-regex, a
	// location ~* is unanchored at the end).
	Type  string
	Value string
	Regex *regexp.Regexp
}

// ValueMatch matches one header or query parameter.
type ValueMatch struct {
	Name  string
	Value string         // exact, when Regex is nil
	Regex *regexp.Regexp // RegularExpression: matches anywhere unless anchored
}

// Filter is one action on a request or its response.
type Filter struct {
	Type string // one of the Filter* constants

	// Header modifiers (FilterRequestHeaders, FilterResponseHeaders).
	Set    []Header
	Add    []Header
	Remove []string

	// FilterRedirect: each empty field keeps the request's own value (Port 0: the
	// scheme's default when Scheme is set, else the listener's port). StatusCode
	// defaults to 302.
	Scheme     string
	Hostname   string
	Port       int32
	StatusCode int
	// Path rewriting for FilterRedirect and FilterRewrite: PathType "" keeps the path;
	// "ReplaceFullPath" replaces it with Path; "ReplacePrefixMatch" replaces the
	// matched prefix (the Route's Match.Path.Value) with Path; "RegexReplace" is
	// ingress-nginx's rewrite-target: Regex (the rule's path) expanded into Path with
	// $1..$9.
	PathType string
	Path     string
	Regex    *regexp.Regexp

	// FilterRewrite: Hostname (above) replaces the Host sent upstream.

	// FilterMirror: a copy of the request goes to Mirror; its answer is ignored.
	// Percent of requests mirrored (100 when unset by the source).
	Mirror  *Backend
	Percent float64
}

// Filter types.
const (
	FilterRequestHeaders  = "RequestHeaderModifier"
	FilterResponseHeaders = "ResponseHeaderModifier"
	FilterRedirect        = "RequestRedirect"
	FilterRewrite         = "URLRewrite"
	FilterMirror          = "RequestMirror"
)

// Header is one header name and value.
type Header struct{ Name, Value string }

// Backend is where requests are forwarded: a Service's ready endpoints.
type Backend struct {
	Namespace, Service string
	Port               int32 // the Service port asked for (for logs)
	Weight             int32
	// Endpoints are the ready endpoints (pod IP and target port); the proxy spreads
	// requests over them. Empty and Status zero: 503.
	Endpoints []netip.AddrPort
	// Status answers instead of forwarding when non-zero: 500 for an invalid
	// reference (unknown Service or kind, not permitted), as Gateway API says.
	Status int
	// Protocol toward the endpoints: "HTTP" (default) or "HTTPS" (TLS, certificate
	// not verified, as ingress-nginx's backend-protocol: HTTPS does).
	Protocol string
	// Filters apply only to requests sent to this backend (Gateway API backendRef
	// filters), after the Route's.
	Filters []Filter
	// Timeout bounds a request to this backend (0: the proxy's default).
	Timeout time.Duration
}

// Port of a listener in f, or nil.
func (f *Frontend) Listener(port int32) *Listener {
	for _, l := range f.Listeners {
		if l.Port == port {
			return l
		}
	}
	return nil
}
