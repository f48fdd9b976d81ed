package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/state"
)

// Live changes through the supervisor: describe, counters, label, delete.
func TestLiveChanges(t *testing.T) {
	e := newEnv(t)
	name := uniq("live")
	st := e.deploy(name, fmt.Sprintf(smallLab, name, "l", "l"))
	a, b := st.Pods[0], st.Pods[1]

	out := e.must("describe", "--name", name, "pod", a.Name)
	for _, want := range []string{"== interfaces ==", a.IP.String() + "/24", "== routes ==", "default via", "== resolv.conf ==", "nameserver 10.96.0.10", "== CNI result", `"cniVersion"`} {
		if !strings.Contains(out, want) {
			t.Errorf("describe pod lacks %q:\n%s", want, out)
		}
	}
	out = e.must("describe", "--name", name, "node", a.Node)
	for _, want := range []string{"flannel.1", "== vxlan fdb ==", "PERMANENT", "table ip podlab", "masquerade"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe node lacks %q:\n%s", want, out)
		}
	}
	if _, errs, code := e.run("describe", "--name", name, "pod", "nope"); code != 2 || !strings.Contains(errs, "not found") {
		t.Errorf("describe of a missing pod: exit %d: %s", code, errs)
	}

	// Counters move with traffic.
	c := api.NewClient(state.For(e.root, name))
	before, err := c.Counters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := httpGet(a.Netns, b.IP.String()+":80", "/hostname"); err != nil {
			t.Fatal(err)
		}
	}
	after, err := c.Counters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ka, kb := a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name
	if after.Pods[ka].TxPackets < before.Pods[ka].TxPackets+20 || after.Pods[kb].RxPackets < before.Pods[kb].RxPackets+20 {
		t.Errorf("counters did not move: %s %+v -> %+v, %s %+v -> %+v", ka, before.Pods[ka], after.Pods[ka], kb, before.Pods[kb], after.Pods[kb])
	}

	// Labels, with kubectl's rules.
	e.must("label", "--name", name, "pod", a.Name, "tier=front", "app=x")
	if _, errs, code := e.run("label", "--name", name, "pod", a.Name, "tier=back"); code != 2 || !strings.Contains(errs, "--overwrite is false") {
		t.Errorf("label change without --overwrite: exit %d: %s", code, errs)
	}
	e.must("label", "--name", name, "pod", a.Name, "tier=back", "--overwrite")
	e.must("label", "--name", name, "pod", a.Name, "app-")
	var s api.LabState
	s = *e.inspect(name)
	if got := s.Pods[0].Labels; len(got) != 1 || got["tier"] != "back" {
		t.Errorf("labels after label commands: %v", got)
	}

	// Delete: gone from the state, its namespace removed, the other pod still answers.
	e.must("delete", "--name", name, "pod", a.Name)
	s = *e.inspect(name)
	if len(s.Pods) != 1 || s.Pods[0].Name != b.Name {
		t.Errorf("pods after delete: %+v", s.Pods)
	}
	if _, err := os.Stat(netns.Path(a.Netns)); !os.IsNotExist(err) {
		t.Errorf("namespace of the deleted pod is still there: %v", err)
	}
	if got, err := httpGet(b.Netns, b.IP.String()+":80", "/hostname"); err != nil || got != b.Name {
		t.Errorf("remaining pod: %q, %v", got, err)
	}
	if _, errs, code := e.run("delete", "--name", name, "pod", a.Name); code != 2 || !strings.Contains(errs, "not found") {
		t.Errorf("second delete: exit %d: %s", code, errs)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(e.must("events", "--name", name, "-o", "json")), "\n") {
		var ev events.Event
		json.Unmarshal([]byte(line), &ev)
		seen[ev.Type] = true
	}
	if !seen[events.PodDeleted] || !seen[events.PodLabelsChanged] {
		t.Errorf("events lack PodDeleted or PodLabelsChanged: %v", seen)
	}
}

