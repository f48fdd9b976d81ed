// Package convert turns an Ingress into the Gateway API objects that serve it the
// same way, as kubernetes-sigs/ingress2gateway does for ingress-nginx: a Gateway
// named after the class with an HTTP listener per host ("http" for the rules without
// host, "<host>-http" otherwise; dots and other non-alphanumerics become dashes) and
// an HTTPS listener ("<host>-https") for each host spec.tls lists; one HTTPRoute per
// host named "<ingress>-<host>" ("<ingress>-all-hosts" without host), and
// "<ingress>-default-backend" for spec.defaultBackend (a PathPrefix / rule that,
// having no hostnames, takes what no other route matches, as the Ingress's default
// backend did). What cannot be said in Gateway API, or says something different, is
// a note; the output is meant to be read, then pasted into a lab.
//
// Paths: Prefix -> PathPrefix, Exact -> Exact, ImplementationSpecific -> PathPrefix
// (with a note: nginx matched a string prefix). With use-regex or rewrite-target,
// paths with regex characters become RegularExpression "<path>.*" (nginx's regex
// locations match at the start). rewrite-target: without $N references, a URLRewrite
// ReplaceFullPath (nginx replaces the whole path: rewrite-target "/" sends
// /something/foo as "/"); the docs' idiom "<prefix>(/|$)(.*)" with "/$2" becomes
// PathPrefix <prefix> with ReplacePrefixMatch "/"; other capture groups have no
// Gateway API equivalent (a note). ssl-redirect (hosts with TLS, unless "false") and
// force-ssl-redirect: an "<route>-ssl-redirect" HTTPRoute on the HTTP listener
// answering 308 to https, the route itself moved to the HTTPS listener.
package convert

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

const nginx = "nginx.ingress.kubernetes.io/"

// converted annotations; every other nginx one gets a note.
var converted = map[string]bool{
	nginx + "use-regex": true, nginx + "rewrite-target": true,
	nginx + "ssl-redirect": true, nginx + "force-ssl-redirect": true,
}

// Options tune a conversion.
type Options struct {
	GatewayClass string // the Gateway's class and name: "podlab"
	// ServicePort finds the number of a Service's named port (a backendRef needs a
	// number); nil or not found: a note, and the port left for the user to fill.
	ServicePort func(namespace, service, port string) (int32, bool)
}

// ToGatewayAPI converts ing for a Gateway of class gatewayClass.
func ToGatewayAPI(ing *networkingv1.Ingress, gatewayClass string) (*gatewayv1.Gateway, []*gatewayv1.HTTPRoute, []string) {
	return Convert(ing, Options{GatewayClass: gatewayClass})
}

type converter struct {
	ing   *networkingv1.Ingress
	o     Options
	notes []string
}

func (c *converter) note(format string, args ...any) {
	c.notes = append(c.notes, fmt.Sprintf(format, args...))
}

