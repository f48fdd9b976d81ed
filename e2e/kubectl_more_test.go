package e2e

import (
	"strings"
	"testing"
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
`

// get -o jsonpath= with the templates kubectl users write.
func TestGetJSONPath(t *testing.T) {
	e := newEnv(t)
	name := uniq("jpath")
	st := e.deploy(name, strings.Replace(moreLab, "%s", name, 1))
	if got := e.must("get", "pods", "--name", name, "-o", "jsonpath={.items[*].metadata.name}"); got != "web-1 web-2" {
		t.Errorf("jsonpath {.items[*].metadata.name}: %q", got)
	}
	if got := e.must("get", "pods", "--name", name, "-o", `jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}`); got != "web-1\nweb-2\n" {
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
