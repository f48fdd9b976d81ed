package topology

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	fieldpath "k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// gatewayAPI checks a Gateway API object as a cluster with the gateway-api v1.6 CRDs
// would: the OpenAPI schema's required fields, ranges, list sizes and patterns, and
// the CEL rules (x-kubernetes-validations) with their messages, as kubectl shows
// them. Enum values are checked with the other enums (enums.go). It is not every
// rule of the CRDs: it is what a manifest pasted from the docs or a blog gets wrong.
// Other objects are left alone.
func (d *doc) gatewayAPI(obj any) {
	g := &gatewayCheck{has: d.has}
	switch o := asV1(obj).(type) {
	case *gatewayv1.GatewayClass:
		g.gatewayClass(&o.Spec)
	case *gatewayv1.Gateway:
		g.gateway(&o.Spec)
	case *gatewayv1.HTTPRoute:
		g.httpRoute(&o.Spec)
	case *gatewayv1.GRPCRoute:
		g.grpcRoute(&o.Spec)
	case *gatewayv1.ReferenceGrant:
		g.referenceGrant(&o.Spec)
	default:
		return
	}
	d.report(g.errs, gatewayHint)
}

// asV1 is a v1beta1 Gateway API object as its v1 type (the same struct under
// another name, type Gateway v1.Gateway), anything else as it is.
func asV1(obj any) any {
	switch o := obj.(type) {
	case *gatewayv1beta1.GatewayClass:
		return (*gatewayv1.GatewayClass)(o)
	case *gatewayv1beta1.Gateway:
		return (*gatewayv1.Gateway)(o)
	case *gatewayv1beta1.HTTPRoute:
		return (*gatewayv1.HTTPRoute)(o)
	case *gatewayv1beta1.ReferenceGrant:
		return (*gatewayv1.ReferenceGrant)(o)
	}
	return obj
}

// gatewayCheck collects the errors of one object; has says whether a field is
// written in the manifest (a required field absent is "Required value", as the
// API server says before any other rule).
type gatewayCheck struct {
	has  func(path string) bool
	errs fieldpath.ErrorList
}

// The CRDs' patterns (sigs.k8s.io/gateway-api/apis/v1/shared_types.go).
const (
	hostnamePattern        = `^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	preciseHostnamePattern = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	controllerPattern      = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$`
	headerNamePattern      = `^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$`
	pathCharsPattern       = `^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`
)

var (
	hostnameRE        = regexp.MustCompile(hostnamePattern)
	preciseHostnameRE = regexp.MustCompile(preciseHostnamePattern)
	controllerRE      = regexp.MustCompile(controllerPattern)
	headerNameRE      = regexp.MustCompile(headerNamePattern)
	pathCharsRE       = regexp.MustCompile(pathCharsPattern)
)

// The checks of the OpenAPI schema, with the API server's messages.

func (g *gatewayCheck) add(e *fieldpath.Error) { g.errs = append(g.errs, e) }

// required reports path when it is not written; it says whether it is.
func (g *gatewayCheck) required(path *fieldpath.Path) bool {
	if g.has(path.String()) {
		return true
	}
	g.add(fieldpath.Required(path, ""))
	return false
}

func (g *gatewayCheck) pattern(path *fieldpath.Path, value string, re *regexp.Regexp, pattern string) {
	if !re.MatchString(value) {
		g.add(fieldpath.Invalid(path, value, fmt.Sprintf("%s in body should match '%s'", path, pattern)))
	}
}

func (g *gatewayCheck) between(path *fieldpath.Path, v, lo, hi int64) {
	switch {
	case v < lo:
		g.add(fieldpath.Invalid(path, v, fmt.Sprintf("%s in body should be greater than or equal to %d", path, lo)))
	case v > hi:
		g.add(fieldpath.Invalid(path, v, fmt.Sprintf("%s in body should be less than or equal to %d", path, hi)))
	}
}

func (g *gatewayCheck) items(path *fieldpath.Path, n, lo, hi int) {
	switch {
	case n < lo:
		g.add(fieldpath.Invalid(path, n, fmt.Sprintf("%s in body should have at least %d items", path, lo)))
	case n > hi:
		g.add(fieldpath.TooMany(path, n, hi))
	}
}

