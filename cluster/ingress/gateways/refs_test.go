package gateways

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"podlab.dev/podlab/cluster/ingress/table"
)

// Modelled on HTTPRouteInvalidBackendRefUnknownKind, HTTPRouteInvalidNonExistentBackendRef,
// HTTPRouteInvalidCrossNamespaceBackendRef, HTTPRouteReferenceGrant and
// HTTPRoutePartiallyInvalidViaInvalidReferenceGrant, plus weights.
func TestBackendRefs(t *testing.T) {
	for _, c := range []struct {
		name, route, grant string
		want, conds        string
	}{
		{"unknown kind", `backendRefs: [{group: unknown.example.com, kind: Foo, name: infra-backend-v1, port: 8080}]`, "",
			"r/0/0:500*1", "Accepted=True/Accepted ResolvedRefs=False/InvalidKind"},
		{"nonexistent", `backendRefs: [{name: nonexistent, port: 8080}]`, "",
			"r/0/0:500*1", "Accepted=True/Accepted ResolvedRefs=False/BackendNotFound"},
		{"no such port", `backendRefs: [{name: infra-backend-v1, port: 9999}]`, "",
			"r/0/0:500*1", "Accepted=True/Accepted ResolvedRefs=False/BackendNotFound"},
		{"cross namespace without grant", `backendRefs: [{name: web-backend, namespace: gateway-conformance-web-backend, port: 8080}]`, "",
			"r/0/0:500*1", "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"},
		{"cross namespace with grant", `backendRefs: [{name: web-backend, namespace: gateway-conformance-web-backend, port: 8080}]`,
			`{from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gateway-conformance-infra}], to: [{group: "", kind: Service}]}`,
			"r/0/0:web-backend*1", "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"},
		{"grant names another service", `backendRefs: [{name: web-backend, namespace: gateway-conformance-web-backend, port: 8080}]`,
			`{from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: gateway-conformance-infra}], to: [{group: "", kind: Service, name: other}]}`,
			"r/0/0:500*1", "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"},
		{"grant from another namespace", `backendRefs: [{name: web-backend, namespace: gateway-conformance-web-backend, port: 8080}]`,
			`{from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: default}], to: [{group: "", kind: Service}]}`,
			"r/0/0:500*1", "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"},
		{"partially invalid", `backendRefs: [{name: infra-backend-v1, port: 8080, weight: 3}, {name: web-backend, namespace: gateway-conformance-web-backend, port: 8080}]`, "",
			"r/0/0:infra-backend-v1*3,500*1", "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"},
		{"weights, zero gets nothing", `backendRefs: [{name: infra-backend-v1, port: 8080, weight: 70}, {name: infra-backend-v2, port: 8080, weight: 30}, {name: infra-backend-v3, port: 8080, weight: 0}]`, "",
			"r/0/0:infra-backend-v1*70,infra-backend-v2*30", "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"},
		{"only weight zero", `backendRefs: [{name: infra-backend-v1, port: 8080, weight: 0}]`, "",
			"r/0/0:500", "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"},
		{"no ready endpoints", `backendRefs: [{name: no-endpoints, port: 8080}]`, "",
			"r/0/0:no-endpoints(503)*1", "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"},
		{"no backendRefs", `matches: [{path: {value: /}}]`, "",
			"r/0/0:500", "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"},
		{"extensionRef", `{filters: [{type: ExtensionRef, extensionRef: {group: example.com, kind: Foo, name: x}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}`, "",
			"r/0/0:500", "Accepted=True/Accepted ResolvedRefs=False/InvalidKind"},
		{"CORS is not supported", `{filters: [{type: CORS, cors: {allowOrigins: ["https://a.example"]}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}`, "",
			"404", "Accepted=False/UnsupportedValue ResolvedRefs=True/ResolvedRefs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rule := "- " + c.route
			m := base + services("infra-backend-v1", "infra-backend-v2", "infra-backend-v3", "gateway-conformance-web-backend/web-backend") + `
---
apiVersion: v1
kind: Service
metadata: {name: no-endpoints, annotations: {test/endpoints: ""}}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  ` + rule + "\n"
			if c.grant != "" {
				m += "---\napiVersion: gateway.networking.k8s.io/v1\nkind: ReferenceGrant\nmetadata: {name: g, namespace: gateway-conformance-web-backend}\nspec: " + c.grant + "\n"
			}
			res := compileAll(t, newStore(t, m))
			if got := serve(t, res, "same-namespace", 80, req{host: "x", path: "/"}); got != c.want {
				t.Errorf("request: got %s, want %s", got, c.want)
			}
			if got := routeConditions(t, res, "r"); got != c.conds {
				t.Errorf("conditions: got %s, want %s", got, c.conds)
			}
		})
	}
}