// Convert is ToGatewayAPI with every option.
func Convert(ing *networkingv1.Ingress, o Options) (*gatewayv1.Gateway, []*gatewayv1.HTTPRoute, []string) {
	c := &converter{ing: ing, o: o}
	gw := &gatewayv1.Gateway{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "Gateway"},
		ObjectMeta: metav1.ObjectMeta{Name: o.GatewayClass, Namespace: ing.Namespace},
		Spec:       gatewayv1.GatewaySpec{GatewayClassName: gatewayv1.ObjectName(o.GatewayClass)},
	}
	c.annotationNotes()
	secrets, anyTLS := c.tlsSecrets()
	regexHost := c.bool("use-regex") || ing.Annotations[nginx+"rewrite-target"] != ""
	var routes []*gatewayv1.HTTPRoute
	byHost := map[string]*gatewayv1.HTTPRoute{}
	seen := map[string]bool{}
	for ri, rule := range ing.Spec.Rules {
		host := rule.Host
		rt := byHost[host]
		if rt == nil {
			rt = c.hostRoute(gw, host, secrets[host], anyTLS)
			byHost[host] = rt
			routes = append(routes, rt)
		}
		if rule.HTTP == nil {
			continue
		}
		for pi, p := range rule.HTTP.Paths {
			field := fmt.Sprintf("spec.rules[%d].http.paths[%d]", ri, pi)
			kind := networkingv1.PathTypeImplementationSpecific
			if p.PathType != nil {
				kind = *p.PathType
			}
			if k := host + "\x00" + string(kind) + "\x00" + p.Path; seen[k] {
				c.note("%s: path %q (%s) repeats an earlier one for host %q; only the first is kept, as ingress-nginx did", field, p.Path, kind, displayHost(host))
				continue
			} else {
				seen[k] = true
			}
			r := gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{{Path: c.pathMatch(field, p.Path, kind, regexHost)}}}
			if f := c.rewrite(field, p.Path, r.Matches[0].Path); f != nil {
				r.Filters = []gatewayv1.HTTPRouteFilter{*f}
			}
			if b, ok := c.backendRef(field+".backend", p.Backend); ok {
				r.BackendRefs = []gatewayv1.HTTPBackendRef{{BackendRef: b}}
			}
			rt.Spec.Rules = append(rt.Spec.Rules, r)
		}
	}
	// ssl-redirect: the redirect takes the HTTP listener, the route the HTTPS one.
	for _, rt := range append([]*gatewayv1.HTTPRoute(nil), routes...) {
		host := ""
		if len(rt.Spec.Hostnames) > 0 {
			host = string(rt.Spec.Hostnames[0])
		}
		if red := c.sslRedirect(rt, host, len(secrets[host]) > 0); red != nil {
			routes = append(routes, red)
		}
	}
	if db := ing.Spec.DefaultBackend; db != nil {
		rt := c.route(ing.Name+"-default-backend", gatewayv1.ParentReference{Name: gatewayv1.ObjectName(o.GatewayClass)})
		rule := gatewayv1.HTTPRouteRule{Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr("/")}}}}
		if b, ok := c.backendRef("spec.defaultBackend", *db); ok {
			rule.BackendRefs = []gatewayv1.HTTPBackendRef{{BackendRef: b}}
		}
		rt.Spec.Rules = []gatewayv1.HTTPRouteRule{rule}
		routes = append(routes, rt)
		if byHost[""] == nil { // the default backend also serves hosts no rule names
			gw.Spec.Listeners = append(gw.Spec.Listeners, gatewayv1.Listener{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType})
		}
	}
	return gw, routes, c.notes
}

func displayHost(h string) string {
	if h == "" {
		return "*"
	}
	return h
}

// NameFromHost is ingress2gateway's listener and route name part for a host:
// non-alphanumerics as dashes, "all-hosts" for none.
func NameFromHost(host string) string {
	if host == "" || host == "*" {
		return "all-hosts"
	}
	return strings.TrimLeft(nonAlnum.ReplaceAllString(host, "-"), "-")
}

var nonAlnum = regexp.MustCompile(`[^a-zA-Z0-9]+`)

// listenerName is "http"/"https" for no host, "<host>-http"/"<host>-https" otherwise.
func listenerName(host, proto string) gatewayv1.SectionName {
	if host == "" {
		return gatewayv1.SectionName(proto)
	}
	return gatewayv1.SectionName(NameFromHost(host) + "-" + proto)
}

func (c *converter) route(name string, parent gatewayv1.ParentReference) *gatewayv1.HTTPRoute {
	return &gatewayv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.ing.Namespace},
		Spec:       gatewayv1.HTTPRouteSpec{CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{parent}}},
	}
}

// hostRoute adds host's listeners to gw and makes its (empty) HTTPRoute.
func (c *converter) hostRoute(gw *gatewayv1.Gateway, host string, secrets []string, anyTLS bool) *gatewayv1.HTTPRoute {
	var hn *gatewayv1.Hostname
	if host != "" {
		hn = ptr(gatewayv1.Hostname(host))
	}
	gw.Spec.Listeners = append(gw.Spec.Listeners, gatewayv1.Listener{Name: listenerName(host, "http"), Hostname: hn, Port: 80, Protocol: gatewayv1.HTTPProtocolType})
	if len(secrets) > 0 {
		tlsc := &gatewayv1.ListenerTLSConfig{Mode: ptr(gatewayv1.TLSModeTerminate)}
		for _, s := range secrets {
			tlsc.CertificateRefs = append(tlsc.CertificateRefs, gatewayv1.SecretObjectReference{Name: gatewayv1.ObjectName(s)})
		}
		gw.Spec.Listeners = append(gw.Spec.Listeners, gatewayv1.Listener{Name: listenerName(host, "https"), Hostname: hn, Port: 443, Protocol: gatewayv1.HTTPSProtocolType, TLS: tlsc})
	}
	rt := c.route(c.ing.Name+"-"+NameFromHost(host), gatewayv1.ParentReference{Name: gatewayv1.ObjectName(c.o.GatewayClass)})
	if hn != nil {
		rt.Spec.Hostnames = []gatewayv1.Hostname{*hn}
	}
	return rt
}

