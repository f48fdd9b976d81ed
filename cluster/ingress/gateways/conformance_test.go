package gateways

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// conformanceStore loads the conformance suite's base manifests and one test's
// manifests (testdata/conformance, copied from kubernetes-sigs/gateway-api at the
// commit in COMMIT), with our class standing for {GATEWAY_CLASS_NAME}.
func conformanceStore(t *testing.T, test string) *fakeStore {
	t.Helper()
	var docs []string
	for _, f := range []string{"base.yaml", test + ".yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "conformance", f))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, strings.ReplaceAll(string(b), "{GATEWAY_CLASS_NAME}", "podlab"))
	}
	return newStore(t, append([]string{`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: podlab}
spec: {controllerName: podlab.dev/gateway-controller}`}, docs...)...)
}

const noHost = "Accepted=False/NoMatchingListenerHostname ResolvedRefs=True/ResolvedRefs"

// The requests of the conformance tests of the same names, and the backend
// (Service) they expect, or "404". The compiled table is walked as the proxy walks it.
func TestConformanceRouting(t *testing.T) {
	type r = req
	h := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		test, gateway string
		reqs          []req
		// attached is the gateway's listeners' attachedRoutes, when checked.
		attached string
		// routes are the conditions of routes that are not Accepted and
		// ResolvedRefs True ("Accepted=False/NoMatchingParent ResolvedRefs=...").
		routes map[string]string
	}{
		{"httproute-matching-across-routes", "same-namespace", []req{
			{host: "example.com", path: "/", want: "infra-backend-v1"},
			{host: "example.com", path: "/example", want: "infra-backend-v1"},
			{host: "example.net", path: "/example", want: "infra-backend-v1"},
			{host: "example.com", path: "/example", headers: h("Version", "one"), want: "infra-backend-v1"},
			{host: "example.com", path: "/v2", want: "infra-backend-v2"},
			{host: "example.net", path: "/v2", want: "infra-backend-v1"},
			{host: "example.com", path: "/v2/example", want: "infra-backend-v2"},
			{host: "example.com", path: "/", headers: h("Version", "two"), want: "infra-backend-v2"},
		}, "", nil},
		{"httproute-matching", "same-namespace", []req{
			{path: "/", want: "infra-backend-v1"},
			{path: "/example", want: "infra-backend-v1"},
			{path: "/", headers: h("Version", "one"), want: "infra-backend-v1"},
			{path: "/v2", want: "infra-backend-v2"},
			{path: "/v2/example", want: "infra-backend-v2"},
			{path: "/", headers: h("Version", "two"), want: "infra-backend-v2"},
			{path: "/v2/", want: "infra-backend-v2"},
			{path: "/v2example", want: "infra-backend-v1"},
			{path: "/foo/v2/example", want: "infra-backend-v1"},
		}, "", nil},
		{"httproute-method-matching", "same-namespace", []req{
			{method: "POST", path: "/", want: "infra-backend-v1"},
			{method: "GET", path: "/", want: "infra-backend-v2"},
			{method: "HEAD", path: "/", want: "404"},
			{path: "/path1", method: "GET", want: "infra-backend-v1"},
			{headers: h("version", "one"), path: "/", method: "PUT", want: "infra-backend-v2"},
			{headers: h("version", "two"), path: "/path2", method: "POST", want: "infra-backend-v3"},
			{path: "/path3", method: "PATCH", want: "infra-backend-v1"},
			{headers: h("version", "three"), path: "/path4", method: "DELETE", want: "infra-backend-v1"},
			{path: "/", method: "PUT", want: "404"},
			{path: "/path4", method: "DELETE", want: "404"},
			{path: "/path5", method: "PATCH", want: "infra-backend-v1"},
			{headers: h("version", "four"), path: "/", method: "PATCH", want: "infra-backend-v2"},
		}, "", nil},
		{"httproute-header-matching", "same-namespace", []req{
			{path: "/", headers: h("Version", "one"), want: "infra-backend-v1"},
			{path: "/", headers: h("Version", "two"), want: "infra-backend-v2"},
			{path: "/", headers: h("Version", "two", "Color", "orange"), want: "infra-backend-v1"},
			{path: "/", headers: h("Version", "two", "Color", "blue"), want: "infra-backend-v2"},
			{path: "/", headers: h("Color", "orange"), want: "404"},
			{path: "/", headers: h("Some-Other-Header", "one"), want: "404"},
			{path: "/", headers: h("Color", "blue"), want: "infra-backend-v1"},
			{path: "/", headers: h("Color", "green"), want: "infra-backend-v1"},
			{path: "/", headers: h("Color", "red"), want: "infra-backend-v2"},
			{path: "/", headers: h("Color", "yellow"), want: "infra-backend-v2"},
			{path: "/", headers: h("Color", "purple"), want: "404"},
		}, "", nil},
		{"httproute-query-param-matching", "same-namespace", []req{
			{path: "/", query: "animal=whale", want: "infra-backend-v1"},
			{path: "/", query: "animal=dolphin", want: "infra-backend-v2"},
			{path: "/", query: "animal=dolphin&color=blue", want: "infra-backend-v3"},
			{path: "/", query: "ANIMAL=Whale", want: "infra-backend-v3"},
			{path: "/", query: "animal=whale&otherparam=irrelevant", want: "infra-backend-v1"},
			{path: "/", query: "animal=dolphin&color=yellow", want: "infra-backend-v2"},
			{path: "/", query: "color=blue", want: "404"},
			{path: "/", query: "animal=dog", want: "404"},
			{path: "/", query: "animal=whaledolphin", want: "404"},
			{path: "/", want: "404"},
			{path: "/path1", query: "animal=whale", want: "infra-backend-v1"},
			{headers: h("version", "one"), path: "/", query: "animal=whale", want: "infra-backend-v2"},
			{headers: h("version", "two"), path: "/path2", query: "animal=whale", want: "infra-backend-v3"},
			{path: "/path3", query: "animal=shark", want: "infra-backend-v1"},
			{headers: h("version", "three"), path: "/path4", query: "animal=kraken", want: "infra-backend-v1"},
			{path: "/", query: "animal=shark", want: "404"},
			{path: "/path4", query: "animal=kraken", want: "404"},
			{path: "/path5", query: "animal=hydra", want: "infra-backend-v1"},
			{headers: h("version", "four"), path: "/", query: "animal=hydra", want: "infra-backend-v3"},
		}, "", nil},
		{"httproute-listener-hostname-matching", "httproute-listener-hostname-matching", []req{
			{host: "bar.com", path: "/", want: "infra-backend-v1"},
			{host: "foo.bar.com", path: "/", want: "infra-backend-v2"},
			{host: "baz.bar.com", path: "/", want: "infra-backend-v3"},
			{host: "boo.bar.com", path: "/", want: "infra-backend-v3"},
			{host: "multiple.prefixes.bar.com", path: "/", want: "infra-backend-v3"},
			{host: "multiple.prefixes.foo.com", path: "/", want: "infra-backend-v3"},
			{host: "foo.com", path: "/", want: "404"},
			{host: "no.matching.host", path: "/", want: "404"},
		}, "", nil},
		{"gateway-http-listener-isolation", "http-listener-isolation", []req{
			{host: "bar.com", path: "/empty-hostname", want: "infra-backend-v1"},
			{host: "bar.com", path: "/wildcard-example-com", want: "404"},
			{host: "bar.com", path: "/wildcard-foo-example-com", want: "404"},
			{host: "bar.com", path: "/abc-foo-example-com", want: "404"},
			{host: "bar.example.com", path: "/empty-hostname", want: "404"},
			{host: "bar.example.com", path: "/wildcard-example-com", want: "infra-backend-v1"},
			{host: "bar.example.com", path: "/wildcard-foo-example-com", want: "404"},
			{host: "bar.example.com", path: "/abc-foo-example-com", want: "404"},
			{host: "bar.foo.example.com", path: "/empty-hostname", want: "404"},
			{host: "bar.foo.example.com", path: "/wildcard-example-com", want: "404"},
			{host: "bar.foo.example.com", path: "/wildcard-foo-example-com", want: "infra-backend-v1"},
			{host: "bar.foo.example.com", path: "/abc-foo-example-com", want: "404"},
			{host: "abc.foo.example.com", path: "/empty-hostname", want: "404"},
			{host: "abc.foo.example.com", path: "/wildcard-example-com", want: "404"},
			{host: "abc.foo.example.com", path: "/wildcard-foo-example-com", want: "404"},
			{host: "abc.foo.example.com", path: "/abc-foo-example-com", want: "infra-backend-v1"},
		}, "", nil},
		{"httproute-hostname-intersection", "httproute-hostname-intersection", []req{
			{host: "very.specific.com", path: "/s1", want: "infra-backend-v1"},
			{host: "very.specific.com:1234", path: "/s1", want: "infra-backend-v1"},
			{host: "non.matching.com", path: "/s1", want: "404"},
			{host: "foo.nonmatchingwildcard.io", path: "/s1", want: "404"},
			{host: "foo.wildcard.io", path: "/s1", want: "404"},
			{host: "very.specific.com", path: "/non-matching-prefix", want: "404"},
			{host: "foo.wildcard.io", path: "/s2", want: "infra-backend-v2"},
			{host: "bar.wildcard.io", path: "/s2", want: "infra-backend-v2"},
			{host: "foo.bar.wildcard.io", path: "/s2", want: "infra-backend-v2"},
			{host: "non.matching.com", path: "/s2", want: "404"},
			{host: "wildcard.io", path: "/s2", want: "404"},
			{host: "very.specific.com", path: "/s2", want: "404"},
			{host: "foo.wildcard.io", path: "/non-matching-prefix", want: "404"},
			{host: "very.specific.com", path: "/s3", want: "infra-backend-v3"},
			{host: "non.matching.com", path: "/s3", want: "404"},
			{host: "foo.specific.com", path: "/s3", want: "404"},
			{host: "foo.wildcard.io", path: "/s3", want: "404"},
			{host: "foo.anotherwildcard.io", path: "/s4", want: "infra-backend-v1"},
			{host: "bar.anotherwildcard.io", path: "/s4", want: "infra-backend-v1"},
			{host: "foo.bar.anotherwildcard.io", path: "/s4", want: "infra-backend-v1"},
			{host: "anotherwildcard.io", path: "/s4", want: "404"},
			{host: "foo.wildcard.io", path: "/s4", want: "404"},
			{host: "very.specific.com", path: "/s4", want: "404"},
			{host: "foo.anotherwildcard.io", path: "/non-matching-prefix", want: "404"},
			{host: "specific.but.wrong.com", path: "/s5", want: "404"},
			{host: "wildcard.io", path: "/s5", want: "404"},
		}, "listener-1=2 listener-2=1 listener-3=1", map[string]string{"no-intersecting-hosts": noHost}},
		{"httproute-hostname-intersection", "httproute-hostname-intersection-all", []req{
			{host: "first.com", path: "/", want: "infra-backend-v2"},
			{host: "sub.first.com", path: "/", want: "infra-backend-v2"},
			{host: "second.com", path: "/", want: "infra-backend-v2"},
			{host: "sub.second.com", path: "/", want: "infra-backend-v2"},
			{host: "third.com", path: "/", want: "404"},
			{host: "sub.third.com", path: "/", want: "404"},
		}, "listener-1=1", map[string]string{"no-intersecting-hosts": noHost}},
		{"httproute-path-match-order", "same-namespace", []req{
			{path: "/match/exact/one", want: "infra-backend-v3"},
			{path: "/match/exact", want: "infra-backend-v2"},
			{path: "/match", want: "infra-backend-v1"},
			{path: "/match/prefix/one/any", want: "infra-backend-v2"},
			{path: "/match/prefix/any", want: "infra-backend-v1"},
			{path: "/match/any", want: "infra-backend-v3"},
		}, "", nil},
		{"httproute-omitted-backendrefs", "same-namespace", []req{
			{path: "/forward", want: "infra-backend-v1"},
			{path: "/omitted-no-forward", want: "500"},
			{path: "/empty-no-forward", want: "500"},
		}, "", nil},
		{"httproute-exact-path-matching", "same-namespace", []req{
			{path: "/one", want: "infra-backend-v1"},
			{path: "/two", want: "infra-backend-v2"},
			{path: "/", want: "404"},
			{path: "/one/example", want: "404"},
			{path: "/two/", want: "404"},
			{path: "/Two", want: "404"},
		}, "", nil},
		{"httproute-cross-namespace", "backend-namespaces", []req{
			{path: "/", want: "web-backend"},
		}, "", nil},
		{"httproute-reference-grant", "same-namespace", []req{
			{path: "/", want: "web-backend"},
		}, "", nil},
		{"httproute-invalid-cross-namespace-backend-ref", "same-namespace", []req{
			{path: "/", want: "500"},
		}, "", map[string]string{"invalid-cross-namespace-backend-ref": "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"}},
		{"httproute-invalid-nonexistent-backendref", "same-namespace", []req{
			{path: "/", want: "500"},
		}, "", map[string]string{"invalid-nonexistent-backend-ref": "Accepted=True/Accepted ResolvedRefs=False/BackendNotFound"}},
		{"httproute-invalid-backendref-unknown-kind", "same-namespace", []req{
			{path: "/v2", want: "500"},
		}, "", map[string]string{"invalid-backend-ref-unknown-kind": "Accepted=True/Accepted ResolvedRefs=False/InvalidKind"}},
		{"httproute-partially-invalid-via-invalid-reference-grant", "same-namespace", []req{
			{path: "/v2", want: "500"},
			{path: "/", want: "app-backend-v1"},
		}, "", map[string]string{"invalid-reference-grant": "Accepted=True/Accepted ResolvedRefs=False/RefNotPermitted"}},
		{"httproute-listener-port-matching", "httproute-listener-port-matching", []req{
			{host: "foo.com", path: "/", want: "infra-backend-v1"},
			{host: "foo.com:8080", path: "/", want: "infra-backend-v2"},
			{host: "bar.com:8080", path: "/", want: "infra-backend-v2"},
			{host: "foo.com:8090", path: "/", want: "infra-backend-v3"},
			{host: "bar.com:8090", path: "/", want: "404"},
		}, "", nil},
		{"httproute-multiple-gateways", "same-namespace", []req{
			{path: "/shared", want: "infra-backend-v1"},
			{path: "/", want: "infra-backend-v2"},
		}, "", nil},
		{"httproute-multiple-gateways", "all-namespaces", []req{
			{path: "/shared", want: "infra-backend-v1"},
			{path: "/", want: "infra-backend-v3"},
		}, "", nil},
		{"httproute-simple-same-namespace", "same-namespace", []req{
			{path: "/", want: "infra-backend-v1"},
		}, "", nil},
		{"httproute-disallowed-kind", "same-namespace", nil, "", map[string]string{"disallowed-kind": "Accepted=False/NotAllowedByListeners ResolvedRefs=True/ResolvedRefs"}},
	} {
		t.Run(c.test+"/"+c.gateway, func(t *testing.T) {
			res := compileAll(t, conformanceStore(t, c.test))
			for _, q := range c.reqs {
				if q.host == "" {
					q.host = "example.com"
				}
				got := "404"
				if rt := walk(t, res, c.gateway, q); rt != nil {
					switch {
					case rt.Status != 0:
						got = fmt.Sprint(rt.Status)
					case len(rt.Backends) == 1 && rt.Backends[0].Status != 0:
						got = fmt.Sprint(rt.Backends[0].Status)
					case len(rt.Backends) == 1:
						got = rt.Backends[0].Service
					default:
						got = "several backends: " + routeName(rt)
					}
				}
				if got != q.want {
					t.Errorf("%s %s%s?%s %v: got %s, want %s", q.method, q.host, q.path, q.query, q.headers, got, q.want)
				}
			}
			if c.attached != "" {
				var got []string
				for _, l := range res.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: c.gateway}].Listeners {
					got = append(got, fmt.Sprintf("%s=%d", l.Name, l.AttachedRoutes))
				}
				if strings.Join(got, " ") != c.attached {
					t.Errorf("attachedRoutes %v, want %s", got, c.attached)
				}
			}
			for k, st := range res.HTTPRoutes {
				want, ok := c.routes[k.Name]
				if !ok {
					want = "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs"
				}
				for _, p := range st.Parents {
					if got := conditions(p.Conditions); got != want {
						t.Errorf("route %s, parent %s: %s, want %s", k.Name, p.ParentRef.Name, got, want)
					}
				}
			}
		})
	}
}