// Each filter, on the rule and on a backendRef, compiled as the table says.
func TestFilters(t *testing.T) {
	m := base + services("infra-backend-v1", "infra-backend-v2") + `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: same-namespace}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /headers}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: X-Set, value: s}], add: [{name: X-Add, value: a}], remove: [X-Remove]}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {add: [{name: X-Resp, value: r}]}
    - type: RequestMirror
      requestMirror: {backendRef: {name: infra-backend-v2, port: 8080}, fraction: {numerator: 1, denominator: 4}}
    backendRefs:
    - name: infra-backend-v1
      port: 8080
      filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Backend, value: v1}]}}]
  - matches: [{path: {type: PathPrefix, value: /redirect}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https, hostname: example.org, statusCode: 301, path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
  - matches: [{path: {type: Exact, value: /rewrite}}]
    filters:
    - type: URLRewrite
      urlRewrite: {hostname: rewritten.example, path: {type: ReplaceFullPath, replaceFullPath: /full}}
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /mirror-missing}}]
    filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: missing, port: 8080}, percent: 50}
    backendRefs: [{name: infra-backend-v1, port: 8080}]
`
	res := compileAll(t, newStore(t, m))
	l := res.Frontends[table.FrontendGateway("gateway-conformance-infra", "same-namespace")].Listener(80)
	route := func(path string) *table.Route {
		_, r := l.Route("x", path, nil, nil, "GET")
		if r == nil {
			t.Fatalf("%s: no route", path)
		}
		return r
	}
	h := route("/headers")
	want := []table.Filter{
		{Type: table.FilterRequestHeaders, Set: []table.Header{{Name: "X-Set", Value: "s"}}, Add: []table.Header{{Name: "X-Add", Value: "a"}}, Remove: []string{"X-Remove"}},
		{Type: table.FilterResponseHeaders, Add: []table.Header{{Name: "X-Resp", Value: "r"}}},
	}
	if !reflect.DeepEqual(h.Filters[:2], want) {
		t.Errorf("header filters: %+v", h.Filters)
	}
	if mf := h.Filters[2]; mf.Type != table.FilterMirror || mf.Percent != 25 || mf.Mirror.Service != "infra-backend-v2" || len(mf.Mirror.Endpoints) != 1 {
		t.Errorf("mirror: %+v", mf)
	}
	if bf := h.Backends[0].Filters; len(bf) != 1 || bf[0].Set[0] != (table.Header{Name: "X-Backend", Value: "v1"}) {
		t.Errorf("backend filters: %+v", bf)
	}
	r := route("/redirect/x")
	if len(r.Backends) != 0 || r.Status != 0 || len(r.Filters) != 1 {
		t.Fatalf("redirect route: %+v", r)
	}
	if f := r.Filters[0]; f.Type != table.FilterRedirect || f.Scheme != "https" || f.Hostname != "example.org" || f.StatusCode != 301 ||
		f.PathType != "ReplacePrefixMatch" || f.Path != "/new" || r.Match.Path.Value != "/redirect" {
		t.Errorf("redirect: %+v", f)
	}
	if f := route("/rewrite").Filters[0]; f.Type != table.FilterRewrite || f.Hostname != "rewritten.example" || f.PathType != "ReplaceFullPath" || f.Path != "/full" {
		t.Errorf("rewrite: %+v", f)
	}
	if mm := route("/mirror-missing"); len(mm.Filters) != 0 || len(mm.Backends) != 1 {
		t.Errorf("an unresolvable mirror is not programmed, the rule is: %+v", mm)
	}
	if got := routeConditions(t, res, "r"); got != "Accepted=True/Accepted ResolvedRefs=False/BackendNotFound" {
		t.Errorf("conditions: %s", got)
	}
}

