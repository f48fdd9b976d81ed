package gateways

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/cluster/ingress/refs"
	"podlab.dev/podlab/cluster/ingress/table"
)

// compiledRoute is an HTTPRoute's rules as table Routes, independent of its parents.
type compiledRoute struct {
	routes []*table.Route // every valid rule's matches, in rule and match order
	// invalid rules are dropped: the first one's reason (UnsupportedValue,
	// IncompatibleFilters) and message; when no rule is left the route is not accepted.
	invalid, invalidMsg string
	validRules          int
	// the first reference that did not resolve (ResolvedRefs False).
	unresolved, unresolvedMsg string
}

// routeError is a rule that cannot be programmed, with the Accepted reason to give.
type routeError struct{ reason, msg string }

func (e *routeError) Error() string { return e.msg }

func unsupported(format string, args ...any) *routeError {
	return &routeError{"UnsupportedValue", fmt.Sprintf(format, args...)}
}

func incompatible(format string, args ...any) *routeError {
	return &routeError{"IncompatibleFilters", fmt.Sprintf(format, args...)}
}

// compileRoute compiles every rule of hr.
func (c *compile) compileRoute(hr *gatewayv1.HTTPRoute) *compiledRoute {
	cr := &compiledRoute{}
	rules := hr.Spec.Rules
	if len(rules) == 0 {
		rules = []gatewayv1.HTTPRouteRule{{}} // the API's default: one rule, PathPrefix /
	}
	for ri, rule := range rules {
		rs, err := c.rule(hr, ri, rule, cr)
		if err != nil {
			if cr.invalid == "" {
				cr.invalid, cr.invalidMsg = err.reason, fmt.Sprintf("rules[%d]: %s", ri, err.msg)
			}
			c.problem("HTTPRoute", hr.Namespace, hr.Name, err.reason, "rules[%d]: %s", ri, err.msg)
			continue
		}
		cr.validRules++
		cr.routes = append(cr.routes, rs...)
	}
	return cr
}

// rule is one rule's table Routes, one per match, sharing filters and backends.
func (c *compile) rule(hr *gatewayv1.HTTPRoute, ri int, rule gatewayv1.HTTPRouteRule, cr *compiledRoute) ([]*table.Route, *routeError) {
	matches := rule.Matches
	if len(matches) == 0 {
		matches = []gatewayv1.HTTPRouteMatch{{}}
	}
	ms := make([]table.Match, len(matches))
	prefixOnly := true
	for i, m := range matches {
		tm, err := match(m)
		if err != nil {
			return nil, unsupported("matches[%d]: %s", i, err.msg)
		}
		prefixOnly = prefixOnly && tm.Path.Type == "Prefix"
		ms[i] = tm
	}
	filters, status, err := c.filters(hr, rule.Filters, prefixOnly, cr, fmt.Sprintf("rules[%d].filters", ri))
	if err != nil {
		return nil, err
	}
	redirect := false
	for _, f := range filters {
		redirect = redirect || f.Type == table.FilterRedirect
	}
	if redirect && len(rule.BackendRefs) > 0 {
		return nil, incompatible("a RequestRedirect filter answers the request itself: it takes no backendRefs")
	}
	var timeout time.Duration
	if t := rule.Timeouts; t != nil {
		for _, d := range []*gatewayv1.Duration{t.Request, t.BackendRequest} {
			if d != nil {
				if v, perr := time.ParseDuration(string(*d)); perr == nil {
					timeout = v
				}
			}
		}
	}
	var backends []*table.Backend
	for bi, br := range rule.BackendRefs {
		weight := int32(1)
		if br.Weight != nil {
			weight = *br.Weight
		}
		b := c.backend(hr, br.BackendObjectReference, weight, cr, fmt.Sprintf("rules[%d].backendRefs[%d]", ri, bi))
		bf, bstatus, err := c.filters(hr, br.Filters, prefixOnly, cr, fmt.Sprintf("rules[%d].backendRefs[%d].filters", ri, bi))
		if err != nil {
			return nil, err
		}
		if bstatus != 0 && b.Status == 0 {
			b.Status = bstatus
		}
		b.Filters, b.Timeout = bf, timeout
		if weight > 0 {
			backends = append(backends, b)
		}
	}
	if status == 0 && len(backends) == 0 && !redirect {
		// No backendRefs (or every weight 0) and nothing that answers: the API's 500.
		status = 500
	}
	if status != 0 {
		backends = nil
	}
	out := make([]*table.Route, len(ms))
	for i, m := range ms {
		out[i] = &table.Route{
			Source:   table.Source{Kind: "HTTPRoute", Namespace: hr.Namespace, Name: hr.Name, Rule: ri, Match: i},
			Match:    m,
			Filters:  filters,
			Backends: backends,
			Status:   status,
		}
	}
	return out, nil
}