// The status the conformance tests of the same names expect, on their manifests,
// with the Secrets the suite makes ("certificate" in the web backends' namespace,
// "tls-validity-checks-certificate" in the infrastructure's). Each want lists
// "Type=Status/Reason" conditions that must be present ("Type=Status/" takes any
// reason), and attached=N.
func TestConformanceStatus(t *testing.T) {
	for _, c := range []struct {
		test, gateway, listener string // listener "": the Gateway's conditions
		want                    []string
	}{
		{"gateway-secret-invalid-reference-grant", "gateway-secret-invalid-reference-grant", "https", []string{"ResolvedRefs=False/RefNotPermitted", "attached=0"}},
		{"gateway-secret-missing-reference-grant", "gateway-secret-missing-reference-grant", "https", []string{"ResolvedRefs=False/RefNotPermitted", "attached=0"}},
		{"gateway-secret-reference-grant-all-in-namespace", "gateway-secret-reference-grant-all-in-namespace", "https", []string{"Programmed=True/Programmed", "ResolvedRefs=True/", "attached=0"}},
		{"gateway-secret-reference-grant-specific", "gateway-secret-reference-grant-specific", "https", []string{"Programmed=True/Programmed", "ResolvedRefs=True/", "attached=0"}},
		{"gateway-invalid-tls-configuration", "gateway-certificate-nonexistent-secret", "https", []string{"ResolvedRefs=False/InvalidCertificateRef", "attached=0", "kinds=HTTPRoute"}},
		{"gateway-invalid-tls-configuration", "gateway-certificate-unsupported-group", "https", []string{"ResolvedRefs=False/InvalidCertificateRef", "attached=0", "kinds=HTTPRoute"}},
		{"gateway-invalid-tls-configuration", "gateway-certificate-unsupported-kind", "https", []string{"ResolvedRefs=False/InvalidCertificateRef", "attached=0", "kinds=HTTPRoute"}},
		{"gateway-invalid-tls-configuration", "gateway-certificate-malformed-secret", "https", []string{"ResolvedRefs=False/InvalidCertificateRef", "attached=0", "kinds=HTTPRoute"}},
		{"gateway-invalid-route-kind", "gateway-only-invalid-route-kind", "http", []string{"ResolvedRefs=False/InvalidRouteKinds", "attached=0", "kinds="}},
		{"gateway-invalid-route-kind", "gateway-supported-and-invalid-route-kind", "http", []string{"ResolvedRefs=False/InvalidRouteKinds", "attached=0", "kinds=HTTPRoute"}},
		{"gateway-invalid-listeners-unsupported-protocol", "gateway-only-unsupported-protocols", "", []string{"Accepted=False/ListenersNotValid"}},
		{"gateway-invalid-listeners-unsupported-protocol", "gateway-only-unsupported-protocols", "invalid", []string{"Accepted=False/UnsupportedProtocol", "attached=0", "kinds="}},
		{"gateway-invalid-listeners-unsupported-protocol", "gateway-supported-and-unsupported-protocols", "", []string{"Accepted=True/ListenersNotValid"}},
		{"gateway-invalid-listeners-unsupported-protocol", "gateway-supported-and-unsupported-protocols", "http", []string{"Accepted=True/Accepted", "attached=0", "kinds=HTTPRoute"}},
		{"gateway-invalid-listeners-unsupported-protocol", "gateway-supported-and-unsupported-protocols", "invalid", []string{"Accepted=False/UnsupportedProtocol", "attached=0", "kinds="}},
		{"gateway-with-attached-routes", "gateway-with-one-attached-route", "http", []string{"Accepted=True/", "ResolvedRefs=True/", "attached=1"}},
		{"gateway-with-attached-routes", "gateway-with-two-attached-routes", "http", []string{"Accepted=True/", "ResolvedRefs=True/", "attached=2"}},
		{"gateway-with-attached-routes", "unresolved-gateway-with-one-attached-unresolved-route", "tls", []string{"Programmed=False/", "ResolvedRefs=False/", "attached=1", "kinds=HTTPRoute"}},
		{"gateway-invalid-parameters-ref", "gateway-invalid-parameters-ref", "", []string{"Accepted=False/InvalidParameters"}},
	} {
		t.Run(c.test+"/"+c.gateway+"/"+c.listener, func(t *testing.T) {
			f := conformanceStore(t, c.test)
			for _, o := range newStore(t, tlsSecret(t, "gateway-conformance-web-backend", "certificate", "*.example.com"),
				tlsSecret(t, "gateway-conformance-infra", "tls-validity-checks-certificate", "*.example.com")).objs {
				f.add("Secret", o)
			}
			res := compileAll(t, f)
			st, ok := res.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: c.gateway}]
			if !ok {
				t.Fatalf("no status for %s", c.gateway)
			}
			got := conditions(st.Conditions)
			if c.listener != "" {
				got = ""
				for _, l := range strings.Split(listenerStatus(res, c.gateway), "\n") {
					if strings.HasPrefix(l, c.listener+": ") {
						got = l
					}
				}
			}
			for _, w := range c.want {
				if !strings.Contains(" "+got+" ", " "+w) || (strings.HasPrefix(w, "kinds=") && !strings.HasSuffix(got, " "+w)) {
					t.Errorf("%s lacks %s", got, w)
				}
			}
		})
	}
}
