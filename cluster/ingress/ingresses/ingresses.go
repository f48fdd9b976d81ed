// Package ingresses compiles the store's Ingresses into the ingress controller's
// routing table (table.FrontendIngress), their status, and the Warning events that
// explain what cannot be served. It behaves as ingress-nginx does wherever the
// Ingress API leaves the choice to the controller, since that is what most pasted
// manifests were written for. It does no I/O: refs reads the store.
//
// Which Ingresses: spec.ingressClassName naming an IngressClass whose
// spec.controller is Options.Controller (or naming Options.ClassName when no such
// IngressClass object exists); the deprecated kubernetes.io/ingress.class annotation
// counts as the class name; no class at all when the IngressClass marked
// ingressclass.kubernetes.io/is-default-class: "true" is ours (what admission would
// have filled in).
//
// Matching (SEMANTICS.md §6): every Ingress's rules are merged per host, as
// ingress-nginx merges them into one server. Hosts: precise names, then one-label
// wildcards (longer first), then the rules without host. A matched host never falls
// through to a wildcard or the host-less rules (nginx picks the server first): a path
// that matches nothing goes to the host's default backend. Paths: longest first, and
// Exact before Prefix before ImplementationSpecific on equal length; the YAML order
// does not matter. The same host, path and pathType in two Ingresses: the oldest
// (creationTimestamp, then namespace/name) keeps it, the other gets a Warning.
//
// ImplementationSpecific is nginx's plain "location /foo": a case-sensitive string
// prefix, so /foo matches /foobar (a RegexPrefix of the quoted path).
//
// spec.defaultBackend serves the paths no rule matches on that Ingress's hosts, and
// requests for hosts no rule names (the catch-all); when several Ingresses have one,
// the oldest wins (ingress-nginx takes the first Ingress of a host, which is usually
// the same one; podlab says so with a Warning instead of choosing silently). Nothing:
// 404.
//
// TLS: spec.tls[].hosts get the Secret's certificate on the HTTPS listener; a
// missing or invalid Secret, an empty secretName, or a certificate that does not
// name the host: the controller's default certificate (ingress-nginx's "Kubernetes
// Ingress Controller Fake Certificate"), with a Warning for the first and the last.
// An entry without hosts serves its certificate for every name no other entry lists
// (the default certificate for SNI, as most controllers do) and counts the
// Ingress's own rule hosts as TLS hosts for ssl-redirect.
//
// Supported annotations (nginx.ingress.kubernetes.io/...; others are ignored):
//
//   - use-regex: "true": every path of the host, from every Ingress, is a
//     case-insensitive regex matched at the start (nginx "location ~* ^path"),
//     ordered longest path first as ingress-nginx orders its locations.
//   - rewrite-target: implies use-regex for the host; the URI is replaced by the
//     target with $1..$9 expanded from the path's regex (the query string is kept).
//   - ssl-redirect (default "true" for hosts with TLS) and force-ssl-redirect
//     (also without TLS): 308 to https on the HTTP listener.
//   - backend-protocol: HTTP (default) or HTTPS (TLS to the pods, unverified);
//     GRPC, GRPCS, FCGI and AUTO_HTTP are served as HTTP with a Warning.
package ingresses

import (
	"crypto/tls"
	"fmt"
	"regexp"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"

	"podlab.dev/podlab/cluster/ingress/refs"
	"podlab.dev/podlab/cluster/ingress/table"
)

// Options says which Ingresses are ours and how the controller is exposed.
type Options struct {
	ClassName  string // the IngressClass podlab installs: "podlab"
	Controller string // its spec.controller: "podlab.dev/ingress-controller"
	HTTPPort   int32  // 0: 80
	HTTPSPort  int32  // 0: 443
	// DefaultCert serves HTTPS names without a usable Secret (FakeCertificate).
	DefaultCert *tls.Certificate
	// Addresses are the controller Service's LoadBalancer addresses, the status of
	// every Ingress served.
	Addresses []networkingv1.IngressLoadBalancerIngress
}