// match is one HTTPRouteMatch in the table's terms. Only the first header (case
// insensitive) or query parameter entry of each name counts, as the API says.
func match(m gatewayv1.HTTPRouteMatch) (table.Match, *routeError) {
	tm := table.Match{Path: table.PathMatch{Type: "Prefix", Value: "/"}}
	if p := m.Path; p != nil {
		typ := gatewayv1.PathMatchPathPrefix
		if p.Type != nil {
			typ = *p.Type
		}
		val := "/"
		if p.Value != nil {
			val = *p.Value
		}
		switch typ {
		case gatewayv1.PathMatchExact:
			tm.Path = table.PathMatch{Type: "Exact", Value: val}
		case gatewayv1.PathMatchPathPrefix:
			tm.Path = table.PathMatch{Type: "Prefix", Value: val}
		case gatewayv1.PathMatchRegularExpression:
			// RE2 (Go regexp), anchored to the whole path.
			re, err := regexp.Compile(`^(?:` + val + `)$`)
			if err != nil {
				return tm, unsupported("path %q is not a valid regular expression (RE2): %v", val, err)
			}
			tm.Path = table.PathMatch{Type: "RegularExpression", Value: val, Regex: re}
		default:
			return tm, unsupported("path type %q is not supported (Exact, PathPrefix, RegularExpression)", typ)
		}
	}
	seen := map[string]bool{}
	for _, h := range m.Headers {
		name := strings.ToLower(string(h.Name))
		if seen[name] {
			continue
		}
		seen[name] = true
		vm, err := valueMatch(string(h.Name), h.Value, (*string)(h.Type), "header")
		if err != nil {
			return tm, err
		}
		tm.Headers = append(tm.Headers, vm)
	}
	seen = map[string]bool{}
	for _, q := range m.QueryParams {
		if seen[string(q.Name)] {
			continue
		}
		seen[string(q.Name)] = true
		vm, err := valueMatch(string(q.Name), q.Value, (*string)(q.Type), "query parameter")
		if err != nil {
			return tm, err
		}
		tm.Query = append(tm.Query, vm)
	}
	if m.Method != nil {
		tm.Method = string(*m.Method)
	}
	return tm, nil
}

func valueMatch(name, value string, typ *string, what string) (table.ValueMatch, *routeError) {
	vm := table.ValueMatch{Name: name, Value: value}
	if typ == nil || *typ == "Exact" {
		return vm, nil
	}
	if *typ != "RegularExpression" {
		return vm, unsupported("%s %s: match type %q is not supported (Exact, RegularExpression)", what, name, *typ)
	}
	re, err := regexp.Compile(value)
	if err != nil {
		return vm, unsupported("%s %s: %q is not a valid regular expression (RE2): %v", what, name, value, err)
	}
	vm.Regex = re
	return vm, nil
}