// cel reports a CEL rule of the CRD broken at path, as the API server does for
// an object ("Invalid value: \"object\": <the rule's message>").
func (g *gatewayCheck) cel(path *fieldpath.Path, msg string) {
	g.add(fieldpath.Invalid(path, "object", msg))
}

// hostname is a Hostname field: the CRD's pattern (wildcard only as a whole first
// label); IP addresses match it but are never host names, which the spec forbids.
func (g *gatewayCheck) hostname(path *fieldpath.Path, h string) {
	if netutils.ParseIPSloppy(h) != nil {
		g.add(fieldpath.Invalid(path, h, "must be a DNS name, not an IP address"))
		return
	}
	g.pattern(path, h, hostnameRE, hostnamePattern)
}

func (g *gatewayCheck) gatewayClass(spec *gatewayv1.GatewayClassSpec) {
	p := fieldpath.NewPath("spec", "controllerName")
	if g.required(p) {
		g.pattern(p, string(spec.ControllerName), controllerRE, controllerPattern)
	}
}

// coreProtocols are the listener protocols the API defines; others are
// domain-prefixed implementation protocols.
var coreProtocols = []string{"HTTP", "HTTPS", "TLS", "TCP", "UDP"}

func (g *gatewayCheck) gateway(spec *gatewayv1.GatewaySpec) {
	path := fieldpath.NewPath("spec")
	g.required(path.Child("gatewayClassName"))
	lp := path.Child("listeners")
	if !g.required(lp) {
		return
	}
	g.items(lp, len(spec.Listeners), 1, 64)
	names := map[gatewayv1.SectionName]int{}
	combos := map[string]int{}
	for i, l := range spec.Listeners {
		p := lp.Index(i)
		if g.required(p.Child("name")) {
			if _, dup := names[l.Name]; dup {
				g.cel(p.Child("name"), "Listener name must be unique within the Gateway")
			}
			names[l.Name] = i
		}
		if g.required(p.Child("port")) {
			g.between(p.Child("port"), int64(l.Port), 1, 65535)
		}
		proto := string(l.Protocol)
		if g.required(p.Child("protocol")) && !strings.Contains(proto, "/") && !contains(coreProtocols, proto) {
			g.add(fieldpath.NotSupported(p.Child("protocol"), proto, coreProtocols))
		}
		host := ""
		if l.Hostname != nil {
			host = string(*l.Hostname)
			g.hostname(p.Child("hostname"), host)
			if proto == "TCP" || proto == "UDP" {
				g.cel(p.Child("hostname"), "hostname must not be specified for protocols ['TCP', 'UDP']")
			}
		}
		combo := fmt.Sprintf("%d/%s/%t/%s", l.Port, proto, l.Hostname != nil, host)
		if _, dup := combos[combo]; dup {
			g.cel(p, "Combination of port, protocol and hostname must be unique for each listener")
		}
		combos[combo] = i
		g.listenerTLS(p, proto, l.TLS)
	}
}

func (g *gatewayCheck) listenerTLS(p *fieldpath.Path, proto string, tls *gatewayv1.ListenerTLSConfig) {
	tp := p.Child("tls")
	switch {
	case tls != nil && (proto == "HTTP" || proto == "TCP" || proto == "UDP"):
		g.cel(tp, "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']")
		return
	case tls == nil && proto == "HTTPS":
		// The CRD admits it; every controller then rejects the listener, as no
		// certificate can terminate its connections.
		g.add(fieldpath.Required(tp, "tls must be specified for protocol HTTPS"))
		return
	case tls == nil && proto == "TLS":
		g.cel(p, "tls mode must be set for protocol TLS")
		return
	case tls == nil:
		return
	}
	mode := gatewayv1.TLSModeTerminate
	if tls.Mode != nil && *tls.Mode != "" {
		mode = *tls.Mode
	}
	if proto == "HTTPS" && mode == gatewayv1.TLSModePassthrough { // another value is an enum error already
		g.cel(tp.Child("mode"), "tls mode must be Terminate for protocol HTTPS")
	}
	if mode == gatewayv1.TLSModeTerminate && len(tls.CertificateRefs) == 0 && len(tls.Options) == 0 {
		g.cel(tp, "certificateRefs or options must be specified when mode is Terminate")
	}
	for i := range tls.CertificateRefs {
		g.required(tp.Child("certificateRefs").Index(i).Child("name"))
	}
}