// apply, get and delete of objects, as kubectl users expect.
func TestApplyGetDelete(t *testing.T) {
	e := newEnv(t)
	name := uniq("objs")
	e.deploy(name, fmt.Sprintf(smallLab, name, "o", "o"))
	file := writeLab(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: b}\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: default}\nspec: {podSelector: {}}\n")
	if out := e.must("apply", "--name", name, "-f", file); out != "configmap/settings created\nnetworkpolicy.networking.k8s.io/deny created\n" {
		t.Errorf("apply: %q", out)
	}
	if out := e.must("apply", "--name", name, "-f", file); !strings.Contains(out, "configmap/settings unchanged") {
		t.Errorf("second apply: %q", out)
	}
	out := e.must("get", "--name", name, "cm,netpol")
	if !strings.Contains(out, "settings") || !strings.Contains(out, "deny") {
		t.Errorf("get cm,netpol:\n%s", out)
	}
	out = e.must("get", "--name", name, "pods", "-o", "wide")
	if !strings.Contains(out, "o-1") || !strings.Contains(out, "1/1") || !strings.Contains(out, "Running") {
		t.Errorf("get pods -o wide:\n%s", out)
	}
	var list struct {
		Kind  string
		Items []map[string]any
	}
	if err := json.Unmarshal([]byte(e.must("get", "--name", name, "pods", "-o", "json")), &list); err != nil || list.Kind != "List" || len(list.Items) != 2 {
		t.Errorf("get pods -o json: %+v %v", list, err)
	}
	bad := writeLab(t, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: ClusterIp\n  ports: [{port: 80}]\n")
	if _, errs, code := e.run("apply", "--name", name, "-f", bad); code != 2 || !strings.Contains(errs, `did you mean "ClusterIP"?`) || !strings.Contains(errs, "lab.yaml:5") {
		t.Errorf("apply of an invalid Service: exit %d: %s", code, errs)
	}
	if _, errs, code := e.run("get", "--name", name, "bogus"); code != 2 || !strings.Contains(errs, `doesn't have a resource type "bogus"`) {
		t.Errorf("get bogus: exit %d: %s", code, errs)
	}
	e.must("delete", "--name", name, "-f", file)
	if _, errs, code := e.run("get", "--name", name, "cm", "settings"); code != 2 || !strings.Contains(errs, "not found") {
		t.Errorf("get after delete: exit %d: %s", code, errs)
	}
}

// A Pod and a Deployment applied to a running lab start at once, and a Service follows.
func TestApplyPods(t *testing.T) {
	e := newEnv(t)
	name := uniq("addpod")
	st := e.deploy(name, fmt.Sprintf(smallLab, name, "a", "a"))
	file := writeLab(t, `apiVersion: v1
kind: Service
metadata: {name: api}
spec: {selector: {app: api}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: podlab/netexec, ports: [{containerPort: 8080}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: solo, annotations: {podlab.dev/ip: 10.244.1.77}}
spec: {nodeName: worker-2, containers: [{name: c, image: x, ports: [{containerPort: 80}]}]}
`)
	time.Sleep(1100 * time.Millisecond) // so that a pod made now is visibly younger than the lab
	out := e.must("apply", "--name", name, "-f", file)
	for _, want := range []string{"service/api created", "deployment.apps/api created", "pod/solo created"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	// apply returns once the pods exist and are wired, as kubectl apply returns
	// before they are ready: they turn ready moments later.
	s := e.inspect(name)
	for deadline := time.Now().Add(5 * time.Second); s.ReadyCount() < 5 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		s = e.inspect(name)
	}
	if len(s.Pods) != 5 || s.ReadyCount() != 5 {
		t.Fatalf("pods after apply: %d, %d ready", len(s.Pods), s.ReadyCount())
	}
	var solo api.PodState
	for _, p := range s.Pods {
		if p.Name == "solo" {
			solo = p
		}
	}
	if solo.IP.String() != "10.244.1.77" || solo.Node != "worker-2" {
		t.Errorf("solo: %+v", solo)
	}
	// Its age is its own, not the lab's (issue 14, fault 8).
	for _, p := range e.pods(name) {
		if p.Name == "solo" && !p.CreationTimestamp.After(st.Supervisor.Started.Truncate(time.Second)) {
			t.Errorf("solo created %v, the lab's supervisor started %v: an applied pod must show its own age", p.CreationTimestamp, st.Supervisor.Started)
		}
	}
	if got, err := httpGet(st.Pods[0].Netns, "10.244.1.77:80", "/hostname"); err != nil || got != "solo" {
		t.Errorf("new pod from an old one: %q, %v", got, err)
	}
	var svc struct{ Spec struct{ ClusterIP string } }
	json.Unmarshal([]byte(e.must("get", "--name", name, "svc", "api", "-o", "json")), &svc)
	seen := map[string]int{}
	for range 30 {
		got, err := httpGet(st.Pods[0].Netns, svc.Spec.ClusterIP+":80", "/hostname")
		if err != nil {
			t.Fatal(err)
		}
		seen[got]++
	}
	if len(seen) != 2 {
		t.Errorf("the Service over the applied Deployment answered from %v, want its two replicas", seen)
	}
	if out := e.must("apply", "--name", name, "-f", file); !strings.Contains(out, "deployment.apps/api unchanged") {
		t.Errorf("second apply:\n%s", out)
	}
}