// Result is the compiled table and what to write back.
type Result struct {
	Frontend *table.Frontend
	Status   map[types.NamespacedName]networkingv1.IngressStatus // every Ingress served
	Problems []Problem                                           // sorted; one Warning event each
}

// Problem is one Warning event on an object.
type Problem struct {
	Kind, Namespace, Name string
	Reason, Message       string
}

// ingress is one Ingress we serve, with its annotations read.
type ingress struct {
	*networkingv1.Ingress
	order int // age rank: 0 is the oldest
	ann   annotations
}

type compiler struct {
	r        refs.Reader
	o        Options
	problems map[Problem]bool
}

func (c *compiler) problem(ing *networkingv1.Ingress, reason, format string, args ...any) {
	c.problems[Problem{"Ingress", ing.Namespace, ing.Name, reason, fmt.Sprintf(format, args...)}] = true
}

// Compile builds the ingress controller's frontend from the store.
func Compile(r refs.Reader, o Options) Result {
	if o.HTTPPort == 0 {
		o.HTTPPort = 80
	}
	if o.HTTPSPort == 0 {
		o.HTTPSPort = 443
	}
	c := &compiler{r: r, o: o, problems: map[Problem]bool{}}
	ings := c.selectIngresses()
	res := Result{Status: map[types.NamespacedName]networkingv1.IngressStatus{}}
	for _, ing := range ings {
		lb := append([]networkingv1.IngressLoadBalancerIngress(nil), o.Addresses...)
		res.Status[types.NamespacedName{Namespace: ing.Namespace, Name: ing.Name}] = networkingv1.IngressStatus{
			LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: lb}}
	}
	certs, tlsHosts := c.certificates(ings)
	hosts := c.hosts(ings, tlsHosts)
	httpL := &table.Listener{Name: "http", Port: o.HTTPPort, Protocol: "HTTP"}
	httpsL := &table.Listener{Name: "https", Port: o.HTTPSPort, Protocol: "HTTPS", Certs: certs, Default: o.DefaultCert}
	for _, h := range hosts {
		vh := c.virtualHost(h)
		httpL.VirtualHosts = append(httpL.VirtualHosts, vh)
		httpsL.VirtualHosts = append(httpsL.VirtualHosts, secure(vh))
	}
	res.Frontend = &table.Frontend{Key: table.FrontendIngress, Listeners: []*table.Listener{httpL, httpsL}}
	sort.Slice(res.Frontend.Listeners, func(i, j int) bool { return res.Frontend.Listeners[i].Port < res.Frontend.Listeners[j].Port })
	for p := range c.problems {
		res.Problems = append(res.Problems, p)
	}
	sort.Slice(res.Problems, func(i, j int) bool {
		a, b := res.Problems[i], res.Problems[j]
		return a.Namespace+"/"+a.Name+"\x00"+a.Reason+"\x00"+a.Message < b.Namespace+"/"+b.Name+"\x00"+b.Reason+"\x00"+b.Message
	})
	return res
}

// secure is vh for the HTTPS listener: the same routes, none redirecting to https.
func secure(vh *table.VirtualHost) *table.VirtualHost {
	s := *vh
	s.Listener = "https"
	s.Routes = make([]*table.Route, len(vh.Routes))
	for i, r := range vh.Routes {
		s.Routes[i] = noRedirect(r)
	}
	s.Default = noRedirect(vh.Default)
	return &s
}

func noRedirect(r *table.Route) *table.Route {
	if r == nil || !r.SSLRedirect {
		return r
	}
	c := *r
	c.SSLRedirect = false
	return &c
}

// host is every path the Ingresses give one hostname ("" for rules without host).
type host struct {
	name    string
	tls     bool
	regex   bool // use-regex or rewrite-target on any of its Ingresses
	paths   []pathEntry
	def     *ingress // whose defaultBackend serves unmatched paths
	defFrom string   // what def is the default of, for the conflict message
}