// commonRoute checks what every route kind has: parentRefs and hostnames.
func (g *gatewayCheck) commonRoute(spec *gatewayv1.CommonRouteSpec, hostnames []gatewayv1.Hostname) {
	path := fieldpath.NewPath("spec")
	g.items(path.Child("parentRefs"), len(spec.ParentRefs), 0, 32)
	for i, ref := range spec.ParentRefs {
		p := path.Child("parentRefs").Index(i)
		g.required(p.Child("name"))
		if ref.Port != nil {
			g.between(p.Child("port"), int64(*ref.Port), 1, 65535)
		}
	}
	g.sameParent(path.Child("parentRefs"), spec.ParentRefs)
	g.items(path.Child("hostnames"), len(hostnames), 0, 16)
	for i, h := range hostnames {
		g.hostname(path.Child("hostnames").Index(i), string(h))
	}
}

// sameParent is the standard channel's CEL rules on parentRefs: references to one
// parent (group, kind, namespace and name, with their defaults) either all name a
// sectionName or none does, and no two are the same. The error is at the later one.
func (g *gatewayCheck) sameParent(path *fieldpath.Path, refs []gatewayv1.ParentReference) {
	parent := func(r gatewayv1.ParentReference) string {
		group, kind, ns := gatewayv1.GroupName, "Gateway", ""
		if r.Group != nil {
			group = string(*r.Group)
		}
		if r.Kind != nil {
			kind = string(*r.Kind)
		}
		if r.Namespace != nil {
			ns = string(*r.Namespace)
		}
		return group + "/" + kind + "/" + ns + "/" + string(r.Name)
	}
	section := func(r gatewayv1.ParentReference) string {
		if r.SectionName == nil {
			return ""
		}
		return string(*r.SectionName)
	}
	for j := range refs {
		for i := range j {
			if parent(refs[i]) != parent(refs[j]) {
				continue
			}
			a, b := section(refs[i]), section(refs[j])
			switch {
			case (a == "") != (b == ""):
				g.cel(path.Index(j), "sectionName must be specified when parentRefs includes 2 or more references to the same parent")
			case a == b:
				g.cel(path.Index(j), "sectionName must be unique when parentRefs includes 2 or more references to the same parent")
			default:
				continue
			}
			break
		}
	}
}

func (g *gatewayCheck) backendRef(p *fieldpath.Path, ref *gatewayv1.BackendRef) {
	g.required(p.Child("name"))
	group, kind := "", "Service"
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if ref.Port == nil && group == "" && kind == "Service" {
		g.cel(p, "Must have port for Service reference")
	}
	if ref.Port != nil {
		g.between(p.Child("port"), int64(*ref.Port), 1, 65535)
	}
	if ref.Weight != nil {
		g.between(p.Child("weight"), int64(*ref.Weight), 0, 1000000)
	}
}

func (g *gatewayCheck) httpRoute(spec *gatewayv1.HTTPRouteSpec) {
	g.commonRoute(&spec.CommonRouteSpec, spec.Hostnames)
	rp := fieldpath.NewPath("spec", "rules")
	g.items(rp, len(spec.Rules), 0, 16)
	matches := 0
	for i := range spec.Rules {
		r := &spec.Rules[i]
		p := rp.Index(i)
		g.items(p.Child("matches"), len(r.Matches), 0, 64)
		matches += len(r.Matches)
		for j := range r.Matches {
			g.httpMatch(p.Child("matches").Index(j), &r.Matches[j])
		}
		g.httpFilters(p.Child("filters"), r.Filters)
		if len(r.BackendRefs) > 0 && hasFilter(r.Filters, gatewayv1.HTTPRouteFilterRequestRedirect) {
			g.cel(p, "RequestRedirect filter must not be used together with backendRefs")
		}
		g.replacePrefixMatch(p, r.Matches, r.Filters, "")
		for j := range r.BackendRefs {
			b := &r.BackendRefs[j]
			bp := p.Child("backendRefs").Index(j)
			g.backendRef(bp, &b.BackendRef)
			g.httpFilters(bp.Child("filters"), b.Filters)
			g.replacePrefixMatch(p, r.Matches, b.Filters, "Within backendRefs, ")
		}
	}
	g.totalMatches(rp, matches)
}

