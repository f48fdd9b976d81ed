package e2e

import (
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
	for _, want := range []string{"ingress/example   podlab   example.com   172.30.0.240", "gateway/gw   podlab   172.30.0.241   True", `httproute/example   ["example.com"]`} {
		if !strings.Contains(out, want) {
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