func TestIncompatibleFilters(t *testing.T) {
	for _, c := range []struct{ name, rules, conds string }{
		{"redirect and rewrite", `
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}, {type: URLRewrite, urlRewrite: {hostname: a.example}}]`,
			"Accepted=False/IncompatibleFilters ResolvedRefs=True/ResolvedRefs"},
		{"redirect with backends", `
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]`,
			"Accepted=False/IncompatibleFilters ResolvedRefs=True/ResolvedRefs"},
		{"two header modifiers", `
  - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: a, value: b}]}}, {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: c, value: d}]}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]`,
			"Accepted=False/IncompatibleFilters ResolvedRefs=True/ResolvedRefs"},
		{"prefix rewrite on an exact match; another rule stays", `
  - matches: [{path: {type: Exact, value: /a}}]
    filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - backendRefs: [{name: infra-backend-v1, port: 8080}]`,
			"Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs PartiallyInvalid=True/IncompatibleFilters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := base + services("infra-backend-v1") + `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: same-namespace}]
  rules:` + c.rules + "\n"
			res := compileAll(t, newStore(t, m))
			if got := routeConditions(t, res, "r"); got != c.conds {
				t.Errorf("got %s, want %s", got, c.conds)
			}
		})
	}
}

// Compiling again with the status written is a no-op, even at a later time; a changed
// status takes the new time.
func TestStatusStable(t *testing.T) {
	m := base + services("infra-backend-v1") + `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r}
spec:
  parentRefs: [{name: same-namespace}, {name: not-ours}]
  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]
status:
  parents:
  - parentRef: {name: not-ours}
    controllerName: example.com/other
    conditions: [{type: Accepted, status: "True", reason: Accepted, message: "", lastTransitionTime: "2020-01-01T00:00:00Z"}]
`
	f := newStore(t, m)
	first := compileAll(t, f)
	write(f, first)
	later := Compile(f, Options{Now: metav1Later, Addresses: func(string, string) []gatewayv1StatusAddress {
		return first.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: "same-namespace"}].Addresses
	}})
	if !reflect.DeepEqual(first.Gateways, later.Gateways) || !reflect.DeepEqual(first.HTTPRoutes, later.HTTPRoutes) || !reflect.DeepEqual(first.GatewayClasses, later.GatewayClasses) {
		t.Errorf("second compile changed the status:\n%+v\n%+v", first.HTTPRoutes, later.HTTPRoutes)
	}
	st := later.HTTPRoutes[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: "r"}]
	if len(st.Parents) != 2 || st.Parents[0].ControllerName != "example.com/other" || st.Parents[1].ControllerName != ControllerName {
		t.Errorf("parents: %+v", st.Parents)
	}
	// The Gateway loses its address: Programmed changes, Accepted keeps its time.
	gone := Compile(f, Options{Now: metav1Later})
	for _, c := range gone.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: "same-namespace"}].Conditions {
		switch c.Type {
		case "Accepted":
			if !c.LastTransitionTime.Equal(&now) {
				t.Errorf("Accepted moved: %v", c.LastTransitionTime)
			}
		case "Programmed":
			if c.Status != "False" || c.Reason != "AddressNotAssigned" || !c.LastTransitionTime.Equal(&metav1Later) {
				t.Errorf("Programmed: %+v", c)
			}
		}
	}
}
