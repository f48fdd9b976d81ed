package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
)

// ingressLab: one echo-basic pod behind each Service, so that every answer says which
// backend took it and what path it saw; Ingresses as the Kubernetes docs write them.
const ingressLab = `name: %s
cluster:
  loadBalancerPool: [172.30.0.240/28]
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
hosts:
  - name: client
manifests:
%s
  - apiVersion: v1
    kind: Service
    metadata: {name: s-empty}
    spec:
      selector: {app: nothing}
      ports: [{port: 80}]
%s
`

// ingressBackends are the echo-basic pods and their Services.
var ingressBackends = []string{"root", "aaa", "aaabbb", "foo-exact", "foo-prefix", "default"}

func backendManifests() string {
	var b strings.Builder
	for i, n := range ingressBackends {
		fmt.Fprintf(&b, `  - apiVersion: v1
    kind: Pod
    metadata: {name: %[1]s, labels: {app: %[1]s}}
    spec:
      nodeName: worker-%[2]d
      containers:
        - name: echo
          image: gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd
  - apiVersion: v1
    kind: Service
    metadata: {name: s-%[1]s}
    spec:
      selector: {app: %[1]s}
      ports: [{name: http, port: 80, targetPort: 3000}]
`, n, i%2+1)
	}
	return b.String()
}

// pathTableIngresses are the rows of the Ingress documentation's path table, one host
// each, plus hosts, wildcards, the default backend and a missing endpoint.
const pathTableIngresses = `  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: table}
    spec:
      rules:
        - host: t1.example
          http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s-root, port: {number: 80}}}}]}
        - host: t2.example
          http: {paths: [{path: /foo, pathType: Exact, backend: {service: {name: s-foo-exact, port: {number: 80}}}}]}
        - host: t3.example
          http: {paths: [{path: /foo/, pathType: Exact, backend: {service: {name: s-foo-exact, port: {number: 80}}}}]}
        - host: t4.example
          http: {paths: [{path: /foo, pathType: Prefix, backend: {service: {name: s-foo-prefix, port: {name: http}}}}]}
        - host: t5.example
          http: {paths: [{path: /foo/, pathType: Prefix, backend: {service: {name: s-foo-prefix, port: {number: 80}}}}]}
        - host: t6.example
          http: {paths: [{path: /aaa/bb, pathType: Prefix, backend: {service: {name: s-aaa, port: {number: 80}}}}]}
        - host: t7.example
          http: {paths: [{path: /aaa/bbb, pathType: Prefix, backend: {service: {name: s-aaabbb, port: {number: 80}}}}]}
        - host: t8.example
          http: {paths: [{path: /aaa/bbb/, pathType: Prefix, backend: {service: {name: s-aaabbb, port: {number: 80}}}}]}
        - host: t9.example
          http:
            paths:
              - {path: /, pathType: Prefix, backend: {service: {name: s-root, port: {number: 80}}}}
              - {path: /aaa, pathType: Prefix, backend: {service: {name: s-aaa, port: {number: 80}}}}
              - {path: /aaa/bbb, pathType: Prefix, backend: {service: {name: s-aaabbb, port: {number: 80}}}}
        - host: t12.example
          http:
            paths:
              - {path: /foo, pathType: Prefix, backend: {service: {name: s-foo-prefix, port: {number: 80}}}}
              - {path: /foo, pathType: Exact, backend: {service: {name: s-foo-exact, port: {number: 80}}}}
        - host: "*.wild.example"
          http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s-root, port: {number: 80}}}}]}
        - host: exact.wild.example
          http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s-aaa, port: {number: 80}}}}]}
        - host: empty.example
          http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s-empty, port: {number: 80}}}}]}
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: with-default}
    spec:
      defaultBackend: {service: {name: s-default, port: {number: 80}}}
      rules:
        - host: t11.example
          http: {paths: [{path: /aaa, pathType: Prefix, backend: {service: {name: s-aaa, port: {number: 80}}}}]}
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: rewrite
      annotations:
        nginx.ingress.kubernetes.io/use-regex: "true"
        nginx.ingress.kubernetes.io/rewrite-target: /$2
    spec:
      ingressClassName: podlab
      rules:
        - host: rewrite.example
          http:
            paths:
              - {path: /something(/|$)(.*), pathType: ImplementationSpecific, backend: {service: {name: s-root, port: {number: 80}}}}
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: tls}
    spec:
      tls: [{hosts: [tls.example], secretName: tls-example}]
      rules:
        - host: tls.example
          http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s-root, port: {number: 80}}}}]}
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: other-class}
    spec:
      ingressClassName: somebody-else
      rules:
        - host: other.example
          http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s-root, port: {number: 80}}}}]}`

