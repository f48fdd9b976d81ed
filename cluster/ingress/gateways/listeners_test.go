package gateways

import (
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"podlab.dev/podlab/cluster/ingress/table"
)

const (
	okListener = "Accepted=True/Accepted Programmed=True/Programmed ResolvedRefs=True/ResolvedRefs Conflicted=False/NoConflicts"
)

// Modelled on GatewayInvalidListenersUnsupportedProtocol, GatewayInvalidRouteKind,
// GatewayInvalidTLSConfiguration, GatewaySecretInvalidReferenceGrant, the conflict
// cases of ListenerSetHostnameConflict/ProtocolConflict (on one Gateway), and
// GatewayInvalidParametersRef.
func TestListeners(t *testing.T) {
	for _, c := range []struct {
		name, listeners, extra string
		gateway, want          string
	}{
		{"unsupported protocol only", `
  - {name: invalid, port: 8080, protocol: UDP}`, "",
			"Accepted=False/ListenersNotValid Programmed=False/Invalid",
			"invalid: Accepted=False/UnsupportedProtocol Programmed=False/Invalid ResolvedRefs=True/ResolvedRefs Conflicted=False/NoConflicts attached=0 kinds="},
		{"supported and unsupported", `
  - {name: http, port: 80, protocol: HTTP}
  - {name: invalid, port: 443, protocol: TLS, tls: {mode: Passthrough}}`, "",
			"Accepted=True/ListenersNotValid Programmed=True/Programmed",
			"http: " + okListener + " attached=0 kinds=HTTPRoute\n" +
				"invalid: Accepted=False/UnsupportedProtocol Programmed=False/Invalid ResolvedRefs=True/ResolvedRefs Conflicted=False/NoConflicts attached=0 kinds="},
		{"only invalid route kind", `
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: FooRoute}]}}`, "",
			"Accepted=True/Accepted Programmed=True/Programmed",
			"http: Accepted=True/Accepted Programmed=False/Invalid ResolvedRefs=False/InvalidRouteKinds Conflicted=False/NoConflicts attached=0 kinds="},
		{"supported and invalid route kind", `
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{kind: FooRoute}, {group: gateway.networking.k8s.io, kind: HTTPRoute}]}}`, "",
			"Accepted=True/Accepted Programmed=True/Programmed",
			"http: Accepted=True/Accepted Programmed=True/Programmed ResolvedRefs=False/InvalidRouteKinds Conflicted=False/NoConflicts attached=0 kinds=HTTPRoute"},
		{"hostname conflict", `
  - {name: a, port: 80, protocol: HTTP, hostname: foo.example.com}
  - {name: b, port: 80, protocol: HTTP, hostname: foo.example.com}
  - {name: c, port: 80, protocol: HTTP, hostname: bar.example.com}`, "",
			"Accepted=True/ListenersNotValid Programmed=True/Programmed",
			"a: Accepted=False/HostnameConflict Programmed=False/HostnameConflict ResolvedRefs=True/ResolvedRefs Conflicted=True/HostnameConflict attached=0 kinds=HTTPRoute\n" +
				"b: Accepted=False/HostnameConflict Programmed=False/HostnameConflict ResolvedRefs=True/ResolvedRefs Conflicted=True/HostnameConflict attached=0 kinds=HTTPRoute\n" +
				"c: " + okListener + " attached=0 kinds=HTTPRoute"},
		{"protocol conflict", `
  - {name: a, port: 8443, protocol: HTTP}
  - {name: b, port: 8443, protocol: HTTPS, tls: {certificateRefs: [{name: tls-validity-checks-certificate}]}}`, "",
			"Accepted=False/ListenersNotValid Programmed=False/Invalid",
			"a: Accepted=False/ProtocolConflict Programmed=False/ProtocolConflict ResolvedRefs=True/ResolvedRefs Conflicted=True/ProtocolConflict attached=0 kinds=HTTPRoute\n" +
				"b: Accepted=False/ProtocolConflict Programmed=False/ProtocolConflict ResolvedRefs=True/ResolvedRefs Conflicted=True/ProtocolConflict attached=0 kinds=HTTPRoute"},
		{"https", `
  - {name: https, port: 443, protocol: HTTPS, hostname: secure.test.com, tls: {certificateRefs: [{name: tls-validity-checks-certificate}]}}`, "",
			"Accepted=True/Accepted Programmed=True/Programmed",
			"https: " + okListener + " attached=0 kinds=HTTPRoute"},
		{"nonexistent secret", `
  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: nonexistent-certificate}]}}`, "",
			"Accepted=True/Accepted Programmed=True/Programmed",
			"https: Accepted=True/Accepted Programmed=False/Invalid ResolvedRefs=False/InvalidCertificateRef Conflicted=False/NoConflicts attached=0 kinds=HTTPRoute"},
		{"unsupported group", `
  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{group: wrong.group.company.io, kind: Secret, name: tls-validity-checks-certificate}]}}`, "",
			"Accepted=True/Accepted Programmed=True/Programmed",
			"https: Accepted=True/Accepted Programmed=False/Invalid ResolvedRefs=False/InvalidCertificateRef Conflicted=False/NoConflicts attached=0 kinds=HTTPRoute"},
		{"unsupported kind", `
  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{group: "", kind: WrongKind, name: tls-validity-checks-certificate}]}}`, "",
			"Accepted=True/Accepted Programmed=True/Programmed",
			"https: Accepted=True/Accepted Programmed=False/Invalid ResolvedRefs=False/InvalidCertificateRef Conflicted=False/NoConflicts attached=0 kinds=HTTPRoute"},
		{"malformed secret", `
  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: malformed-certificate}]}}`, `
---
apiVersion: v1
kind: Secret
metadata: {name: malformed-certificate}
type: kubernetes.io/tls
stringData: {tls.crt: "-----BEGIN CERTIFICATE-----\nnot\n-----END CERTIFICATE-----\n", tls.key: "x"}`,
			"Accepted=True/Accepted Programmed=True/Programmed",
			"https: Accepted=True/Accepted Programmed=False/Invalid ResolvedRefs=False/InvalidCertificateRef Conflicted=False/NoConflicts attached=0 kinds=HTTPRoute"},
		{"secret in another namespace, no grant", `
  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert, namespace: gateway-conformance-web-backend}]}}`, "",
			"Accepted=True/Accepted Programmed=True/Programmed",
			"https: Accepted=True/Accepted Programmed=False/Invalid ResolvedRefs=False/RefNotPermitted Conflicted=False/NoConflicts attached=0 kinds=HTTPRoute"},
		{"secret in another namespace, granted", `
  - {name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert, namespace: gateway-conformance-web-backend}]}}`, `
---
apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: g, namespace: gateway-conformance-web-backend}
spec: {from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: gateway-conformance-infra}], to: [{group: "", kind: Secret, name: cert}]}`,
			"Accepted=True/Accepted Programmed=True/Programmed",
			"https: " + okListener + " attached=0 kinds=HTTPRoute"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: podlab}
spec: {controllerName: podlab.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: podlab
  listeners:` + c.listeners + "\n" + tlsSecret(t, "gateway-conformance-infra", "tls-validity-checks-certificate", "secure.test.com") +
				tlsSecret(t, "gateway-conformance-web-backend", "cert", "secure.test.com") + c.extra
			res := compileAll(t, newStore(t, m))
			st := res.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: "gw"}]
			if got := conditions(st.Conditions); got != c.gateway {
				t.Errorf("gateway: got %s, want %s", got, c.gateway)
			}
			if got := listenerStatus(res, "gw"); got != c.want {
				t.Errorf("listeners:\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestHTTPSFrontend(t *testing.T) {
	m := base + services("infra-backend-v1") + tlsSecret(t, "gateway-conformance-infra", "a", "a.example.com") +
		tlsSecret(t, "gateway-conformance-infra", "wild", "*.example.com") + `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: tls}
spec:
  gatewayClassName: podlab
  listeners:
  - {name: wild, port: 443, protocol: HTTPS, hostname: "*.example.com", tls: {certificateRefs: [{name: wild}]}}
  - {name: a, port: 443, protocol: HTTPS, hostname: a.example.com, tls: {certificateRefs: [{name: a}]}}
  - {name: http, port: 80, protocol: HTTP}
`
	res := compileAll(t, newStore(t, m))
	key := table.FrontendGateway("gateway-conformance-infra", "tls")
	f := res.Frontends[key]
	if len(f.Listeners) != 2 || f.Listeners[0].Port != 80 || f.Listeners[1].Port != 443 {
		t.Fatalf("listeners: %+v", f.Listeners)
	}
	l := f.Listeners[1]
	if l.Protocol != "HTTPS" || len(l.Certs) != 2 || l.Certs[0].Source != "gateway-conformance-infra/a" || l.Certs[1].Hosts[0] != "*.example.com" || l.Default != l.Certs[1].Cert {
		t.Errorf("certs: %+v", l.Certs)
	}
	if got := res.Ports[key]; len(got) != 2 || got[0] != 80 || got[1] != 443 {
		t.Errorf("ports: %v", got)
	}
	var hosts []string
	for _, vh := range l.VirtualHosts {
		hosts = append(hosts, vh.Hostname+"@"+vh.Listener)
	}
	if len(hosts) != 2 || hosts[0] != "a.example.com@a" || hosts[1] != "*.example.com@wild" {
		t.Errorf("virtual hosts: %v", hosts)
	}
}

// Modelled on GatewayWithAttachedRoutes, HTTPRouteInvalidCrossNamespaceParentRef,
// HTTPRouteInvalidParentRefNotMatchingSectionName / ...ListenerPort, and
// allowedRoutes by namespace selector.
func TestAttachment(t *testing.T) {
	m := base + services("infra-backend-v1") + `
---
apiVersion: v1
kind: Namespace
metadata: {name: blue, labels: {color: blue}}
---
apiVersion: v1
kind: Namespace
metadata: {name: red, labels: {color: red}}
---
apiVersion: v1
kind: Namespace
metadata: {name: gateway-conformance-infra, labels: {color: blue}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: attached}
spec:
  gatewayClassName: podlab
  listeners:
  - {name: same, port: 80, protocol: HTTP, hostname: same.example.com}
  - {name: all, port: 80, protocol: HTTP, hostname: all.example.com, allowedRoutes: {namespaces: {from: All}}}
  - {name: blue, port: 8080, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {color: blue}}}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: infra-all}