// filters compiles a rule's (or a backendRef's) filters in order. status is 500 when
// a filter cannot be honoured but must not be skipped (ExtensionRef: podlab has no
// extensions). prefixOnly says every match of the rule is a PathPrefix, which
// ReplacePrefixMatch needs.
func (c *compile) filters(hr *gatewayv1.HTTPRoute, fs []gatewayv1.HTTPRouteFilter, prefixOnly bool, cr *compiledRoute, at string) ([]table.Filter, int, *routeError) {
	var out []table.Filter
	status := 0
	count := map[gatewayv1.HTTPRouteFilterType]int{}
	for i, f := range fs {
		count[f.Type]++
		switch f.Type {
		case gatewayv1.HTTPRouteFilterRequestHeaderModifier, gatewayv1.HTTPRouteFilterResponseHeaderModifier,
			gatewayv1.HTTPRouteFilterRequestRedirect, gatewayv1.HTTPRouteFilterURLRewrite:
			if count[f.Type] > 1 {
				return nil, 0, incompatible("%s[%d]: at most one %s filter per list", at, i, f.Type)
			}
		}
		switch f.Type {
		case gatewayv1.HTTPRouteFilterRequestHeaderModifier:
			out = append(out, headerFilter(table.FilterRequestHeaders, f.RequestHeaderModifier))
		case gatewayv1.HTTPRouteFilterResponseHeaderModifier:
			out = append(out, headerFilter(table.FilterResponseHeaders, f.ResponseHeaderModifier))
		case gatewayv1.HTTPRouteFilterRequestRedirect:
			rr := f.RequestRedirect
			if rr == nil {
				return nil, 0, unsupported("%s[%d]: type RequestRedirect needs requestRedirect", at, i)
			}
			tf := table.Filter{Type: table.FilterRedirect, StatusCode: 302}
			if rr.Scheme != nil {
				tf.Scheme = *rr.Scheme
			}
			if rr.Hostname != nil {
				tf.Hostname = string(*rr.Hostname)
			}
			if rr.Port != nil {
				tf.Port = *rr.Port
			}
			if rr.StatusCode != nil {
				tf.StatusCode = *rr.StatusCode
			}
			if err := pathModifier(&tf, rr.Path, prefixOnly, fmt.Sprintf("%s[%d].requestRedirect.path", at, i)); err != nil {
				return nil, 0, err
			}
			out = append(out, tf)
		case gatewayv1.HTTPRouteFilterURLRewrite:
			rw := f.URLRewrite
			if rw == nil {
				return nil, 0, unsupported("%s[%d]: type URLRewrite needs urlRewrite", at, i)
			}
			tf := table.Filter{Type: table.FilterRewrite}
			if rw.Hostname != nil {
				tf.Hostname = string(*rw.Hostname)
			}
			if err := pathModifier(&tf, rw.Path, prefixOnly, fmt.Sprintf("%s[%d].urlRewrite.path", at, i)); err != nil {
				return nil, 0, err
			}
			out = append(out, tf)
		case gatewayv1.HTTPRouteFilterRequestMirror:
			m := f.RequestMirror
			if m == nil {
				return nil, 0, unsupported("%s[%d]: type RequestMirror needs requestMirror", at, i)
			}
			b := c.backend(hr, m.BackendRef, 1, cr, fmt.Sprintf("%s[%d].requestMirror.backendRef", at, i))
			if b.Status != 0 {
				continue // not programmed; ResolvedRefs says why
			}
			pct := 100.0
			if m.Percent != nil {
				pct = float64(*m.Percent)
			} else if fr := m.Fraction; fr != nil {
				den := int32(100)
				if fr.Denominator != nil {
					den = *fr.Denominator
				}
				if den > 0 {
					pct = 100 * float64(fr.Numerator) / float64(den)
				}
			}
			out = append(out, table.Filter{Type: table.FilterMirror, Mirror: b, Percent: pct})
		case gatewayv1.HTTPRouteFilterExtensionRef:
			// Never skipped: the requests it would have handled get 500.
			status = 500
			ref := f.ExtensionRef
			msg := fmt.Sprintf("%s[%d]: podlab implements no ExtensionRef filters", at, i)
			if ref != nil {
				msg = fmt.Sprintf("%s[%d]: extensionRef %s/%s %s: podlab implements no extension filters; requests get 500", at, i, ref.Group, ref.Kind, ref.Name)
			}
			if cr.unresolved == "" {
				cr.unresolved, cr.unresolvedMsg = "InvalidKind", msg
			}
			c.problem("HTTPRoute", hr.Namespace, hr.Name, "InvalidKind", "%s", msg)
		default:
			return nil, 0, unsupported("%s[%d]: filter type %q is not supported by podlab (RequestHeaderModifier, ResponseHeaderModifier, RequestRedirect, URLRewrite, RequestMirror)", at, i, f.Type)
		}
	}
	if count[gatewayv1.HTTPRouteFilterRequestRedirect] > 0 && count[gatewayv1.HTTPRouteFilterURLRewrite] > 0 {
		return nil, 0, incompatible("%s: RequestRedirect and URLRewrite cannot be used together", at)
	}
	return out, status, nil
}