// echoReply is what echo-basic answers.
type echoReply struct {
	Path    string              `json:"path"`
	Host    string              `json:"host"`
	Method  string              `json:"method"`
	Pod     string              `json:"pod"`
	Headers map[string][]string `json:"headers"`
}

// curlResult is one curl request's outcome.
type curlResult struct {
	status  int
	headers string
	body    string
	echo    echoReply
}

// curl runs curl inside network namespace ns (a lab host: outside the cluster).
func curl(t *testing.T, ns string, args ...string) curlResult {
	t.Helper()
	dir := t.TempDir()
	hdr := filepath.Join(dir, "h")
	full := append([]string{"netns", "exec", ns, "curl", "-s", "--max-time", "5", "-D", hdr, "-o", filepath.Join(dir, "b"), "-w", "%{http_code}"}, args...)
	out, err := exec.Command("ip", full...).CombinedOutput()
	if err != nil && len(out) == 0 {
		t.Fatalf("curl %v: %v", args, err)
	}
	var r curlResult
	fmt.Sscanf(string(out), "%d", &r.status)
	h, _ := os.ReadFile(hdr)
	b, _ := os.ReadFile(filepath.Join(dir, "b"))
	r.headers, r.body = string(h), string(b)
	json.Unmarshal(b, &r.echo)
	return r
}