type pathEntry struct {
	ing        *ingress
	rule, idx  int
	path, kind string // kind: Exact | Prefix | ImplementationSpecific
	backend    networkingv1.IngressBackend
}

// hosts groups the rules by hostname, in match order: precise, wildcards, "".
func (c *compiler) hosts(ings []*ingress, tlsHosts map[string]bool) []*host {
	byName := map[string]*host{}
	get := func(name string) *host {
		h := byName[name]
		if h == nil {
			h = &host{name: name, tls: tlsHosts[name]}
			byName[name] = h
		}
		return h
	}
	type key struct{ host, path, kind string }
	owner := map[key]*ingress{}
	for _, ing := range ings {
		for ri, rule := range ing.Spec.Rules {
			name := strings.ToLower(rule.Host)
			h := get(name)
			if ing.ann.regex() {
				h.regex = true
			}
			if ing.Spec.DefaultBackend != nil && name != "" { // "": the catch-all, below
				c.defaultFor(h, ing, fmt.Sprintf("host %q", name))
			}
			if rule.HTTP == nil {
				continue
			}
			for pi, p := range rule.HTTP.Paths {
				e := pathEntry{ing: ing, rule: ri, idx: pi, path: p.Path, kind: string(networkingv1.PathTypeImplementationSpecific), backend: p.Backend}
				if p.PathType != nil {
					e.kind = string(*p.PathType)
				}
				field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
				if e.kind == string(networkingv1.PathTypeImplementationSpecific) && e.path == "" {
					e.path = "/"
				}
				if !strings.HasPrefix(e.path, "/") {
					c.problem(ing.Ingress, "InvalidPath", "%s.path %q must start with \"/\"; the path is not served", field, p.Path)
					continue
				}
				k := key{name, e.path, e.kind}
				if prev := owner[k]; prev != nil {
					c.problem(ing.Ingress, "PathConflict", "%s: host %q path %q (%s) is already served by ingress %s/%s, which is older; this path is ignored: remove it from one of them", field, displayHost(name), e.path, e.kind, prev.Namespace, prev.Name)
					continue
				}
				owner[k] = ing
				h.paths = append(h.paths, e)
			}
		}
	}
	// The catch-all: the host-less rules, and the oldest defaultBackend.
	for _, ing := range ings {
		if ing.Spec.DefaultBackend != nil {
			c.defaultFor(get(""), ing, "requests for hosts no rule names")
		}
	}
	out := make([]*host, 0, len(byName))
	for _, h := range byName {
		if len(h.paths) > 0 || h.def != nil || h.name != "" {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return hostBefore(out[i].name, out[j].name) })
	return out
}

// defaultFor gives h ing's defaultBackend unless an older Ingress's already serves it.
func (c *compiler) defaultFor(h *host, ing *ingress, what string) {
	switch {
	case h.def == nil:
		h.def, h.defFrom = ing, what
	case h.def != ing:
		c.problem(ing.Ingress, "DefaultBackendConflict", "spec.defaultBackend is not used for %s: ingress %s/%s is older and has one too; keep a single defaultBackend", what, h.def.Namespace, h.def.Name)
	}
}

func displayHost(h string) string {
	if h == "" {
		return "*"
	}
	return h
}

