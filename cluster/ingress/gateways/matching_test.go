package gateways

import "testing"

// Modelled on HTTPRouteMatchingAcrossRoutes, HTTPRouteMatching,
// HTTPRouteHeaderMatching, HTTPRouteQueryParamMatching and HTTPRouteMethodMatching:
// precedence runs over every rule of every route on the listener.
func TestMatchingPrecedence(t *testing.T) {
	f := newStore(t, base, services("infra-backend-v1", "infra-backend-v2", "infra-backend-v3"), `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching-part1, creationTimestamp: "2026-01-01T00:00:00Z"}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: [example.com, example.net]
  rules:
  - matches: [{path: {type: PathPrefix, value: /}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{headers: [{name: version, value: one}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: matching-part2, creationTimestamp: "2026-01-01T00:00:01Z"}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: [example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}, {headers: [{name: version, value: two}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{path: {type: Exact, value: /v2/exact}}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /v2}, method: POST}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /v2}, headers: [{name: color, value: red}, {name: Color, value: ignored}]}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
  - matches: [{path: {type: PathPrefix, value: /v2}, queryParams: [{name: animal, value: whale}]}]
    backendRefs: [{name: infra-backend-v2, port: 8080}]
  - matches: [{path: {type: RegularExpression, value: "/re/[0-9]+"}}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
  - matches: [{headers: [{name: x-re, type: RegularExpression, value: "^ab+c$"}]}]
    backendRefs: [{name: infra-backend-v3, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: a-younger-same-path, creationTimestamp: "2026-01-02T00:00:00Z"}
spec:
  parentRefs: [{name: same-namespace}]
  hostnames: [example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v2}}]
    backendRefs: [{name: infra-backend-v1, port: 8080}]
`)
	res := compileAll(t, f)
	checkRequests(t, res, "same-namespace", 80, []req{
		{host: "example.com", path: "/", want: "matching-part1/0/0:infra-backend-v1"},
		{host: "example.net", path: "/", want: "matching-part1/0/0"},
		{host: "example.net", path: "/v2", want: "matching-part1/0/0"}, // part2 is example.com only
		{host: "example.com", path: "/v2", want: "matching-part2/0/0:infra-backend-v2"},
		{host: "example.com", path: "/v2/", want: "matching-part2/0/0"},
		{host: "example.com", path: "/v2example", want: "matching-part1/0/0"},
		{host: "example.com", path: "/v2/exact", want: "matching-part2/1/0:infra-backend-v3"},
		{host: "example.com", path: "/v2/exact/", want: "matching-part2/0/0"},
		{host: "example.com", path: "/v2", method: "POST", want: "matching-part2/2/0"},
		// a method beats headers, headers beat query params
		{host: "example.com", path: "/v2", method: "POST", headers: map[string]string{"color": "red"}, want: "matching-part2/2/0"},
		{host: "example.com", path: "/v2", headers: map[string]string{"COLOR": "red"}, query: "animal=whale", want: "matching-part2/3/0"},
		{host: "example.com", path: "/v2", query: "animal=whale", want: "matching-part2/4/0"},
		{host: "example.com", path: "/v2", query: "animal=dolphin", want: "matching-part2/0/0"},
		// header match on "/": part1's rule 1 has a header match, part2's rule 0
		// match 1 too; same path and header count: the older route wins.
		{host: "example.com", path: "/", headers: map[string]string{"version": "one"}, want: "matching-part1/1/0"},
		{host: "example.com", path: "/", headers: map[string]string{"version": "two"}, want: "matching-part2/0/1"},
		{host: "example.net", path: "/", headers: map[string]string{"version": "two"}, want: "matching-part1/0/0"},
		{host: "example.com", path: "/re/123", want: "matching-part2/5/0"},
		{host: "example.com", path: "/re/123/x", want: "matching-part1/0/0"},
		{host: "example.com", path: "/x", headers: map[string]string{"x-re": "abbbc"}, want: "matching-part2/6/0"},
		{host: "example.com", path: "/x", headers: map[string]string{"x-re": "abcd"}, want: "matching-part1/0/0"},
		{host: "other.org", path: "/", want: "404"},
	})
	if got := routeConditions(t, res, "matching-part2"); got != "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs" {
		t.Errorf("matching-part2 conditions: %s", got)
	}
}