// tlsSecrets is each host's Secrets from spec.tls; an entry without hosts serves
// every rule host (anyTLS), as ingress-nginx used it for them.
func (c *converter) tlsSecrets() (map[string][]string, bool) {
	out := map[string][]string{}
	anyTLS := false
	var anySecret string
	for i, t := range c.ing.Spec.TLS {
		if t.SecretName == "" {
			c.note("spec.tls[%d] has no secretName: ingress-nginx served its default certificate; a Gateway HTTPS listener needs a certificateRefs Secret, so %v get no HTTPS listener", i, t.Hosts)
			continue
		}
		if len(t.Hosts) == 0 {
			anyTLS, anySecret = true, t.SecretName
		}
		for _, h := range t.Hosts {
			out[h] = append(out[h], t.SecretName)
		}
	}
	if anyTLS {
		for _, r := range c.ing.Spec.Rules {
			if len(out[r.Host]) == 0 {
				out[r.Host] = []string{anySecret}
			}
		}
	}
	return out, anyTLS
}

func (c *converter) bool(name string) bool {
	b, _ := strconv.ParseBool(c.ing.Annotations[nginx+name])
	return b
}

func (c *converter) annotationNotes() {
	var keys []string
	for k := range c.ing.Annotations {
		if strings.HasPrefix(k, nginx) && !converted[k] {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case nginx + "backend-protocol":
			c.note("annotation %s: %s is not converted; TLS to the backends is a BackendTLSPolicy in Gateway API", k, c.ing.Annotations[k])
		default:
			c.note("annotation %s is not converted", k)
		}
	}
	if cl := c.ing.Annotations["kubernetes.io/ingress.class"]; cl != "" {
		c.note("annotation kubernetes.io/ingress.class: %s is replaced by the Gateway's gatewayClassName %s", cl, c.o.GatewayClass)
	}
}

var regexChars = regexp.MustCompile(`[\[\](){}*+?|^$\\]`)

// pathMatch maps an Ingress path to an HTTPRoute path match.
func (c *converter) pathMatch(field, path string, kind networkingv1.PathType, regexHost bool) *gatewayv1.HTTPPathMatch {
	if regexHost && regexChars.MatchString(path) {
		if prefix, ok := stripIdiom(path, c.ing.Annotations[nginx+"rewrite-target"]); ok {
			return &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr(prefix)}
		}
		c.note("%s: path %q is an nginx regex (use-regex or rewrite-target): RegularExpression %q; nginx matched it case-insensitively, Gateway API's is case-sensitive", field, path, path+".*")
		return &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchRegularExpression), Value: ptr(path + ".*")}
	}
	switch kind {
	case networkingv1.PathTypeExact:
		return &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchExact), Value: ptr(path)}
	case networkingv1.PathTypePrefix:
	default:
		if path == "" {
			path = "/"
		}
		c.note("%s: pathType ImplementationSpecific %q becomes PathPrefix: nginx matched a string prefix (%q also matched %q), PathPrefix matches whole path segments", field, path, path, strings.TrimRight(path, "/")+"x")
	}
	return &gatewayv1.HTTPPathMatch{Type: ptr(gatewayv1.PathMatchPathPrefix), Value: ptr(path)}
}

// stripIdiom recognises the rewrite-target docs' prefix-stripping idiom: path
// "<prefix>(/|$)(.*)" with target "/$2" is PathPrefix <prefix> and
// ReplacePrefixMatch "/".
func stripIdiom(path, target string) (string, bool) {
	prefix, ok := strings.CutSuffix(path, "(/|$)(.*)")
	if !ok || target != "/$2" || prefix == "" || regexChars.MatchString(prefix) {
		return "", false
	}
	return prefix, true
}

var captureRef = regexp.MustCompile(`\$[0-9]`)