spec:
  parentRefs: [{name: attached}]
  rules: [{backendRefs: [{name: infra-backend-v1, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: blue-route, namespace: blue}
spec:
  parentRefs: [{name: attached, namespace: gateway-conformance-infra}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: red-route, namespace: red}
spec:
  parentRefs: [{name: attached, namespace: gateway-conformance-infra, sectionName: blue}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cross-ns-parent, namespace: red}
spec:
  parentRefs: [{name: same-namespace, namespace: gateway-conformance-infra}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: no-such-section}
spec:
  parentRefs: [{name: attached, sectionName: nope}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: section-port-mismatch}
spec:
  parentRefs: [{name: attached, sectionName: same, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: by-port}
spec:
  parentRefs: [{name: attached, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-controller}
spec:
  parentRefs: [{name: elsewhere}]
`
	res := compileAll(t, newStore(t, m))
	want := `same: ` + okListener + ` attached=1 kinds=HTTPRoute
all: ` + okListener + ` attached=2 kinds=HTTPRoute
blue: ` + okListener + ` attached=3 kinds=HTTPRoute`
	if got := listenerStatus(res, "attached"); got != want {
		t.Errorf("listeners:\n%s\nwant\n%s", got, want)
	}
	for name, want := range map[string]string{
		"infra-all":             "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
		"no-such-section":       "Accepted=False/NoMatchingParent ResolvedRefs=True/ResolvedRefs",
		"section-port-mismatch": "Accepted=False/NoMatchingParent ResolvedRefs=True/ResolvedRefs",
		"by-port":               "Accepted=True/Accepted ResolvedRefs=True/ResolvedRefs",
		"other-controller":      "no status",
	} {
		if got := routeConditions(t, res, name); got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
	}
	for name, want := range map[string]string{
		"red/red-route":       "Accepted=False/NotAllowedByListeners",
		"red/cross-ns-parent": "Accepted=False/NotAllowedByListeners",
		"blue/blue-route":     "Accepted=True/Accepted",
	} {
		ns, n, _ := cut(name)
		st := res.HTTPRoutes[types.NamespacedName{Namespace: ns, Name: n}]
		if len(st.Parents) != 1 || conditions(st.Parents[0].Conditions[:1]) != want {
			t.Errorf("%s: %+v, want %s", name, st.Parents, want)
		}
	}
	checkRequests(t, res, "attached", 8080, []req{{host: "x", path: "/", want: "blue-route/0/0:500"}})
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func TestGatewayClassAndParameters(t *testing.T) {
	m := `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: podlab}
spec: {controllerName: podlab.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: with-params}
spec: {controllerName: podlab.dev/gateway-controller, parametersRef: {group: example.com, kind: Config, name: x}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.com/other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-invalid-parameters-ref}
spec:
  gatewayClassName: podlab
  infrastructure: {parametersRef: {group: example.com, kind: Config, name: x}}
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: class-not-accepted}
spec:
  gatewayClassName: with-params
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: static-address}
spec:
  gatewayClassName: podlab
  addresses: [{value: 10.9.9.9}]
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gateway-without-address-value}
spec:
  gatewayClassName: podlab
  addresses: [{type: IPAddress}]
  listeners: [{name: http, port: 8080, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: theirs}
spec:
  gatewayClassName: other
  listeners: [{name: http, port: 80, protocol: HTTP}]
`
	res := compileAll(t, newStore(t, m))
	if got := conditions(res.GatewayClasses["podlab"].Conditions); got != "Accepted=True/Accepted SupportedVersion=True/SupportedVersion" {
		t.Errorf("podlab class: %s", got)
	}
	if fs := res.GatewayClasses["podlab"].SupportedFeatures; len(fs) != len(SupportedFeatures) ||
		!sort.SliceIsSorted(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name }) {
		t.Errorf("supportedFeatures: %v", fs)
	}
	if got := conditions(res.GatewayClasses["with-params"].Conditions); got != "Accepted=False/InvalidParameters SupportedVersion=True/SupportedVersion" {
		t.Errorf("with-params class: %s", got)
	}
	if _, ok := res.GatewayClasses["other"]; ok {
		t.Errorf("wrote another controller's class")
	}
	for name, want := range map[string]string{
		"gateway-invalid-parameters-ref": "Accepted=False/InvalidParameters Programmed=False/Invalid",
		"class-not-accepted":             "Accepted=False/Invalid Programmed=False/Invalid",
		"static-address":                 "Accepted=False/UnsupportedAddress Programmed=False/Invalid",
	} {
		st := res.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: name}]
		if got := conditions(st.Conditions); got != want {
			t.Errorf("%s: got %s, want %s", name, got, want)
		}
		if len(st.Addresses) != 0 || res.Frontends[table.FrontendGateway("gateway-conformance-infra", name)] != nil {
			t.Errorf("%s: served although not accepted", name)
		}
	}
	st := res.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: "gateway-without-address-value"}]
	if got := conditions(st.Conditions); got != "Accepted=True/Accepted Programmed=True/Programmed" || len(st.Addresses) != 1 {
		t.Errorf("an IPAddress without a value is the pool's: %s %v", got, st.Addresses)
	}
	if _, ok := res.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: "theirs"}]; ok {
		t.Errorf("wrote another controller's Gateway")
	}
}