func (g *gatewayCheck) httpMatch(p *fieldpath.Path, m *gatewayv1.HTTPRouteMatch) {
	if m.Path != nil {
		typ, value := gatewayv1.PathMatchPathPrefix, "/"
		if m.Path.Type != nil {
			typ = *m.Path.Type
		}
		if m.Path.Value != nil {
			value = *m.Path.Value
		}
		g.pathValue(p.Child("path", "value"), string(typ), value)
	}
	for k, h := range m.Headers {
		hp := p.Child("headers").Index(k)
		if g.required(hp.Child("name")) {
			g.pattern(hp.Child("name"), string(h.Name), headerNameRE, headerNamePattern)
		}
		g.required(hp.Child("value"))
	}
	for k := range m.QueryParams {
		qp := p.Child("queryParams").Index(k)
		g.required(qp.Child("name"))
		g.required(qp.Child("value"))
	}
}

// pathValue is HTTPPathMatch's CEL rules, in the CRD's order.
func (g *gatewayCheck) pathValue(p *fieldpath.Path, typ, value string) {
	if typ != "Exact" && typ != "PathPrefix" {
		return
	}
	const types = " when type one of ['Exact', 'PathPrefix']"
	if !strings.HasPrefix(value, "/") {
		g.cel(p, "value must be an absolute path and start with '/'"+types)
	}
	for _, seq := range []string{"//", "/./", "/../", "%2f", "%2F", "#"} {
		if strings.Contains(value, seq) {
			g.cel(p, "must not contain '"+seq+"'"+types)
		}
	}
	for _, suffix := range []string{"/..", "/."} {
		if strings.HasSuffix(value, suffix) {
			g.cel(p, "must not end with '"+suffix+"'"+types)
		}
	}
	if !strings.Contains(value, "#") && !pathCharsRE.MatchString(value) {
		g.cel(p, "must only contain valid characters (matching "+pathCharsPattern+") for types ['Exact', 'PathPrefix']")
	}
}

// filterConfig is one filter type, its config field, and whether a filter sets it.
type filterConfig struct {
	typ, field string
	set        bool
}

// filterConfigs are an HTTPRoute filter's types and config fields.
func filterConfigs(f *gatewayv1.HTTPRouteFilter) []filterConfig {
	return []filterConfig{
		{"CORS", "cors", f.CORS != nil},
		{"RequestHeaderModifier", "requestHeaderModifier", f.RequestHeaderModifier != nil},
		{"ResponseHeaderModifier", "responseHeaderModifier", f.ResponseHeaderModifier != nil},
		{"RequestMirror", "requestMirror", f.RequestMirror != nil},
		{"RequestRedirect", "requestRedirect", f.RequestRedirect != nil},
		{"URLRewrite", "urlRewrite", f.URLRewrite != nil},
		{"ExtensionRef", "extensionRef", f.ExtensionRef != nil},
	}
}

// grpcFilterConfigs are a GRPCRoute filter's.
func grpcFilterConfigs(f *gatewayv1.GRPCRouteFilter) []filterConfig {
	return []filterConfig{
		{"RequestHeaderModifier", "requestHeaderModifier", f.RequestHeaderModifier != nil},
		{"ResponseHeaderModifier", "responseHeaderModifier", f.ResponseHeaderModifier != nil},
		{"RequestMirror", "requestMirror", f.RequestMirror != nil},
		{"ExtensionRef", "extensionRef", f.ExtensionRef != nil},
	}
}

// filter checks the filter at p of type typ (false when it has none): its type
// sets its own config field and no other.
func (g *gatewayCheck) filter(p *fieldpath.Path, typ string, configs []filterConfig) bool {
	if !g.required(p.Child("type")) {
		return false
	}
	for _, c := range configs {
		switch {
		case c.set && typ != c.typ:
			g.cel(p.Child(c.field), "filter."+c.field+" must be nil if the filter.type is not "+c.typ)
		case !c.set && typ == c.typ:
			g.cel(p, "filter."+c.field+" must be specified for "+c.typ+" filter.type")
		}
	}
	if g.has(p.Child("requestMirror").String()) {
		g.required(p.Child("requestMirror", "backendRef", "name"))
	}
	return true
}