// hostBefore orders hostnames as they are matched: precise names, then wildcards
// with more labels first, then "".
func hostBefore(a, b string) bool {
	rank := func(h string) int {
		switch {
		case h == "":
			return 2
		case strings.HasPrefix(h, "*."):
			return 1
		}
		return 0
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a < b
}

// virtualHost is h's routes for the HTTP listener (secure makes the HTTPS ones).
func (c *compiler) virtualHost(h *host) *table.VirtualHost {
	vh := &table.VirtualHost{Hostname: h.name, WildcardOneLabel: true, Listener: "http"}
	paths := append([]pathEntry(nil), h.paths...)
	rank := map[string]int{"Exact": 0, "Prefix": 1, "ImplementationSpecific": 2}
	sort.SliceStable(paths, func(i, j int) bool {
		a, b := paths[i], paths[j]
		if len(a.path) != len(b.path) {
			return len(a.path) > len(b.path)
		}
		if !h.regex && a.kind != b.kind {
			return rank[a.kind] < rank[b.kind]
		}
		if a.ing.order != b.ing.order {
			return a.ing.order < b.ing.order
		}
		if a.rule != b.rule {
			return a.rule < b.rule
		}
		return a.idx < b.idx
	})
	for _, e := range paths {
		if r := c.pathRoute(h, e); r != nil {
			vh.Routes = append(vh.Routes, r)
		}
	}
	if h.def != nil {
		r := &table.Route{Source: table.Source{Kind: "Ingress", Namespace: h.def.Namespace, Name: h.def.Name, Rule: -1}}
		r.Backends = c.backend(h.def, *h.def.Spec.DefaultBackend, "spec.defaultBackend")
		r.SSLRedirect = h.def.ann.redirect(h.tls)
		vh.Default = r
	}
	return vh
}

// pathRoute is one path's Route, nil when its regex does not compile.
func (c *compiler) pathRoute(h *host, e pathEntry) *table.Route {
	r := &table.Route{Source: table.Source{Kind: "Ingress", Namespace: e.ing.Namespace, Name: e.ing.Name, Rule: e.rule, Match: e.idx}}
	field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", e.rule, e.idx)
	switch {
	case h.regex:
		re, err := regexp.Compile(`(?i)^` + e.path)
		if err != nil {
			c.problem(e.ing.Ingress, "InvalidPath", "%s.path %q is not a valid regular expression (use-regex or rewrite-target applies to every path of host %q): %v; the path is not served", field, e.path, displayHost(h.name), err)
			return nil
		}
		r.Match.Path = table.PathMatch{Type: "RegexPrefix", Value: e.path, Regex: re}
		if t, ok := e.ing.ann.rewriteTarget(); ok {
			r.Filters = []table.Filter{{Type: table.FilterRewrite, PathType: "RegexReplace", Regex: re, Path: t}}
		}
	case e.kind == "Exact" || e.kind == "Prefix":
		r.Match.Path = table.PathMatch{Type: e.kind, Value: e.path}
	default: // nginx "location /foo": a string prefix
		r.Match.Path = table.PathMatch{Type: "RegexPrefix", Value: e.path, Regex: regexp.MustCompile(`^` + regexp.QuoteMeta(e.path))}
	}
	r.Backends = c.backend(e.ing, e.backend, field+".backend")
	r.SSLRedirect = e.ing.ann.redirect(h.tls)
	return r
}

// backend resolves an Ingress backend; what cannot be resolved answers 503, as
// ingress-nginx answers for a backend it has no upstream for.
func (c *compiler) backend(ing *ingress, b networkingv1.IngressBackend, field string) []*table.Backend {
	if b.Service == nil {
		kind := "an empty backend"
		if b.Resource != nil {
			kind = fmt.Sprintf("resource %s %s", b.Resource.Kind, b.Resource.Name)
		}
		c.problem(ing.Ingress, "UnsupportedBackend", "%s is %s: podlab's controller serves Service backends only (backend.service.name and port); requests get 503", field, kind)
		return []*table.Backend{{Namespace: ing.Namespace, Weight: 1, Status: 503}}
	}
	be := &table.Backend{Namespace: ing.Namespace, Service: b.Service.Name, Port: b.Service.Port.Number, Weight: 1, Protocol: ing.ann.protocol()}
	res, p := refs.Endpoints(c.r, ing.Namespace, b.Service.Name, refs.ServicePort{Number: b.Service.Port.Number, Name: b.Service.Port.Name})
	if p != nil {
		c.problem(ing.Ingress, p.Reason, "%s.service: %s; requests get 503 until it exists: create the Service or fix the name and port", field, p.Message)
		be.Status = 503
		return []*table.Backend{be}
	}
	be.Port = res.Port.Port
	be.Endpoints = res.Endpoints
	return []*table.Backend{be}
}
