package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestIngressBundledLab deploys labs/ingress as the README's tour does (under a name of
// its own) and follows the tour: the Ingress and the Gateway answer the same request
// with the same rewrite, and the access log names the rule.
func TestIngressBundledLab(t *testing.T) {
	name := uniq("inglab")
	dir := t.TempDir()
	src := "../labs/ingress"
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	lab, err := os.ReadFile(filepath.Join(dir, "lab.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(lab), "name: ingress\n", "name: "+name+"\n", 1)
	if err := os.WriteFile(filepath.Join(dir, "lab.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	before := snapshotHost(t)
	t.Cleanup(func() {
		e.must("destroy", "--name", name)
		assertNothingLeft(t, e.root, name)
		assertHostUnchanged(t, before)
	})
	e.must("deploy", "-t", filepath.Join(dir, "lab.yaml"))
	host := e.inspect(name).Hosts[0].Netns
	out := e.must("get", "--name", name, "ingress,gateway,httproute")
	// Columns are as wide as the lab's longest cell: compare words.
	words := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{"ingress/example podlab example.com 172.30.0.240", "gateway/gw podlab 172.30.0.241 True", `httproute/example ["example.com"]`} {
		if !strings.Contains(words, want) {
			t.Errorf("get: no %q in\n%s", want, out)
		}
	}
	for _, addr := range []string{"172.30.0.240", "172.30.0.241"} {
		var r curlResult
		waitFor(t, 10*time.Second, func() bool {
			r = curl(t, host, "-H", "Host: example.com", "http://"+addr+"/my-app/hello")
			return r.status == 200
		})
		if r.echo.Path != "/hello" || !strings.HasPrefix(r.echo.Pod, "web-") {
			t.Errorf("%s: the backend saw %q (pod %q)", addr, r.echo.Path, r.echo.Pod)
		}
	}
	if out := e.must("logs", "--name", name, "-n", "podlab-ingress", "deploy/podlab-ingress-controller"); !strings.Contains(out, "matched=Ingress/default/example rules[0].paths[0]") {
		t.Errorf("ingress access log:\n%s", out)
	}
	if out := e.must("logs", "--name", name, "-n", "podlab-gateway-system", "deploy/default-gw"); !strings.Contains(out, "matched=HTTPRoute/default/example rules[0].matches[0]") {
		t.Errorf("gateway access log:\n%s", out)
	}
	if out := e.must("convert", "--name", name, "ingress", "example"); !strings.Contains(out, "replacePrefixMatch: /") || !strings.Contains(out, "kind: HTTPRoute") {
		t.Errorf("convert:\n%s", out)
	}
}

// dockerIngressLab: the same Ingress and Gateway on the Docker runtime, in front of a
// pod running podlab's own server (no image to pull).
const dockerIngressLab = `name: %s
cluster:
  loadBalancerPool: [172.30.0.240/28]
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
hosts:
  - name: client
pods:
  - {name: web-1, node: worker-1, labels: {app: web}, ports: [8080]}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: web}
    spec:
      rules:
        - host: example.com
          http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
  - apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: gw}
    spec:
      gatewayClassName: podlab
      listeners: [{name: http, protocol: HTTP, port: 80}]
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: web}
    spec:
      parentRefs: [{name: gw}]
      rules: [{backendRefs: [{name: web, port: 80}]}]
`

// TestIngressDocker: the proxy pods are containers too; their sockets live in the
// containers' namespaces and traffic from the host container reaches the backend.
func TestIngressDocker(t *testing.T) {
	name, header := labOn(t, "docker", "ing")
	e := newEnv(t)
	st := e.deploy(name, header+fmt.Sprintf(dockerIngressLab, name))
	host := st.Hosts[0].Netns
	for _, addr := range []string{"172.30.0.240", "172.30.0.241"} {
		var r curlResult
		waitFor(t, 15*time.Second, func() bool {
			r = curl(t, host, "-H", "Host: example.com", "http://"+addr+"/hostname")
			return r.status == 200
		})
		if strings.TrimSpace(r.body) != "web-1" {
			t.Errorf("%s: %q", addr, r.body)
		}
	}
}

// TestIngressControllerUpFront: with cluster.ingress.controller the controller is up
// before any Ingress (its address answers 404), and an Ingress applied later routes
// as soon as apply returns.
func TestIngressControllerUpFront(t *testing.T) {
	name := uniq("ingup")
	lab := strings.Replace(fmt.Sprintf(dockerIngressLab, name), "  loadBalancerPool: [172.30.0.240/28]\n", "  loadBalancerPool: [172.30.0.240/28]\n  ingress: {controller: true}\n", 1)
	lab = lab[:strings.Index(lab, "  - apiVersion: networking.k8s.io/v1")]
	e := newEnv(t)
	st := e.deploy(name, lab)
	host := st.Hosts[0].Netns
	var r curlResult
	waitFor(t, 10*time.Second, func() bool {
		r = curl(t, host, "-H", "Host: example.com", "http://172.30.0.240/hostname")
		return r.status != 0
	})
	if r.status != 404 || !strings.Contains(r.body, "nginx") {
		t.Errorf("no Ingress yet: %d %q", r.status, r.body)
	}
	f := writeLab(t, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  rules:
    - host: example.com
      http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`)
	e.must("apply", "--name", name, "-f", f)
	if r = curl(t, host, "-H", "Host: example.com", "http://172.30.0.240/hostname"); r.status != 200 || strings.TrimSpace(r.body) != "web-1" {
		t.Errorf("right after apply: %d %q", r.status, r.body)
	}
}