// Modelled on HTTPRouteHostnameIntersection, HTTPRouteListenerHostnameMatching and
// GatewayHTTPListenerIsolation: route hostnames intersect the listener's; a request
// goes to the most specific listener and never falls through to another's routes.
func TestHostnames(t *testing.T) {
	f := newStore(t, base, services("infra-backend-v1", "infra-backend-v2", "infra-backend-v3"), `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: isolation}
spec:
  gatewayClassName: podlab
  listeners:
  - {name: empty-hostname, port: 80, protocol: HTTP}
  - {name: wildcard-example-com, port: 80, protocol: HTTP, hostname: "*.example.com"}
  - {name: wildcard-foo-example-com, port: 80, protocol: HTTP, hostname: "*.foo.example.com"}
  - {name: abc-foo-example-com, port: 80, protocol: HTTP, hostname: "abc.foo.example.com"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: attaches-to-empty-hostname}
spec:
  parentRefs: [{name: isolation, sectionName: empty-hostname}]
  rules: [{matches: [{path: {type: PathPrefix, value: /empty-hostname}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: attaches-to-wildcard-example-com}
spec:
  parentRefs: [{name: isolation, sectionName: wildcard-example-com}]
  rules: [{matches: [{path: {type: PathPrefix, value: /wildcard-example-com}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: attaches-to-wildcard-foo-example-com}
spec:
  parentRefs: [{name: isolation, sectionName: wildcard-foo-example-com}]
  rules: [{matches: [{path: {type: PathPrefix, value: /wildcard-foo-example-com}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: attaches-to-abc-foo-example-com}
spec:
  parentRefs: [{name: isolation, sectionName: abc-foo-example-com}]
  rules: [{matches: [{path: {type: PathPrefix, value: /abc-foo-example-com}}], backendRefs: [{name: infra-backend-v1, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: all-listeners-specific-hosts}
spec:
  parentRefs: [{name: isolation}]
  hostnames: [bar.foo.example.com, "*.wild.example.com", very.specific.com]
  rules: [{backendRefs: [{name: infra-backend-v2, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: no-intersection}
spec:
  parentRefs: [{name: isolation, sectionName: wildcard-foo-example-com}]
  hostnames: [other.example.org]
  rules: [{backendRefs: [{name: infra-backend-v2, port: 8080}]}]
`)
	res := compileAll(t, f)
	checkRequests(t, res, "isolation", 80, []req{
		{host: "bar.com", path: "/empty-hostname", want: "attaches-to-empty-hostname/0/0"},
		{host: "bar.com", path: "/wildcard-example-com", want: "404"},
		{host: "bar.example.com", path: "/wildcard-example-com", want: "attaches-to-wildcard-example-com/0/0"},
		{host: "bar.example.com", path: "/empty-hostname", want: "404"}, // isolation
		{host: "baz.bar.example.com", path: "/wildcard-example-com", want: "attaches-to-wildcard-example-com/0/0"},
		{host: "qux.foo.example.com", path: "/wildcard-foo-example-com", want: "attaches-to-wildcard-foo-example-com/0/0"},
		{host: "qux.foo.example.com", path: "/wildcard-example-com", want: "404"},
		{host: "abc.foo.example.com", path: "/abc-foo-example-com", want: "attaches-to-abc-foo-example-com/0/0"},
		{host: "abc.foo.example.com", path: "/wildcard-foo-example-com", want: "404"},
		// the route on every listener: a more specific route hostname comes first
		// (precedence 1), whatever the paths.
		{host: "bar.foo.example.com", path: "/", want: "all-listeners-specific-hosts/0/0"},
		{host: "bar.foo.example.com", path: "/wildcard-foo-example-com", want: "all-listeners-specific-hosts/0/0"},
		{host: "x.wild.example.com", path: "/", want: "all-listeners-specific-hosts/0/0"},
		{host: "x.wild.example.com", path: "/wildcard-example-com", want: "all-listeners-specific-hosts/0/0"},
		{host: "very.specific.com", path: "/empty-hostname", want: "all-listeners-specific-hosts/0/0"},
		{host: "very.specific.com", path: "/other", want: "all-listeners-specific-hosts/0/0"},
		{host: "abc.foo.example.com", path: "/", want: "404"},
		{host: "example.com", path: "/wildcard-example-com", want: "404"}, // a wildcard never matches its parent
	})
	if got := routeConditions(t, res, "no-intersection"); got != "Accepted=False/NoMatchingListenerHostname ResolvedRefs=True/ResolvedRefs" {
		t.Errorf("no-intersection: %s", got)
	}
	want := `empty-hostname: Accepted=True/Accepted Programmed=True/Programmed ResolvedRefs=True/ResolvedRefs Conflicted=False/NoConflicts attached=2 kinds=HTTPRoute
wildcard-example-com: Accepted=True/Accepted Programmed=True/Programmed ResolvedRefs=True/ResolvedRefs Conflicted=False/NoConflicts attached=2 kinds=HTTPRoute
wildcard-foo-example-com: Accepted=True/Accepted Programmed=True/Programmed ResolvedRefs=True/ResolvedRefs Conflicted=False/NoConflicts attached=2 kinds=HTTPRoute
abc-foo-example-com: Accepted=True/Accepted Programmed=True/Programmed ResolvedRefs=True/ResolvedRefs Conflicted=False/NoConflicts attached=1 kinds=HTTPRoute`
	if got := listenerStatus(res, "isolation"); got != want {
		t.Errorf("listeners:\n%s\nwant\n%s", got, want)
	}
}
