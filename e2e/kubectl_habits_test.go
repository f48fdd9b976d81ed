package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// habitsLab: two labelled pods and a cluster-scoped IngressClass.
const habitsLab = `
name: %s
nodes: [{name: w}]
pods:
  - {name: web-1, node: w, labels: {app: web, tier: front}, ports: [80]}
  - {name: db-1, node: w, labels: {app: db}, ports: [5432]}
manifests:
  - apiVersion: networking.k8s.io/v1
    kind: IngressClass
    metadata: {name: nginx}
    spec: {controller: k8s.io/ingress-nginx}
`

// The kubectl and containerlab habits: deploy FILE, get -l / --show-labels / -o name,
// a cluster-scoped kind without -A, podlab ls and podlab version.
func TestKubectlHabits(t *testing.T) {
	e := newEnv(t)
	name := uniq("habits")
	file := writeLab(t, strings.Replace(habitsLab, "%s", name, 1))
	before := snapshotHost(t)
	t.Cleanup(func() {
		e.must("destroy", "--name", name)
		assertNothingLeft(t, e.root, name)
		assertHostUnchanged(t, before)
	})
	e.must("deploy", file) // the lab file as an argument, no -t

	if got := e.must("get", "pods", "-l", "app in (web,db),tier!=front", "-o", "name"); got != "pod/db-1\n" {
		t.Errorf("get pods -l ... -o name: %q, want pod/db-1", got)
	}
	out := e.must("get", "pods", "-l", "app=web", "--show-labels")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 ||
		!strings.HasSuffix(strings.TrimSpace(lines[0]), "LABELS") || !strings.HasSuffix(lines[1], "app=web,tier=front") {
		t.Errorf("get pods -l app=web --show-labels:\n%s", out)
	}
	if _, errs, code := e.run("get", "pods", "-l", "app in web"); code != 2 {
		t.Errorf("a bad selector: exit %d, want 2 (%s)", code, errs)
	}
	// Cluster-scoped: found from the default namespace, and no NAMESPACE with -A.
	if out := e.must("get", "ingressclass"); !strings.Contains(out, "nginx") {
		t.Errorf("get ingressclass without -A:\n%s", out)
	}
	if out := e.must("get", "ingressclass", "-A"); strings.Contains(out, "NAMESPACE") || !strings.Contains(out, "nginx") {
		t.Errorf("get ingressclass -A:\n%s", out)
	}
	// The lab's own and podlab's default class, which every lab has.
	if got := e.must("get", "ingressclass", "-o", "name"); got != "ingressclass.networking.k8s.io/nginx\ningressclass.networking.k8s.io/podlab\n" {
		t.Errorf("get ingressclass -o name: %q", got)
	}

	var labs []struct {
		Name, Runtime, State string
		Nodes, Pods          int
	}
	if err := json.Unmarshal([]byte(e.must("ls", "-o", "json")), &labs); err != nil {
		t.Fatal(err)
	}
	// 2 pods of the lab file and the cluster DNS's.
	if len(labs) != 1 || labs[0].Name != name || labs[0].State != "running" || labs[0].Runtime != "netns" || labs[0].Nodes != 1 || labs[0].Pods < 2 {
		t.Errorf("ls -o json: %+v", labs)
	}
	if out := e.must("ls"); !strings.HasPrefix(out, "NAME") || !strings.Contains(out, name) || !strings.Contains(out, "running") {
		t.Errorf("ls:\n%s", out)
	}

	var v struct{ Version, GoVersion string }
	if err := json.Unmarshal([]byte(e.must("version", "-o", "json")), &v); err != nil || !strings.HasPrefix(v.Version, "dev") || v.GoVersion == "" {
		t.Errorf("version -o json: %+v %v", v, err)
	}
}
