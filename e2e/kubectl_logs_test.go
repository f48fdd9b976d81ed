package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const graphLab = `
name: %s
nodes: [{name: cp, role: control-plane}, {name: w1}]
hosts: [{name: db}]
pods:
  - {name: web-1, node: w1, labels: {app: web}, ports: [8080]}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
`

// podlab use picks the lab commands act on when two run; $PODLAB_LAB wins over it;
// a current lab that is gone is exit 2 with a hint. graph draws the current lab's
// nodes, host, pod and Service with an edge to its endpoint, in dot and Mermaid.
func TestUseAndGraph(t *testing.T) {
	e := newEnv(t)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	t.Setenv("PODLAB_LAB", "")
	a, b := uniq("usea"), uniq("useb")
	e.deploy(a, fmt.Sprintf(graphLab, a))
	e.deploy(b, fmt.Sprintf("name: %s\nnodes: [{name: solo}]\npods: [{name: lone, node: solo}]\n", b))
	if _, errs, code := e.run("graph"); code != 2 || !strings.Contains(errs, "podlab use LAB") {
		t.Errorf("graph with two labs, none current: exit %d: %s", code, errs)
	}
	if out := e.must("use", a); !strings.Contains(out, "current lab is now "+a) {
		t.Errorf("use %s: %s", a, out)
	}
	if out := e.must("use"); !strings.HasPrefix(out, a+" (from ") {
		t.Errorf("use: %s", out)
	}
	var dot string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		dot = e.must("graph")
		if strings.Contains(dot, "svc_default_web -- pod_default_web_1") || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range []string{`graph "` + a + `" {`, "node_cp [label=\"node cp\\n", "node_w1 -- overlay_net", "host_db [label=\"host db\\n",
		"subgraph cluster_pods_w1 {", "pod_default_web_1 -- node_w1;", "svc_default_web -- pod_default_web_1 [label=\"8080\", style=dashed];"} {
		if !strings.Contains(dot, want) {
			t.Errorf("graph lacks %s:\n%s", want, dot)
		}
	}
	if mm := e.must("graph", "-o", "mermaid", "--name", b); !strings.HasPrefix(mm, "flowchart TB\n") || !strings.Contains(mm, "pod_default_lone") || strings.Contains(mm, "web_1") {
		t.Errorf("graph -o mermaid --name %s:\n%s", b, mm)
	}
	t.Setenv("PODLAB_LAB", b)
	if out := e.must("get", "pods"); !strings.Contains(out, "lone") || strings.Contains(out, "web-1") {
		t.Errorf("get pods with PODLAB_LAB=%s:\n%s", b, out)
	}
	t.Setenv("PODLAB_LAB", "no-such-lab")
	if _, errs, code := e.run("get", "pods"); code != 2 || !strings.Contains(errs, `current lab "no-such-lab" (from $PODLAB_LAB) is not deployed`) {
		t.Errorf("get pods with a gone current lab: exit %d: %s", code, errs)
	}
}

// podlab logs POD for an ordinary pod: its built-in servers' requests, as its image
// logs them (nginx's access log here), kubelet's probes included.
func TestPodRequestLog(t *testing.T) {
	e := newEnv(t)
	name := uniq("reqlog")
	st := e.deploy(name, "name: "+name+`
nodes: [{name: control-plane, role: control-plane}, {name: worker-1}]
manifests:
  - {apiVersion: v1, kind: Pod, metadata: {name: web}, spec: {containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 80}]}]}}
  - {apiVersion: v1, kind: Pod, metadata: {name: client}, spec: {containers: [{name: c, image: podlab/pod}]}}
`)
	var webIP, client string
	for _, p := range st.Pods {
		switch p.Name {
		case "web":
			webIP = p.IP.String()
		case "client":
			client = p.Netns
		}
	}
	if _, err := httpGet(client, webIP+":80", "/from-the-test"); err != nil {
		t.Fatalf("GET from the client: %v", err)
	}
	out := e.must("logs", "--name", name, "web")
	if !strings.Contains(out, `"GET /from-the-test HTTP/1.1" 404`) || !strings.Contains(out, `"GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.32"`) { // nginx has no such page; kubelet checks /healthz
		t.Errorf("podlab logs web lacks the request, as nginx logs it:\n%s", out)
	}
	if tail := e.must("logs", "--name", name, "web", "--tail", "1"); strings.Count(strings.TrimSpace(tail), "\n") != 0 {
		t.Errorf("--tail 1 printed:\n%s", tail)
	}
}