func headerFilter(typ string, h *gatewayv1.HTTPHeaderFilter) table.Filter {
	f := table.Filter{Type: typ}
	if h == nil {
		return f
	}
	for _, s := range h.Set {
		f.Set = append(f.Set, table.Header{Name: string(s.Name), Value: s.Value})
	}
	for _, a := range h.Add {
		f.Add = append(f.Add, table.Header{Name: string(a.Name), Value: a.Value})
	}
	f.Remove = append(f.Remove, h.Remove...)
	return f
}

func pathModifier(tf *table.Filter, p *gatewayv1.HTTPPathModifier, prefixOnly bool, at string) *routeError {
	if p == nil {
		return nil
	}
	switch p.Type {
	case gatewayv1.FullPathHTTPPathModifier:
		tf.PathType = "ReplaceFullPath"
		if p.ReplaceFullPath != nil {
			tf.Path = *p.ReplaceFullPath
		}
	case gatewayv1.PrefixMatchHTTPPathModifier:
		if !prefixOnly {
			return incompatible("%s: ReplacePrefixMatch needs every match of the rule to be a PathPrefix", at)
		}
		tf.PathType = "ReplacePrefixMatch"
		if p.ReplacePrefixMatch != nil {
			tf.Path = *p.ReplacePrefixMatch
		}
	default:
		return unsupported("%s: type %q is not supported (ReplaceFullPath, ReplacePrefixMatch)", at, p.Type)
	}
	return nil
}

// backend resolves a backendRef. An invalid one answers 500 for its share and is
// recorded as the route's ResolvedRefs problem; a Service with no ready endpoint is
// valid and answers 503 (no Endpoints).
func (c *compile) backend(hr *gatewayv1.HTTPRoute, ref gatewayv1.BackendObjectReference, weight int32, cr *compiledRoute, at string) *table.Backend {
	ns := hr.Namespace
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	b := &table.Backend{Namespace: ns, Service: string(ref.Name), Weight: weight, Protocol: "HTTP"}
	if ref.Port != nil {
		b.Port = *ref.Port
	}
	group, kind := "", "Service"
	if ref.Group != nil {
		group = string(*ref.Group)
	}
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	var p *refs.Problem
	switch {
	case group != "" || kind != "Service":
		p = &refs.Problem{Reason: "InvalidKind", Message: fmt.Sprintf("%s: %s/%s %s is not a Service (group \"\", kind Service)", at, group, kind, ref.Name)}
	case !granted(c.r, "HTTPRoute", hr.Namespace, "Service", ns, string(ref.Name)):
		p = &refs.Problem{Reason: "RefNotPermitted", Message: fmt.Sprintf("%s: Service %s/%s is in another namespace and no ReferenceGrant there allows it", at, ns, ref.Name)}
	case ref.Port == nil:
		p = &refs.Problem{Reason: "BackendNotFound", Message: fmt.Sprintf("%s: Service %s/%s: port is required", at, ns, ref.Name)}
	default:
		res, rp := refs.Endpoints(c.r, ns, string(ref.Name), refs.ServicePort{Number: *ref.Port})
		if rp != nil {
			p = &refs.Problem{Reason: rp.Reason, Message: at + ": " + rp.Message}
		} else {
			b.Endpoints = res.Endpoints
		}
	}
	if p != nil {
		b.Status = 500
		if cr.unresolved == "" {
			cr.unresolved, cr.unresolvedMsg = p.Reason, p.Message
		}
		c.problem("HTTPRoute", hr.Namespace, hr.Name, p.Reason, "%s", p.Message)
	}
	return b
}