// repeated reports the filter types of once that count has more than once.
func (g *gatewayCheck) repeated(path *fieldpath.Path, count map[string]int, once ...string) {
	for _, t := range once {
		if count[t] > 1 {
			g.cel(path, t+" filter cannot be repeated")
		}
	}
}

func (g *gatewayCheck) httpFilters(path *fieldpath.Path, filters []gatewayv1.HTTPRouteFilter) {
	count := map[string]int{}
	for i := range filters {
		f := &filters[i]
		p := path.Index(i)
		if !g.filter(p, string(f.Type), filterConfigs(f)) {
			continue
		}
		count[string(f.Type)]++
		if r := f.RequestRedirect; r != nil {
			rp := p.Child("requestRedirect")
			if r.Port != nil {
				g.between(rp.Child("port"), int64(*r.Port), 1, 65535)
			}
			if r.Hostname != nil {
				g.pattern(rp.Child("hostname"), string(*r.Hostname), preciseHostnameRE, preciseHostnamePattern)
			}
			g.pathModifier(rp.Child("path"), r.Path)
		}
		if r := f.URLRewrite; r != nil {
			up := p.Child("urlRewrite")
			if r.Hostname != nil {
				g.pattern(up.Child("hostname"), string(*r.Hostname), preciseHostnameRE, preciseHostnamePattern)
			}
			g.pathModifier(up.Child("path"), r.Path)
		}
	}
	if count["RequestRedirect"] > 0 && count["URLRewrite"] > 0 {
		g.cel(path, "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both")
	}
	g.repeated(path, count, "CORS", "RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect", "URLRewrite")
}

func (g *gatewayCheck) grpcFilters(path *fieldpath.Path, filters []gatewayv1.GRPCRouteFilter) {
	count := map[string]int{}
	for i := range filters {
		if g.filter(path.Index(i), string(filters[i].Type), grpcFilterConfigs(&filters[i])) {
			count[string(filters[i].Type)]++
		}
	}
	g.repeated(path, count, "RequestHeaderModifier", "ResponseHeaderModifier")
}

func (g *gatewayCheck) pathModifier(p *fieldpath.Path, m *gatewayv1.HTTPPathModifier) {
	if m == nil || !g.required(p.Child("type")) {
		return
	}
	// Every rule is checked, as the API server reports each one that fails.
	if m.Type == gatewayv1.FullPathHTTPPathModifier && m.ReplaceFullPath == nil {
		g.cel(p, "replaceFullPath must be specified when type is set to 'ReplaceFullPath'")
	}
	if m.ReplaceFullPath != nil && m.Type != gatewayv1.FullPathHTTPPathModifier {
		g.cel(p, "type must be 'ReplaceFullPath' when replaceFullPath is set")
	}
	if m.Type == gatewayv1.PrefixMatchHTTPPathModifier && m.ReplacePrefixMatch == nil {
		g.cel(p, "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'")
	}
	if m.ReplacePrefixMatch != nil && m.Type != gatewayv1.PrefixMatchHTTPPathModifier {
		g.cel(p, "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set")
	}
}

// replacePrefixMatch is the rule-level CEL rule: a ReplacePrefixMatch path modifier
// needs exactly one match, a PathPrefix one (prefix is "Within backendRefs, " for
// the filters of a backendRef).
func (g *gatewayCheck) replacePrefixMatch(p *fieldpath.Path, matches []gatewayv1.HTTPRouteMatch, filters []gatewayv1.HTTPRouteFilter, prefix string) {
	for i := range filters {
		f := &filters[i]
		var m *gatewayv1.HTTPPathModifier
		name := "RequestRedirect"
		if f.RequestRedirect != nil {
			m = f.RequestRedirect.Path
		} else if f.URLRewrite != nil {
			m, name = f.URLRewrite.Path, "URLRewrite"
		}
		if m == nil || m.Type != gatewayv1.PrefixMatchHTTPPathModifier || m.ReplacePrefixMatch == nil {
			continue
		}
		if len(matches) == 1 && isPathPrefix(matches[0].Path) {
			continue
		}
		using := "When"
		if prefix != "" && name == "RequestRedirect" {
			using = "when" // as the CRD's message: "Within backendRefs, when using RequestRedirect" but "..., When using URLRewrite"
		}
		g.cel(p, prefix+using+" using "+name+" filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified")
	}
}

