package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// moreLab: two pods serving HTTP on port 80 behind a Service.
const moreLab = `
name: %s
nodes: [{name: w}]
pods:
  - {name: web-1, node: w, labels: {app: web}, ports: [80]}
  - {name: web-2, node: w, labels: {app: web}, ports: [80]}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec: {selector: {app: web}, ports: [{port: 80}]}
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api}
    spec: {replicas: 2, selector: {matchLabels: {app: api}}, template: {metadata: {labels: {app: api}}, spec: {containers: [{name: api, image: agnhost}]}}}
`

// get -o jsonpath= with the templates kubectl users write.
func TestGetJSONPath(t *testing.T) {
	e := newEnv(t)
	name := uniq("jpath")
	st := e.deploy(name, strings.Replace(moreLab, "%s", name, 1))
	if got := e.must("get", "pods", "-l", "app=web", "--name", name, "-o", "jsonpath={.items[*].metadata.name}"); got != "web-1 web-2" {
		t.Errorf("jsonpath {.items[*].metadata.name}: %q", got)
	}
	if got := e.must("get", "pods", "-l", "app=web", "--name", name, "-o", `jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}`); got != "web-1\nweb-2\n" {
		t.Errorf("jsonpath range: %q", got)
	}
	if got := e.must("get", "pods", "web-1", "--name", name, "-o", "jsonpath={.status.podIP}"); got != podIP(t, st, "web-1") {
		t.Errorf("jsonpath {.status.podIP}: %q, want %s", got, podIP(t, st, "web-1"))
	}
	if got := e.must("get", "svc", "web", "--name", name, "-o", "jsonpath={.spec.clusterIP}"); !strings.HasPrefix(got, "10.") {
		t.Errorf("jsonpath {.spec.clusterIP}: %q", got)
	}
	if _, errs, code := e.run("get", "pods", "--name", name, "-o", "jsonpath={.items["); code != 2 {
		t.Errorf("a broken template: exit %d, want 2 (%s)", code, errs)
	}
}

// wait --for=condition=Ready|delete, with kubectl's messages and exit codes.
func TestWait(t *testing.T) {
	e := newEnv(t)
	name := uniq("wait")
	e.deploy(name, strings.Replace(moreLab, "%s", name, 1))
	if got := e.must("wait", "--name", name, "--for=condition=Ready", "pod/web-1", "--timeout", "30s"); got != "pod/web-1 condition met\n" {
		t.Errorf("wait --for=condition=Ready pod/web-1: %q", got)
	}
	if got := e.must("wait", "--name", name, "--for=condition=Available", "deployment/api", "--timeout", "30s"); got != "deployment/api condition met\n" {
		t.Errorf("wait --for=condition=Available deployment/api: %q", got)
	}
	_, errs, code := e.run("wait", "--name", name, "--for=condition=Nothing", "pod/web-1", "--timeout", "1s")
	if code != 1 || !strings.Contains(errs, "timed out waiting for the condition on pods/web-1") {
		t.Errorf("a condition never met: exit %d, %q", code, errs)
	}
	if _, errs, code := e.run("wait", "--name", name, "--for=condition=Ready", "pod/nope", "--timeout", "1s"); code != 2 {
		t.Errorf("an unknown pod: exit %d, want 2 (%s)", code, errs)
	}
	e.must("delete", "--name", name, "pod", "web-2")
	if got := e.must("wait", "--name", name, "--for=delete", "pod/web-2", "--timeout", "30s"); got != "pod/web-2 deleted\n" {
		t.Errorf("wait --for=delete pod/web-2: %q", got)
	}
}

// port-forward listens on 127.0.0.1 only and carries HTTP into the pod, for a pod and
// for a Service.
func TestPortForward(t *testing.T) {
	e := newEnv(t)
	name := uniq("pfwd")
	e.deploy(name, strings.Replace(moreLab, "%s", name, 1))
	for i, target := range []string{"web-1", "svc/web"} {
		local := 20000 + os.Getpid()%10000 + i
		cmd := exec.Command(podlabBin, "port-forward", "--name", name, target, fmt.Sprintf("%d:80", local))
		cmd.Env = append(os.Environ(), "PODLAB_STATE_DIR="+e.root)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, _ := bufio.NewReader(out).ReadString('\n')
		if want := fmt.Sprintf("Forwarding from 127.0.0.1:%d -> 80\n", local); line != want {
			t.Errorf("port-forward %s: %q, want %q", target, line, want)
		}
		go io.Copy(io.Discard, out)
		hc := http.Client{Timeout: 5 * time.Second}
		resp, err := hc.Get(fmt.Sprintf("http://127.0.0.1:%d/", local))
		if err != nil {
			t.Errorf("port-forward %s: %v", target, err)
		} else {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || len(body) == 0 {
				t.Errorf("port-forward %s: HTTP %d %q", target, resp.StatusCode, body)
			}
		}
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("port-forward %s after Ctrl-C: %v", target, err)
		}
	}
}
