package topology

import "testing"

// Ingress is checked as the API server checks networking.k8s.io/v1 (its messages),
// with a hint for each mistake.
func TestIngressValidation(t *testing.T) {
	checkManifestErrors(t, []manifestCase{
		{name: "pathType required", yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - http:
        paths:
          - path: /
            backend:
              service: {name: web, port: {number: 80}}
`, want: []string{
			"app.yaml:8:13: documents[0] (Ingress default/web): spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified\n  hint: networking.k8s.io/v1 has no default: add pathType: Prefix (/foo matches /foo and /foo/bar)\n        or pathType: Exact (only /foo)",
		}},
		{name: "relative path and both port name and number", yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - http:
        paths:
          - path: api
            pathType: Prefix
            backend:
              service: {name: web, port: {name: http, number: 80}}
          - path: /a/../b
            pathType: Exact
            backend:
              service: {name: web}
`, want: []string{
			"app.yaml:8:19: documents[0] (Ingress default/web): spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path\n  hint: start the path with /, e.g. path: /api",
			"app.yaml:11:15: documents[0] (Ingress default/web): spec.rules[0].http.paths[0].backend: Invalid value: \"\": cannot set both port name & port number\n  hint: give the Service's port as number: 80 or as name: http, not both",
			"app.yaml:12:19: documents[0] (Ingress default/web): spec.rules[0].http.paths[1].path: Invalid value: \"/a/../b\": must not contain '/../'\n  hint: write the path as a request would carry it after normalization, e.g. /api/v1",
			"app.yaml:15:15: documents[0] (Ingress default/web): spec.rules[0].http.paths[1].backend: Required value: port name or number is required\n  hint: add the Service's port (not the targetPort):\n          service:\n            name: web\n            port:\n              number: 80",
		}},
		{name: "hosts: IP, port, upper case, bare wildcard", yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  tls:
    - hosts: [App.example.com]
      secretName: web-tls
  rules:
    - host: 192.0.2.10
    - host: "app.example.com:8080"
    - host: "*"
    - host: "*.example.com"
`, want: []string{
			"app.yaml:6:15: documents[0] (Ingress default/web): spec.tls[0].hosts[0]: Invalid value: \"App.example.com\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n  hint: a host is a lower-case DNS name without scheme, port or path, e.g. app.example.com,\n        or *.example.com (\"*\" alone as the first label)",
			"app.yaml:9:13: documents[0] (Ingress default/web): spec.rules[0].host: Invalid value: \"192.0.2.10\": must be a DNS name, not an IP address\n  hint: Ingress matches host names: leave host out to match every host,\n        or use a name (curl --resolve app.example.com:80:ADDRESS http://app.example.com/)",
			"app.yaml:10:13: documents[0] (Ingress default/web): spec.rules[1].host: Invalid value: \"app.example.com:8080\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n  hint: a host is a lower-case DNS name without scheme, port or path, e.g. app.example.com,\n        or *.example.com (\"*\" alone as the first label)",
			"app.yaml:11:13: documents[0] (Ingress default/web): spec.rules[2].host: Invalid value: \"*\": a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n  hint: a host is a lower-case DNS name without scheme, port or path, e.g. app.example.com,\n        or *.example.com (\"*\" alone as the first label)",
		}},
		{name: "backend: none, both", yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  defaultBackend: {}
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: {name: web, port: {number: 80}}
              resource: {kind: Bucket, name: b}
`, want: []string{
			"app.yaml:5:19: documents[0] (Ingress default/web): spec.defaultBackend: Invalid value: \"\": resource or service backend is required\n  hint: a backend is a Service:\n          backend:\n            service:\n              name: web\n              port:\n                number: 80\n        or a resource (apiGroup, kind, name), not both",
			"app.yaml:12:15: documents[0] (Ingress default/web): spec.rules[0].http.paths[0].backend: Invalid value: \"\": cannot set both resource and service backends\n  hint: a backend is a Service:\n          backend:\n            service:\n              name: web\n              port:\n                number: 80\n        or a resource (apiGroup, kind, name), not both",
		}},
		{name: "no rules, no default backend; class", yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  ingressClassName: Nginx
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec:
  controller: nginx
`, want: []string{
			"app.yaml:5:3: documents[0] (Ingress default/web): spec: Invalid value: null: either `defaultBackend` or `rules` must be specified\n  hint: add rules (host and paths to Services) or a defaultBackend that answers every request",
			"app.yaml:5:21: documents[0] (Ingress default/web): spec.ingressClassName: Invalid value: \"Nginx\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n  hint: ingressClassName names an IngressClass (podlab get ingressclass), e.g. nginx",
			"app.yaml:11:15: documents[1] (IngressClass nginx): spec.controller: Invalid value: \"nginx\": must be a domain-prefixed path (such as \"acme.io/foo\")\n  hint: controller names the ingress controller as a domain-prefixed path, e.g. k8s.io/ingress-nginx",
		}},
		{name: "class annotation and field disagree", yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  annotations:
    kubernetes.io/ingress.class: nginx
spec:
  ingressClassName: podlab
  defaultBackend:
    service: {name: web, port: {number: 80}}
`, want: []string{
			"app.yaml:6:34: documents[0] (Ingress default/web): metadata.annotations[kubernetes.io/ingress.class]: Invalid value: \"nginx\": must match `ingressClassName` when both are specified\n  hint: the kubernetes.io/ingress.class annotation is deprecated: drop it and keep spec.ingressClassName",
		}},
	})
}

// manifestCase is one manifest file and the errors LoadManifests reports for it.
type manifestCase struct {
	name, yaml string
	want       []string
}

func checkManifestErrors(t *testing.T, cases []manifestCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadManifests("app.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			checkErrors(t, err, tc.want)
		})
	}
}