func isPathPrefix(m *gatewayv1.HTTPPathMatch) bool {
	return m == nil || m.Type == nil || *m.Type == gatewayv1.PathMatchPathPrefix
}

func hasFilter(filters []gatewayv1.HTTPRouteFilter, t gatewayv1.HTTPRouteFilterType) bool {
	for _, f := range filters {
		if f.Type == t {
			return true
		}
	}
	return false
}

func (g *gatewayCheck) grpcRoute(spec *gatewayv1.GRPCRouteSpec) {
	g.commonRoute(&spec.CommonRouteSpec, spec.Hostnames)
	rp := fieldpath.NewPath("spec", "rules")
	g.items(rp, len(spec.Rules), 0, 16)
	matches := 0
	for i := range spec.Rules {
		r := &spec.Rules[i]
		p := rp.Index(i)
		g.items(p.Child("matches"), len(r.Matches), 0, 64)
		matches += len(r.Matches)
		for j, m := range r.Matches {
			mp := p.Child("matches").Index(j)
			if m.Method != nil && m.Method.Service == nil && m.Method.Method == nil {
				g.cel(mp.Child("method"), "One or both of 'service' or 'method' must be specified")
			}
			for k := range m.Headers {
				hp := mp.Child("headers").Index(k)
				g.required(hp.Child("name"))
				g.required(hp.Child("value"))
			}
		}
		g.grpcFilters(p.Child("filters"), r.Filters)
		for j := range r.BackendRefs {
			bp := p.Child("backendRefs").Index(j)
			g.backendRef(bp, &r.BackendRefs[j].BackendRef)
			g.grpcFilters(bp.Child("filters"), r.BackendRefs[j].Filters)
		}
	}
	g.totalMatches(rp, matches)
}

// totalMatches is the routes' CEL rule on the number of matches of all rules.
func (g *gatewayCheck) totalMatches(rules *fieldpath.Path, n int) {
	if n > 128 {
		g.cel(rules, "While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128")
	}
}

func (g *gatewayCheck) referenceGrant(spec *gatewayv1.ReferenceGrantSpec) {
	path := fieldpath.NewPath("spec")
	if g.required(path.Child("from")) {
		g.items(path.Child("from"), len(spec.From), 1, 16)
	}
	if g.required(path.Child("to")) {
		g.items(path.Child("to"), len(spec.To), 1, 16)
	}
	for i, f := range spec.From {
		p := path.Child("from").Index(i)
		g.required(p.Child("group"))
		g.required(p.Child("kind"))
		if g.required(p.Child("namespace")) {
			for _, msg := range validation.IsDNS1123Label(string(f.Namespace)) {
				g.add(fieldpath.Invalid(p.Child("namespace"), f.Namespace, msg))
			}
		}
	}
	for i := range spec.To {
		p := path.Child("to").Index(i)
		g.required(p.Child("group"))
		g.required(p.Child("kind"))
	}
}

