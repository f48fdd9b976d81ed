package topology

import (
	"strings"
	"testing"
)

// The Gateway API kinds are checked as the gateway-api v1.6 CRDs would check them:
// required fields, ranges, patterns, CEL rules with their messages, enums.
func TestGatewayAPIValidation(t *testing.T) {
	checkManifestErrors(t, []manifestCase{
		{name: "gateway class controller", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: podlab}
spec:
  controllerName: podlab
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {}
`, want: []string{
			"app.yaml:5:19: documents[0] (GatewayClass podlab): spec.controllerName: Invalid value: \"podlab\": spec.controllerName in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\\/[A-Za-z0-9\\/\\-._~%!$&'()*+,;=:]+$'\n  hint: controllerName is a domain-prefixed path naming the controller, e.g. example.net/gateway-controller",
			"app.yaml:10:7: documents[1] (GatewayClass other): spec.controllerName: Required value\n  hint: controllerName is a domain-prefixed path naming the controller, e.g. example.net/gateway-controller",
		}},
		{name: "gateway required fields", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  listeners:
    - port: 80
      protocol: HTTP
    - name: b
      protocol: HTTP
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: empty}
spec:
  gatewayClassName: podlab
`, want: []string{
			"app.yaml:5:3: documents[0] (Gateway default/gw): spec.gatewayClassName: Required value\n  hint: gatewayClassName names the GatewayClass whose controller runs this Gateway",
			"app.yaml:6:7: documents[0] (Gateway default/gw): spec.listeners[0].name: Required value\n  hint: each listener has a name, unique in the Gateway; routes attach to it with sectionName",
			"app.yaml:8:7: documents[0] (Gateway default/gw): spec.listeners[1].port: Required value\n  hint: a port is 1..65535",
			"app.yaml:15:3: documents[1] (Gateway default/empty): spec.listeners: Required value\n  hint: a Gateway listens on at least one listener:\n          listeners:\n            - name: http\n              port: 80\n              protocol: HTTP",
		}},
		{name: "listener names, ports, protocols, hostnames", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: podlab
  listeners:
    - {name: http, port: 80, protocol: http}
    - {name: http, port: 0, protocol: HTTP, hostname: "foo.*.example.com"}
    - {name: ip, port: 8080, protocol: HTTP, hostname: 192.0.2.1}
    - {name: db, port: 5432, protocol: TCP, hostname: db.example.com}
    - {name: a, port: 9000, protocol: HTTP}
    - {name: b, port: 9000, protocol: HTTP}
`, want: []string{
			"app.yaml:7:40: documents[0] (Gateway default/gw): spec.listeners[0].protocol: Unsupported value: \"http\": supported values: \"HTTP\", \"HTTPS\", \"TLS\", \"TCP\", \"UDP\"\n  hint: HTTP, HTTPS, TLS, TCP or UDP (upper case), or an implementation's domain/path protocol",
			"app.yaml:8:14: documents[0] (Gateway default/gw): spec.listeners[1].name: Invalid value: \"object\": Listener name must be unique within the Gateway\n  hint: each listener has a name, unique in the Gateway; routes attach to it with sectionName",
			"app.yaml:8:26: documents[0] (Gateway default/gw): spec.listeners[1].port: Invalid value: 0: spec.listeners[1].port in body should be greater than or equal to 1\n  hint: a port is 1..65535",
			"app.yaml:8:55: documents[0] (Gateway default/gw): spec.listeners[1].hostname: Invalid value: \"foo.*.example.com\": spec.listeners[1].hostname in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'\n  hint: a lower-case DNS name without scheme, port or path, e.g. app.example.com;\n        where allowed, *.example.com (\"*\" only as the whole first label)",
			"app.yaml:9:56: documents[0] (Gateway default/gw): spec.listeners[2].hostname: Invalid value: \"192.0.2.1\": must be a DNS name, not an IP address\n  hint: hostnames are names matched against the Host header (and SNI): leave it out to match every host",
			"app.yaml:10:55: documents[0] (Gateway default/gw): spec.listeners[3].hostname: Invalid value: \"object\": hostname must not be specified for protocols ['TCP', 'UDP']\n  hint: TCP and UDP carry no host name to match: drop hostname, or use protocol HTTP, HTTPS or TLS",
			"app.yaml:12:7: documents[0] (Gateway default/gw): spec.listeners[5]: Invalid value: \"object\": Combination of port, protocol and hostname must be unique for each listener\n  hint: each listener needs its own name, and its own port, protocol and hostname combination",
		}},
		{name: "listener tls", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw}
spec:
  gatewayClassName: podlab
  listeners:
    - name: http
      port: 80
      protocol: HTTP
      tls:
        certificateRefs: [{name: web-cert}]
    - name: https
      port: 443
      protocol: HTTPS
    - name: passthrough
      port: 8443
      protocol: HTTPS
      tls: {mode: Passthrough, certificateRefs: [{name: web-cert}]}
    - name: nocert
      port: 9443
      protocol: HTTPS
      tls: {mode: Terminate}
    - name: mode
      port: 10443
      protocol: HTTPS
      tls: {mode: terminate, certificateRefs: [{name: web-cert}]}
`, want: []string{
			"app.yaml:11:9: documents[0] (Gateway default/gw): spec.listeners[0].tls: Invalid value: \"object\": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']\n  hint: drop tls, or make the listener protocol: HTTPS (port 443) to terminate TLS",
			"app.yaml:12:7: documents[0] (Gateway default/gw): spec.listeners[1].tls: Required value: tls must be specified for protocol HTTPS\n  hint: an HTTPS listener terminates TLS with a kubernetes.io/tls Secret:\n          tls:\n            mode: Terminate\n            certificateRefs:\n              - name: web-cert",
			"app.yaml:18:19: documents[0] (Gateway default/gw): spec.listeners[2].tls.mode: Invalid value: \"object\": tls mode must be Terminate for protocol HTTPS\n  hint: HTTPS terminates TLS at the Gateway: mode: Terminate (the default);\n        to pass TLS through to the backend use protocol: TLS with a TLSRoute",
			"app.yaml:22:12: documents[0] (Gateway default/gw): spec.listeners[3].tls: Invalid value: \"object\": certificateRefs or options must be specified when mode is Terminate\n  hint: an HTTPS listener terminates TLS with a kubernetes.io/tls Secret:\n          tls:\n            mode: Terminate\n            certificateRefs:\n              - name: web-cert",
			"app.yaml:26:19: documents[0] (Gateway default/gw): spec.listeners[4].tls.mode: unsupported value \"terminate\"; did you mean \"Terminate\"?\n  hint: supported values: \"Passthrough\", \"Terminate\"",
		}},
		{name: "route parents and hostnames", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs:
    - sectionName: http
  hostnames: [Web.example.com, "*.example.com", "a.*.example.com", 192.0.2.1]
`, want: []string{
			"app.yaml:6:7: documents[0] (HTTPRoute default/web): spec.parentRefs[0].name: Required value\n  hint: parentRefs name the Gateway to attach to:\n          parentRefs:\n            - name: my-gateway",
			"app.yaml:7:15: documents[0] (HTTPRoute default/web): spec.hostnames[0]: Invalid value: \"Web.example.com\": spec.hostnames[0] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'\n  hint: a lower-case DNS name without scheme, port or path, e.g. app.example.com;\n        where allowed, *.example.com (\"*\" only as the whole first label)",
			"app.yaml:7:49: documents[0] (HTTPRoute default/web): spec.hostnames[2]: Invalid value: \"a.*.example.com\": spec.hostnames[2] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'\n  hint: a lower-case DNS name without scheme, port or path, e.g. app.example.com;\n        where allowed, *.example.com (\"*\" only as the whole first label)",
			"app.yaml:7:68: documents[0] (HTTPRoute default/web): spec.hostnames[3]: Invalid value: \"192.0.2.1\": must be a DNS name, not an IP address\n  hint: hostnames are names matched against the Host header (and SNI): leave it out to match every host",
		}},
		{name: "path matches", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches:
        - path: {type: Prefix, value: /api}
        - path: {type: PathPrefix, value: api}
        - path: {type: Exact, value: /a//b}
        - path: {value: "/a#top"}
        - path: {type: Exact, value: /a/..}
        - path: {type: RegularExpression, value: "^/v[0-9]+//"}
`, want: []string{
			"app.yaml:8:24: documents[0] (HTTPRoute default/web): spec.rules[0].matches[0].path.type: unsupported value \"Prefix\"\n  hint: supported values: \"Exact\", \"PathPrefix\", \"RegularExpression\"\n        Ingress's Prefix is PathPrefix here; ImplementationSpecific has no counterpart",
			"app.yaml:9:43: documents[0] (HTTPRoute default/web): spec.rules[0].matches[1].path.value: Invalid value: \"object\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']\n  hint: an Exact or PathPrefix value is a normalized absolute path such as /api/v1;\n        for patterns use type: RegularExpression",
			"app.yaml:10:38: documents[0] (HTTPRoute default/web): spec.rules[0].matches[2].path.value: Invalid value: \"object\": must not contain '//' when type one of ['Exact', 'PathPrefix']\n  hint: an Exact or PathPrefix value is a normalized absolute path such as /api/v1;\n        for patterns use type: RegularExpression",
			"app.yaml:11:25: documents[0] (HTTPRoute default/web): spec.rules[0].matches[3].path.value: Invalid value: \"object\": must not contain '#' when type one of ['Exact', 'PathPrefix']\n  hint: an Exact or PathPrefix value is a normalized absolute path such as /api/v1;\n        for patterns use type: RegularExpression",
			"app.yaml:12:38: documents[0] (HTTPRoute default/web): spec.rules[0].matches[4].path.value: Invalid value: \"object\": must not end with '/..' when type one of ['Exact', 'PathPrefix']\n  hint: an Exact or PathPrefix value is a normalized absolute path such as /api/v1;\n        for patterns use type: RegularExpression",
		}},
		{name: "header, query and method matches", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches:
        - headers:
            - {name: "X Env", value: canary, type: exact}
            - {name: x-version}
          queryParams:
            - {name: debug, value: "1", type: Regex}
          method: get
`, want: []string{
			"app.yaml:9:22: documents[0] (HTTPRoute default/web): spec.rules[0].matches[0].headers[0].name: Invalid value: \"X Env\": spec.rules[0].matches[0].headers[0].name in body should match '^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$'\n  hint: a header name is one token, without spaces or colon, e.g. X-Request-Id",
			"app.yaml:9:52: documents[0] (HTTPRoute default/web): spec.rules[0].matches[0].headers[0].type: unsupported value \"exact\"; did you mean \"Exact\"?\n  hint: supported values: \"Exact\", \"RegularExpression\"",
			"app.yaml:10:15: documents[0] (HTTPRoute default/web): spec.rules[0].matches[0].headers[1].value: Required value",
			"app.yaml:12:47: documents[0] (HTTPRoute default/web): spec.rules[0].matches[0].queryParams[0].type: unsupported value \"Regex\"\n  hint: supported values: \"Exact\", \"RegularExpression\"",
			"app.yaml:13:19: documents[0] (HTTPRoute default/web): spec.rules[0].matches[0].method: unsupported value \"get\"; did you mean \"GET\"?\n  hint: supported values: \"CONNECT\", \"DELETE\", \"GET\", \"HEAD\", \"OPTIONS\", \"PATCH\", \"POST\", \"PUT\", \"TRACE\"",
		}},
		{name: "filters", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules:
    - filters:
        - type: RequestHeaderModifier
        - type: URLRewrite
          requestHeaderModifier:
            set: [{name: X-Lab, value: podlab}]
        - type: Rewrite
    - filters:
        - type: RequestRedirect
          requestRedirect: {scheme: HTTPS, statusCode: 200, port: 70000}
        - type: URLRewrite
          urlRewrite: {hostname: Api.example.com}
    - filters:
        - {type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: a, value: b}]}}
        - {type: RequestHeaderModifier, requestHeaderModifier: {add: [{name: c, value: d}]}}
`, want: []string{
			"app.yaml:8:11: documents[0] (HTTPRoute default/web): spec.rules[0].filters[0]: Invalid value: \"object\": filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type\n  hint: a filter sets the field named by its type, e.g.\n          - type: RequestHeaderModifier\n            requestHeaderModifier:\n              add:\n                - {name: X-Lab, value: podlab}",
			"app.yaml:9:11: documents[0] (HTTPRoute default/web): spec.rules[0].filters[1]: Invalid value: \"object\": filter.urlRewrite must be specified for URLRewrite filter.type\n  hint: a filter sets the field named by its type, e.g.\n          - type: RequestHeaderModifier\n            requestHeaderModifier:\n              add:\n                - {name: X-Lab, value: podlab}",
			"app.yaml:11:13: documents[0] (HTTPRoute default/web): spec.rules[0].filters[1].requestHeaderModifier: Invalid value: \"object\": filter.requestHeaderModifier must be nil if the filter.type is not RequestHeaderModifier\n  hint: a filter sets the field named by its type, e.g.\n          - type: RequestHeaderModifier\n            requestHeaderModifier:\n              add:\n                - {name: X-Lab, value: podlab}",
			"app.yaml:12:17: documents[0] (HTTPRoute default/web): spec.rules[0].filters[2].type: unsupported value \"Rewrite\"\n  hint: supported values: \"CORS\", \"ExtensionRef\", \"RequestHeaderModifier\", \"RequestMirror\", \"RequestRedirect\", \"ResponseHeaderModifier\", \"URLRewrite\"",
			"app.yaml:14:9: documents[0] (HTTPRoute default/web): spec.rules[1].filters: Invalid value: \"object\": May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both\n  hint: a RequestRedirect answers the request itself: put it in its own rule, without backendRefs or URLRewrite",
			"app.yaml:15:37: documents[0] (HTTPRoute default/web): spec.rules[1].filters[0].requestRedirect.scheme: unsupported value \"HTTPS\"; did you mean \"https\"?\n  hint: supported values: \"http\", \"https\"",
			"app.yaml:15:56: documents[0] (HTTPRoute default/web): spec.rules[1].filters[0].requestRedirect.statusCode: unsupported value \"200\"\n  hint: supported values: \"301\", \"302\", \"303\", \"307\", \"308\"",
			"app.yaml:15:67: documents[0] (HTTPRoute default/web): spec.rules[1].filters[0].requestRedirect.port: Invalid value: 70000: spec.rules[1].filters[0].requestRedirect.port in body should be less than or equal to 65535\n  hint: a port is 1..65535",
			"app.yaml:17:34: documents[0] (HTTPRoute default/web): spec.rules[1].filters[1].urlRewrite.hostname: Invalid value: \"Api.example.com\": spec.rules[1].filters[1].urlRewrite.hostname in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'\n  hint: a lower-case DNS name without scheme, port or path, e.g. app.example.com;\n        where allowed, *.example.com (\"*\" only as the whole first label)",
			"app.yaml:19:9: documents[0] (HTTPRoute default/web): spec.rules[2].filters: Invalid value: \"object\": RequestHeaderModifier filter cannot be repeated\n  hint: a rule takes this filter once: merge the two (a header modifier can set, add and remove several headers)",
		}},
		{name: "redirect with backendRefs", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules:
    - filters:
        - type: RequestRedirect
          requestRedirect: {scheme: https}
      backendRefs:
        - {name: web, port: 80}
`, want: []string{
			"app.yaml:7:7: documents[0] (HTTPRoute default/web): spec.rules[0]: Invalid value: \"object\": RequestRedirect filter must not be used together with backendRefs\n  hint: a RequestRedirect answers the request itself: put it in its own rule, without backendRefs or URLRewrite",
		}},
		{name: "path modifiers", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches:
        - path: {type: Exact, value: /old}
      filters:
        - type: URLRewrite
          urlRewrite:
            path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
      backendRefs: [{name: web, port: 80}]
    - matches:
        - path: {type: PathPrefix, value: /a}
        - path: {type: PathPrefix, value: /b}
      filters:
        - type: RequestRedirect
          requestRedirect:
            path: {type: ReplacePrefixMatch, replacePrefixMatch: /c}
    - filters:
        - type: URLRewrite
          urlRewrite:
            path: {type: ReplaceFullPath, replacePrefixMatch: /x}
      backendRefs: [{name: web, port: 80}]
`, want: []string{
			"app.yaml:7:7: documents[0] (HTTPRoute default/web): spec.rules[0]: Invalid value: \"object\": When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified\n  hint: ReplacePrefixMatch replaces the prefix the rule matched: the rule needs exactly one match, a PathPrefix one;\n        to set the whole path use type: ReplaceFullPath with replaceFullPath",
			"app.yaml:14:7: documents[0] (HTTPRoute default/web): spec.rules[1]: Invalid value: \"object\": When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified\n  hint: ReplacePrefixMatch replaces the prefix the rule matched: the rule needs exactly one match, a PathPrefix one;\n        to set the whole path use type: ReplaceFullPath with replaceFullPath",
			"app.yaml:24:19: documents[0] (HTTPRoute default/web): spec.rules[2].filters[0].urlRewrite.path: Invalid value: \"object\": replaceFullPath must be specified when type is set to 'ReplaceFullPath'\n  hint: ReplacePrefixMatch replaces the prefix the rule matched: the rule needs exactly one match, a PathPrefix one;\n        to set the whole path use type: ReplaceFullPath with replaceFullPath",
			"app.yaml:24:19: documents[0] (HTTPRoute default/web): spec.rules[2].filters[0].urlRewrite.path: Invalid value: \"object\": type must be 'ReplacePrefixMatch' when replacePrefixMatch is set\n  hint: ReplacePrefixMatch replaces the prefix the rule matched: the rule needs exactly one match, a PathPrefix one;\n        to set the whole path use type: ReplaceFullPath with replaceFullPath",
		}},
		{name: "backendRefs", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
  rules:
    - backendRefs:
        - name: web
        - {name: web, port: 80, weight: 2000000}
        - {name: web, port: 0, weight: -1}
        - {group: storage.example.com, kind: Bucket, name: assets}
        - {port: 80}
`, want: []string{
			"app.yaml:8:11: documents[0] (HTTPRoute default/web): spec.rules[0].backendRefs[0]: Invalid value: \"object\": Must have port for Service reference\n  hint: give the Service's port (not the targetPort): backendRefs:\n          - name: web\n            port: 80",
			"app.yaml:9:41: documents[0] (HTTPRoute default/web): spec.rules[0].backendRefs[1].weight: Invalid value: 2000000: spec.rules[0].backendRefs[1].weight in body should be less than or equal to 1000000\n  hint: weights are 0..1000000, relative to the rule's other backendRefs; 0 sends no traffic",
			"app.yaml:10:29: documents[0] (HTTPRoute default/web): spec.rules[0].backendRefs[2].port: Invalid value: 0: spec.rules[0].backendRefs[2].port in body should be greater than or equal to 1\n  hint: a port is 1..65535",
			"app.yaml:10:40: documents[0] (HTTPRoute default/web): spec.rules[0].backendRefs[2].weight: Invalid value: -1: spec.rules[0].backendRefs[2].weight in body should be greater than or equal to 0\n  hint: weights are 0..1000000, relative to the rule's other backendRefs; 0 sends no traffic",
			"app.yaml:12:11: documents[0] (HTTPRoute default/web): spec.rules[0].backendRefs[4].name: Required value",
		}},
		{name: "grpc route", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc}
spec:
  parentRefs: [{name: gw}]
  hostnames: [Grpc.example.com]
  rules:
    - matches:
        - method: {type: exact, service: com.example.User}
          headers: [{name: x-tenant}]
      filters:
        - type: URLRewrite
      backendRefs: [{name: users}]
`, want: []string{
			"app.yaml:6:15: documents[0] (GRPCRoute default/grpc): spec.hostnames[0]: Invalid value: \"Grpc.example.com\": spec.hostnames[0] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'\n  hint: a lower-case DNS name without scheme, port or path, e.g. app.example.com;\n        where allowed, *.example.com (\"*\" only as the whole first label)",
			"app.yaml:9:26: documents[0] (GRPCRoute default/grpc): spec.rules[0].matches[0].method.type: unsupported value \"exact\"; did you mean \"Exact\"?\n  hint: supported values: \"Exact\", \"RegularExpression\"",
			"app.yaml:10:21: documents[0] (GRPCRoute default/grpc): spec.rules[0].matches[0].headers[0].value: Required value",
			"app.yaml:12:17: documents[0] (GRPCRoute default/grpc): spec.rules[0].filters[0].type: unsupported value \"URLRewrite\"\n  hint: supported values: \"ExtensionRef\", \"RequestHeaderModifier\", \"RequestMirror\", \"ResponseHeaderModifier\"",
			"app.yaml:13:21: documents[0] (GRPCRoute default/grpc): spec.rules[0].backendRefs[0]: Invalid value: \"object\": Must have port for Service reference\n  hint: give the Service's port (not the targetPort): backendRefs:\n          - name: web\n            port: 80",
		}},
		{name: "reference grant, v1beta1 kinds", yaml: `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: grant, namespace: back}
spec:
  from:
    - {group: gateway.networking.k8s.io, kind: HTTPRoute}
  to: []
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: old}
spec:
  parentRefs: [{name: gw}]
  rules:
    - backendRefs: [{name: web}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: Gateway
metadata: {name: old}
spec:
  gatewayClassName: podlab
  listeners: [{name: web, port: 80, protocol: HTTP, tls: {certificateRefs: [{name: c}]}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: typo}
spec:
  parentRef: [{name: gw}]
`, want: []string{
			"app.yaml:6:7: documents[0] (ReferenceGrant back/grant): spec.from[0].namespace: Required value\n  hint: from lists who may refer here: group, kind and namespace of the referring objects, e.g.\n          from:\n            - {group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: front}",
			"app.yaml:7:7: documents[0] (ReferenceGrant back/grant): spec.to: Invalid value: 0: spec.to in body should have at least 1 items\n  hint: to lists what of this namespace they may refer to, e.g.\n          to:\n            - {group: \"\", kind: Service}",
			"app.yaml:15:21: documents[1] (HTTPRoute default/old): spec.rules[0].backendRefs[0]: Invalid value: \"object\": Must have port for Service reference\n  hint: give the Service's port (not the targetPort): backendRefs:\n          - name: web\n            port: 80",
			"app.yaml:22:58: documents[2] (Gateway default/old): spec.listeners[0].tls: Invalid value: \"object\": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']\n  hint: drop tls, or make the listener protocol: HTTPS (port 443) to terminate TLS",
			"app.yaml:28:3: documents[3] (HTTPRoute default/typo): spec.parentRef: unknown field \"parentRef\"; did you mean \"parentRefs\"?",
		}},
		{name: "parentRefs to one Gateway", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs:
    - name: gw
    - name: gw
    - {name: gw, sectionName: https}
    - {name: gw, namespace: other}
    - {name: gw, kind: ListenerSet, group: gateway.networking.k8s.io}
`, want: []string{
			"app.yaml:7:7: documents[0] (HTTPRoute default/web): spec.parentRefs[1]: Invalid value: \"object\": sectionName must be unique when parentRefs includes 2 or more references to the same parent\n  hint: to attach to several listeners of one Gateway, give each parentRef its own sectionName (a listener name);\n        to attach to all of them, keep one parentRef without sectionName",
			"app.yaml:8:7: documents[0] (HTTPRoute default/web): spec.parentRefs[2]: Invalid value: \"object\": sectionName must be specified when parentRefs includes 2 or more references to the same parent\n  hint: to attach to several listeners of one Gateway, give each parentRef its own sectionName (a listener name);\n        to attach to all of them, keep one parentRef without sectionName",
		}},
		{name: "grpc filters and method", yaml: `apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc}
spec:
  parentRefs: [{name: gw}]
  rules:
    - matches:
        - method: {type: Exact}
      filters:
        - type: RequestHeaderModifier
          responseHeaderModifier: {add: [{name: a, value: b}]}
        - type: ResponseHeaderModifier
          responseHeaderModifier: {add: [{name: a, value: b}]}
        - type: ResponseHeaderModifier
          responseHeaderModifier: {add: [{name: c, value: d}]}
      backendRefs:
        - name: users
          port: 50051
          filters: [{type: RequestMirror}]
`, want: []string{
			"app.yaml:8:19: documents[0] (GRPCRoute default/grpc): spec.rules[0].matches[0].method: Invalid value: \"object\": One or both of 'service' or 'method' must be specified\n  hint: a gRPC method match names the service (com.example.User), the method (Login) or both",
			"app.yaml:10:9: documents[0] (GRPCRoute default/grpc): spec.rules[0].filters: Invalid value: \"object\": ResponseHeaderModifier filter cannot be repeated\n  hint: a rule takes this filter once: merge the two (a header modifier can set, add and remove several headers)",
			"app.yaml:10:11: documents[0] (GRPCRoute default/grpc): spec.rules[0].filters[0]: Invalid value: \"object\": filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type\n  hint: a filter sets the field named by its type, e.g.\n          - type: RequestHeaderModifier\n            requestHeaderModifier:\n              add:\n                - {name: X-Lab, value: podlab}",
			"app.yaml:11:35: documents[0] (GRPCRoute default/grpc): spec.rules[0].filters[0].responseHeaderModifier: Invalid value: \"object\": filter.responseHeaderModifier must be nil if the filter.type is not ResponseHeaderModifier\n  hint: a filter sets the field named by its type, e.g.\n          - type: RequestHeaderModifier\n            requestHeaderModifier:\n              add:\n                - {name: X-Lab, value: podlab}",
			"app.yaml:19:21: documents[0] (GRPCRoute default/grpc): spec.rules[0].backendRefs[0].filters[0]: Invalid value: \"object\": filter.requestMirror must be specified for RequestMirror filter.type\n  hint: a filter sets the field named by its type, e.g.\n          - type: RequestHeaderModifier\n            requestHeaderModifier:\n              add:\n                - {name: X-Lab, value: podlab}",
		}},
	})
}

// Manifests as the Gateway API and Kubernetes docs write them load without errors;
// GatewayClass is cluster-scoped, and a v1beta1 kind keeps its apiVersion in the model.
func TestGatewayAPIManifestsLoad(t *testing.T) {
	objs, _, err := LoadManifests("app.yaml", []byte(docsManifests))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.APIVersion+" "+o.Kind+" "+nsName(o.Namespace, o.Name))
	}
	want := []string{
		"gateway.networking.k8s.io/v1 GatewayClass podlab",
		"gateway.networking.k8s.io/v1 Gateway default/prod-web",
		"gateway.networking.k8s.io/v1 HTTPRoute default/foo",
		"gateway.networking.k8s.io/v1beta1 ReferenceGrant bar/allow-ns1-gateways",
		"gateway.networking.k8s.io/v1 GRPCRoute default/grpc",
		"networking.k8s.io/v1 Ingress default/minimal-ingress",
		"networking.k8s.io/v1 IngressClass nginx-example",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("objects:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

const docsManifests = `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: podlab
spec:
  controllerName: podlab.dev/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: prod-web
spec:
  gatewayClassName: podlab
  listeners:
  - protocol: HTTP
    port: 80
    name: prod-web-gw
    allowedRoutes:
      namespaces:
        from: Same
  - name: https
    protocol: HTTPS
    port: 443
    hostname: "*.example.com"
    tls:
      mode: Terminate
      certificateRefs:
      - kind: Secret
        name: example-com-cert
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: foo
spec:
  parentRefs:
  - name: prod-web
  hostnames: ["foo.example.com"]
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /login
      headers:
      - name: env
        value: canary
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        add:
        - name: my-header
          value: foo
    - type: URLRewrite
      urlRewrite:
        path:
          type: ReplacePrefixMatch
          replacePrefixMatch: /
    backendRefs:
    - name: foo-svc
      port: 8080
      weight: 90
    - name: foo-canary
      port: 8080
      weight: 10
  - filters:
    - type: RequestRedirect
      requestRedirect:
        scheme: https
        statusCode: 301
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata:
  name: allow-ns1-gateways
  namespace: bar
spec:
  from:
  - group: gateway.networking.k8s.io
    kind: HTTPRoute
    namespace: foo
  to:
  - group: ""
    kind: Service
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata:
  name: grpc
spec:
  parentRefs: [{name: prod-web}]
  rules:
  - matches:
    - method: {service: com.example.User, method: Login}
    backendRefs:
    - {name: grpc-svc, port: 50051}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: minimal-ingress
spec:
  ingressClassName: nginx-example
  tls:
  - hosts: [foo.bar.com, "*.foo.com"]
    secretName: testsecret-tls
  rules:
  - host: "*.foo.com"
    http:
      paths:
      - path: /testpath
        pathType: Prefix
        backend:
          service:
            name: test
            port:
              number: 80
  - http:
      paths:
      - path: /
        pathType: ImplementationSpecific
        backend:
          resource:
            apiGroup: k8s.example.com
            kind: StorageBucket
            name: static-assets
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx-example
spec:
  controller: k8s.io/ingress-nginx
`
