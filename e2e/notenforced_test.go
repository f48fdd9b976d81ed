package e2e

import (
	"fmt"
	"strings"
	"testing"
)

const keptLab = `
name: %s
nodes: [{name: w}]
pods: [{name: web-1, node: w, labels: {app: web}, ports: [80]}]
manifests:
  - apiVersion: batch/v1
    kind: Job
    metadata: {name: web}
    spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}
  - apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: allow}
    spec: {podSelector: {}, ingress: [{}]}
`

// get and inspect say plainly that the lab's Job runs nothing, and say nothing
// of the kind about a NetworkPolicy, which is enforced.
func TestNotEnforced(t *testing.T) {
	e := newEnv(t)
	name := uniq("kept")
	e.deploy(name, fmt.Sprintf(keptLab, name))
	const note = "NOT ENFORCED: this version keeps Job objects but runs no pods for them yet"
	out, errs, code := e.run("get", "jobs", "--name", name)
	if code != 0 || !strings.Contains(out, "web") || strings.TrimSpace(errs) != note {
		t.Errorf("get jobs: exit %d:\n%s%s", code, out, errs)
	}
	if _, errs, code := e.run("get", "netpol", "--name", name); code != 0 || strings.Contains(errs, "NOT ENFORCED") {
		t.Errorf("get netpol: exit %d: %s", code, errs)
	}
	if out := e.must("inspect", "--name", name); !strings.Contains(out, note+": default/web\n") || strings.Contains(out, "NetworkPolicy") || strings.Contains(out, "not applied") {
		t.Errorf("inspect:\n%s", out)
	}
}