func TestIngress(t *testing.T) {
	name := uniq("ingr")
	e := newEnv(t)
	st := e.deploy(name, fmt.Sprintf(ingressLab, name, backendManifests(), pathTableIngresses))
	host := st.Hosts[0].Netns

	// The TLS Secret as a learner makes it, after the Ingress that names it.
	e.must("create", "secret", "tls", "tls-example", "--host", "tls.example", "--name", name)

	var lb string
	deadline := time.Now().Add(20 * time.Second)
	for lb == "" && time.Now().Before(deadline) {
		var ing networkingv1.Ingress
		if err := json.Unmarshal([]byte(e.must("get", "--name", name, "ingress", "table", "-o", "json")), &ing); err != nil {
			t.Fatal(err)
		}
		if len(ing.Status.LoadBalancer.Ingress) > 0 {
			lb = ing.Status.LoadBalancer.Ingress[0].IP
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if lb == "" {
		t.Fatalf("no address in the Ingress's status.loadBalancer:\n%s\n%s", e.must("get", "--name", name, "ingress", "-A"), e.must("get", "--name", name, "pods", "-A"))
	}
	out := e.must("get", "--name", name, "ingress")
	if !strings.Contains(out, "table") || !strings.Contains(out, lb) || !strings.Contains(out, "80") {
		t.Errorf("get ingress shows no address:\n%s", out)
	}
	// The controller must be ready before the requests (its pod's readiness gates the LB).
	waitFor(t, 20*time.Second, func() bool {
		r := curl(t, host, "-H", "Host: t1.example", "http://"+lb+"/")
		return r.status == 200
	})

	cases := []struct {
		host, path string
		want       string // backend pod, or "404"/"503"
	}{
		{"t1.example", "/anything/at/all", "root"},
		{"t2.example", "/foo", "foo-exact"},
		{"t2.example", "/bar", "404"},
		{"t2.example", "/foo/", "404"},
		{"t3.example", "/foo", "404"},
		{"t4.example", "/foo", "foo-prefix"},
		{"t4.example", "/foo/", "foo-prefix"},
		{"t5.example", "/foo", "foo-prefix"},
		{"t5.example", "/foo/", "foo-prefix"},
		{"t6.example", "/aaa/bbb", "404"},
		{"t7.example", "/aaa/bbb", "aaabbb"},
		{"t7.example", "/aaa/bbb/", "aaabbb"},
		{"t7.example", "/aaa/bbb/ccc", "aaabbb"},
		{"t7.example", "/aaa/bbbxyz", "404"},
		{"t8.example", "/aaa/bbb", "aaabbb"},
		{"t9.example", "/aaa/ccc", "aaa"},
		{"t9.example", "/aaa/bbb", "aaabbb"},
		{"t9.example", "/ccc", "root"},
		{"t11.example", "/ccc", "default"},
		{"t11.example", "/aaa", "aaa"},
		{"t12.example", "/foo", "foo-exact"},
		{"t12.example", "/foo/x", "foo-prefix"},
		{"a.wild.example", "/", "root"},
		{"A.Wild.Example:80", "/", "root"},
		{"exact.wild.example", "/", "aaa"},
		{"a.b.wild.example", "/", "default"},
		{"wild.example", "/", "default"},
		{"unknown.example", "/", "default"},
		{"other.example", "/", "default"},
		{"empty.example", "/", "503"},
	}
	for _, c := range cases {
		r := curl(t, host, "-H", "Host: "+c.host, "http://"+lb+c.path)
		got := r.echo.Pod
		if r.status != 200 {
			got = fmt.Sprint(r.status)
		}
		if got != c.want {
			t.Errorf("Host %s, %s: got %s, want %s (body %.200q)", c.host, c.path, got, c.want, r.body)
		}
		if r.status == 200 && r.echo.Path != c.path {
			t.Errorf("Host %s, %s: the backend saw path %q", c.host, c.path, r.echo.Path)
		}
	}

	t.Run("forwarded headers", func(t *testing.T) {
		r := curl(t, host, "-H", "Host: t1.example", "http://"+lb+"/x?y=1")
		if r.echo.Path != "/x?y=1" || r.echo.Host != "t1.example" {
			t.Errorf("path %q host %q", r.echo.Path, r.echo.Host)
		}
		client := st.Hosts[0].IP.String()
		for h, want := range map[string]string{"X-Forwarded-For": client, "X-Real-Ip": client, "X-Forwarded-Proto": "http", "X-Forwarded-Host": "t1.example"} {
			if got := r.echo.Headers[h]; len(got) == 0 || got[0] != want {
				t.Errorf("%s = %v, want %s", h, got, want)
			}
		}
	})
	t.Run("rewrite-target", func(t *testing.T) {
		for path, want := range map[string]string{"/something/new": "/new", "/something": "/", "/SOMETHING/x?q=1": "/x?q=1"} {
			r := curl(t, host, "-H", "Host: rewrite.example", "http://"+lb+path)
			if r.status != 200 || r.echo.Path != want {
				t.Errorf("%s: status %d, backend saw %q, want %q", path, r.status, r.echo.Path, want)
			}
		}
	})
	t.Run("TLS with SNI and the redirect to https", func(t *testing.T) {
		var sec struct {
			Data map[string]string `json:"data"`
		}
		if err := json.Unmarshal([]byte(e.must("get", "--name", name, "secret", "tls-example", "-o", "json")), &sec); err != nil {
			t.Fatal(err)
		}
		crt, err := base64.StdEncoding.DecodeString(sec.Data["tls.crt"])
		if err != nil {
			t.Fatal(err)
		}
		ca := filepath.Join(t.TempDir(), "ca.crt")
		os.WriteFile(ca, crt, 0o644)
		var r curlResult
		waitFor(t, 10*time.Second, func() bool {
			r = curl(t, host, "--cacert", ca, "--resolve", "tls.example:443:"+lb, "https://tls.example/secure")
			return r.status == 200
		})
		if r.echo.Pod != "root" || r.echo.Headers["X-Forwarded-Proto"][0] != "https" {
			t.Errorf("https: %d %q", r.status, r.body)
		}
		// Another name gets the controller's default certificate, which curl refuses.
		if r := curl(t, host, "--cacert", ca, "--resolve", "t1.example:443:"+lb, "https://t1.example/"); r.status != 0 {
			t.Errorf("t1.example over https verified with tls.example's certificate: %d", r.status)
		}
		if r := curl(t, host, "-k", "--resolve", "t1.example:443:"+lb, "https://t1.example/"); r.status != 200 || r.echo.Pod != "root" {
			t.Errorf("t1.example over https with -k: %d %q", r.status, r.body)
		}
		r = curl(t, host, "--resolve", "tls.example:80:"+lb, "http://tls.example/a?b=c")
		if r.status != 308 || !strings.Contains(r.headers, "https://tls.example/a?b=c") {
			t.Errorf("ssl-redirect: %d\n%s", r.status, r.headers)
		}
	})
	t.Run("access log names the rule", func(t *testing.T) {
		out := e.must("logs", "--name", name, "-n", "podlab-ingress", "deploy/podlab-ingress-controller")
		if !strings.Contains(out, `"GET /aaa/bbb/ccc HTTP/1.1" 200`) || !strings.Contains(out, "Ingress/default/table") {
			t.Errorf("access log:\n%s", out)
		}
	})
	t.Run("events say what is wrong", func(t *testing.T) {
		out := e.must("events", "--name", name)
		if !strings.Contains(out, "somebody-else") {
			t.Errorf("no event about the unknown class:\n%s", out)
		}
	})
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not so after %s", d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