// gatewayHint says how to fix what the message names.
func gatewayHint(e *fieldpath.Error) string {
	leaf := e.Field[strings.LastIndexAny(e.Field, ".]")+1:]
	d := e.Detail
	switch {
	case leaf == "controllerName":
		return "controllerName is a domain-prefixed path naming the controller, e.g. example.net/gateway-controller"
	case leaf == "gatewayClassName":
		return "gatewayClassName names the GatewayClass whose controller runs this Gateway"
	case leaf == "listeners" && e.Type == fieldpath.ErrorTypeRequired:
		return "a Gateway listens on at least one listener:\n  listeners:\n    - name: http\n      port: 80\n      protocol: HTTP"
	case leaf == "name" && strings.HasPrefix(e.Field, "spec.listeners["):
		return "each listener has a name, unique in the Gateway; routes attach to it with sectionName"
	case leaf == "protocol":
		return "HTTP, HTTPS, TLS, TCP or UDP (upper case), or an implementation's domain/path protocol"
	case strings.Contains(d, "must be a DNS name, not an IP address"):
		return "hostnames are names matched against the Host header (and SNI): leave it out to match every host"
	case strings.Contains(d, "should match '"+hostnamePattern+"'"), strings.Contains(d, "should match '"+preciseHostnamePattern+"'"):
		return "a lower-case DNS name without scheme, port or path, e.g. app.example.com;\nwhere allowed, *.example.com (\"*\" only as the whole first label)"
	case strings.HasPrefix(d, "tls must not be specified"):
		return "drop tls, or make the listener protocol: HTTPS (port 443) to terminate TLS"
	case strings.HasPrefix(d, "tls must be specified"), strings.HasPrefix(d, "certificateRefs or options"):
		return "an HTTPS listener terminates TLS with a kubernetes.io/tls Secret:\n  tls:\n    mode: Terminate\n    certificateRefs:\n      - name: web-cert"
	case strings.HasPrefix(d, "tls mode must be Terminate"):
		return "HTTPS terminates TLS at the Gateway: mode: Terminate (the default);\nto pass TLS through to the backend use protocol: TLS with a TLSRoute"
	case strings.HasPrefix(d, "hostname must not be specified"):
		return "TCP and UDP carry no host name to match: drop hostname, or use protocol HTTP, HTTPS or TLS"
	case strings.HasPrefix(d, "sectionName must be"):
		return "to attach to several listeners of one Gateway, give each parentRef its own sectionName (a listener name);\nto attach to all of them, keep one parentRef without sectionName"
	case strings.Contains(d, "unique"):
		return "each listener needs its own name, and its own port, protocol and hostname combination"
	case strings.Contains(d, "when type one of ['Exact', 'PathPrefix']"), strings.Contains(d, "valid characters"):
		return "an Exact or PathPrefix value is a normalized absolute path such as /api/v1;\nfor patterns use type: RegularExpression"
	case strings.HasPrefix(d, "filter."):
		return "a filter sets the field named by its type, e.g.\n  - type: RequestHeaderModifier\n    requestHeaderModifier:\n      add:\n        - {name: X-Lab, value: podlab}"
	case strings.HasPrefix(d, "May specify either"), strings.Contains(d, "together with backendRefs"):
		return "a RequestRedirect answers the request itself: put it in its own rule, without backendRefs or URLRewrite"
	case strings.Contains(d, "replacePrefixMatch"), strings.Contains(d, "ReplaceFullPath"), strings.Contains(d, "ReplacePrefixMatch"):
		return "ReplacePrefixMatch replaces the prefix the rule matched: the rule needs exactly one match, a PathPrefix one;\nto set the whole path use type: ReplaceFullPath with replaceFullPath"
	case strings.HasSuffix(d, "filter cannot be repeated"):
		return "a rule takes this filter once: merge the two (a header modifier can set, add and remove several headers)"
	case strings.Contains(e.Field, ".headers[") && leaf == "name":
		return "a header name is one token, without spaces or colon, e.g. X-Request-Id"
	case strings.HasPrefix(d, "One or both of 'service' or 'method'"):
		return "a gRPC method match names the service (com.example.User), the method (Login) or both"
	case d == "Must have port for Service reference":
		return "give the Service's port (not the targetPort): backendRefs:\n  - name: web\n    port: 80"
	case leaf == "weight":
		return "weights are 0..1000000, relative to the rule's other backendRefs; 0 sends no traffic"
	case leaf == "name" && strings.Contains(e.Field, "parentRefs"):
		return "parentRefs name the Gateway to attach to:\n  parentRefs:\n    - name: my-gateway"
	case leaf == "port":
		return "a port is 1..65535"
	case strings.HasPrefix(e.Field, "spec.from"):
		return "from lists who may refer here: group, kind and namespace of the referring objects, e.g.\n  from:\n    - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: front}"
	case strings.HasPrefix(e.Field, "spec.to"):
		return "to lists what of this namespace they may refer to, e.g.\n  to:\n    - {group: \"\", kind: Service}"
	}
	return ""
}