// rewrite is the rewrite-target annotation's filter for one path, if it has one.
func (c *converter) rewrite(field, path string, m *gatewayv1.HTTPPathMatch) *gatewayv1.HTTPRouteFilter {
	target := c.ing.Annotations[nginx+"rewrite-target"]
	if target == "" {
		return nil
	}
	mod := &gatewayv1.HTTPPathModifier{Type: gatewayv1.FullPathHTTPPathModifier, ReplaceFullPath: ptr(target)}
	switch {
	case *m.Type == gatewayv1.PathMatchPathPrefix && target == "/$2" && path != *m.Value:
		mod = &gatewayv1.HTTPPathModifier{Type: gatewayv1.PrefixMatchHTTPPathModifier, ReplacePrefixMatch: ptr("/")}
		c.note("%s: rewrite-target %s with path %q strips the prefix: PathPrefix %q with URLRewrite ReplacePrefixMatch \"/\"", field, target, path, *m.Value)
	case captureRef.MatchString(target):
		c.note("%s: rewrite-target %s uses capture groups of path %q: Gateway API has no regex rewrite, so this path is not rewritten; use a PathPrefix match with ReplacePrefixMatch if it strips a prefix", field, target, path)
		return nil
	default:
		c.note("%s: rewrite-target %s becomes URLRewrite ReplaceFullPath %q, as nginx replaced the whole path (%s/foo was sent as %s); if you meant to strip the prefix, use ReplacePrefixMatch", field, target, target, strings.TrimRight(path, "/"), target)
	}
	return &gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: &gatewayv1.HTTPURLRewriteFilter{Path: mod}}
}

// backendRef maps an Ingress backend.
func (c *converter) backendRef(field string, b networkingv1.IngressBackend) (gatewayv1.BackendRef, bool) {
	if b.Resource != nil {
		c.note("%s: resource %s %s is kept as a backendRef of that kind; the Gateway's controller must support it", field, b.Resource.Kind, b.Resource.Name)
		return gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{
			Group: (*gatewayv1.Group)(b.Resource.APIGroup), Kind: ptr(gatewayv1.Kind(b.Resource.Kind)), Name: gatewayv1.ObjectName(b.Resource.Name)}}, true
	}
	if b.Service == nil {
		return gatewayv1.BackendRef{}, false
	}
	ref := gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(b.Service.Name)}}
	port := b.Service.Port.Number
	if port == 0 && b.Service.Port.Name != "" {
		if c.o.ServicePort != nil {
			if p, ok := c.o.ServicePort(c.ing.Namespace, b.Service.Name, b.Service.Port.Name); ok {
				port = p
			}
		}
		if port == 0 {
			c.note("%s: service %s port %q is a name; a backendRef needs the port number: fill it in", field, b.Service.Name, b.Service.Port.Name)
		}
	}
	if port != 0 {
		ref.Port = ptr(gatewayv1.PortNumber(port))
	}
	return ref, true
}

// sslRedirect moves rt to the HTTPS listener and returns the redirect route for the
// HTTP one, when ingress-nginx would have redirected.
func (c *converter) sslRedirect(rt *gatewayv1.HTTPRoute, host string, hasTLS bool) *gatewayv1.HTTPRoute {
	on := hasTLS
	if v, ok := c.ing.Annotations[nginx+"ssl-redirect"]; ok {
		b, err := strconv.ParseBool(v)
		on = hasTLS && (err != nil || b)
	}
	if c.bool("force-ssl-redirect") {
		if !hasTLS {
			c.note("force-ssl-redirect for host %q, which has no TLS here: not converted (an https listener needs a certificate)", displayHost(host))
		}
		on = on || hasTLS
	}
	if !on {
		return nil
	}
	gwName := gatewayv1.ObjectName(c.o.GatewayClass)
	rt.Spec.ParentRefs = []gatewayv1.ParentReference{{Name: gwName, SectionName: ptr(listenerName(host, "https"))}}
	red := c.route(rt.Name+"-ssl-redirect", gatewayv1.ParentReference{Name: gwName, SectionName: ptr(listenerName(host, "http"))})
	red.Spec.Hostnames = rt.Spec.Hostnames
	red.Spec.Rules = []gatewayv1.HTTPRouteRule{{Filters: []gatewayv1.HTTPRouteFilter{{
		Type:            gatewayv1.HTTPRouteFilterRequestRedirect,
		RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{Scheme: ptr("https"), StatusCode: ptr(308)},
	}}}}
	return red
}

func ptr[T any](v T) *T { return &v }
