package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

// restartLab: a pod to restart and a client pod on another node.
const restartLab = `name: %s
runtime: docker
nodes:
  - name: control-plane
    role: control-plane
  - name: worker-1
pods:
  - {name: a-1, node: worker-1, ports: [80]}
  - {name: c, node: control-plane}
`

// dockerLab skips t when no Docker engine answers, and returns a lab name unique to
// this run whose containers must all be gone once the test is over: the check is
// registered before the deploy's destroy, so it runs after it.
func dockerLab(t *testing.T, prefix string) string {
	t.Helper()
	cli := dockerEngine(t)
	name := uniq(prefix)
	t.Cleanup(func() {
		if left := labContainers(t, cli, name); len(left) > 0 {
			t.Errorf("containers of lab %s left after destroy: %v", name, left)
		}
	})
	return name
}

// dockerInspect formats (docker inspect -f) the container of the sandbox whose
// namespace is netns.
func dockerInspect(t *testing.T, netns, format string) string {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-aq", "--filter", "label=podlab.netns="+netns).Output()
	ctr := strings.TrimSpace(string(out))
	if err != nil || ctr == "" || strings.Contains(ctr, "\n") {
		all, _ := exec.Command("docker", "ps", "-a", "--format", "{{.Names}} {{.Status}} {{.Label \"podlab.netns\"}}").CombinedOutput()
		t.Fatalf("container of namespace %s: %q, %v; containers:\n%s", netns, out, err, all)
	}
	out, err = exec.Command("docker", "inspect", "-f", format, ctr).CombinedOutput()
	if err != nil {
		t.Fatalf("docker inspect %s: %v\n%s", ctr, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestDockerRestart: a node container restarted with `docker restart` behind podlab's
// back is reported: inspect shows the node broken, events has ContainerRestarted or
// ContainerDied for it, and destroy still removes everything.
func TestDockerRestart(t *testing.T) {
	name := dockerLab(t, "dk-restart")
	e := newEnv(t)
	e.deploy(name, fmt.Sprintf(restartLab, name))

	out, err := exec.Command("docker", "ps", "--filter", "label=podlab.lab="+name, "--filter", "label=podlab.role=node",
		"--format", `{{.Names}} {{.Label "podlab.node"}}`).Output()
	if err != nil {
		t.Fatalf("docker ps: %v", err)
	}
	var ctr string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == "worker-1" {
			ctr = f[0]
		}
	}
	if ctr == "" {
		t.Fatalf("no container of node worker-1 in:\n%s", out)
	}
	if b, err := exec.Command("docker", "restart", "-t", "1", ctr).CombinedOutput(); err != nil {
		t.Fatalf("docker restart %s: %v\n%s", ctr, err, b)
	}

	var broken, reported bool
	var node api.NodeState
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !(broken && reported); time.Sleep(200 * time.Millisecond) {
		st := e.inspect(name)
		for _, n := range st.Nodes {
			if n.Name == "worker-1" {
				node, broken = n, n.Broken != ""
			}
			if n.Name != "worker-1" && n.Broken != "" {
				t.Errorf("node %s broken though its container was left alone: %s", n.Name, n.Broken)
			}
		}
		sc := bufio.NewScanner(strings.NewReader(e.must("events", "--name", name, "-o", "json")))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev events.Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Kind == "Node" && ev.Name == "worker-1" &&
				(ev.Type == events.ContainerRestarted || ev.Type == events.ContainerDied) {
				reported = true
			}
		}
	}
	if !broken {
		t.Errorf("node worker-1 not broken in inspect 10 s after docker restart: %+v", node)
	} else if !strings.Contains(node.Broken, "deploy --reconfigure") {
		t.Errorf("broken message does not say what to do: %q", node.Broken)
	}
	if !reported {
		t.Errorf("no ContainerRestarted or ContainerDied event for node worker-1")
	}
	if table := e.must("inspect", "--name", name); !strings.Contains(table, "BROKEN") || !strings.Contains(table, "node worker-1") {
		t.Errorf("inspect table does not show the broken node:\n%s", table)
	}
}

// TestDockerPodRestart: a pod's container restarted with `docker restart` behind
// podlab's back comes back with a fresh network namespace; kubelet wires it again as it
// recreates a pod sandbox: the pod answers on its same address, from its container's
// own namespace, its restartCount rose by one and a SandboxRecreated event says so.
func TestDockerPodRestart(t *testing.T) {
	name := dockerLab(t, "dk-podrestart")
	e := newEnv(t)
	st := e.deploy(name, fmt.Sprintf(restartLab, name))
	ip, client := podIP(t, st, "a-1"), ""
	var netns string
	for _, p := range st.Pods {
		switch p.Name {
		case "a-1":
			netns = p.Netns
		case "c":
			client = p.Netns
		}
	}
	ctr := dockerInspect(t, netns, "{{.ID}}")
	if b, err := exec.Command("docker", "restart", "-t", "1", ctr).CombinedOutput(); err != nil {
		t.Fatalf("docker restart %s: %v\n%s", ctr, err, b)
	}
	start := time.Now()
	eventually(t, 15*time.Second, func() string {
		var pod corev1.Pod
		e.object(name, &pod, "pod", "a-1")
		if cs := pod.Status.ContainerStatuses; len(cs) != 1 || cs[0].RestartCount != 1 || !ready(pod) {
			return fmt.Sprintf("a-1 after docker restart: ready %v, container status %+v", ready(pod), cs)
		}
		if pod.Status.PodIP != ip {
			return fmt.Sprintf("a-1 has address %s after docker restart, want its same %s", pod.Status.PodIP, ip)
		}
		if got, err := httpGet(client, ip+":80", "/hostname"); err != nil || got != "a-1" {
			return fmt.Sprintf("c -> a-1 /hostname = %q, %v", got, err)
		}
		return ""
	})
	t.Logf("a-1 answers again %s after docker restart returned", time.Since(start).Round(time.Millisecond))
	// The container's own namespace (what docker exec sees) is the wired one.
	if out := e.must("exec", "--name", name, "a-1", "--", "ip", "-o", "-4", "addr", "show", "eth0"); !strings.Contains(out, ip+"/24") {
		t.Errorf("eth0 in a-1's container after the restart: %q", out)
	}
	evs := e.must("events", "--name", name, "-o", "json")
	var recreated bool
	for _, line := range strings.Split(strings.TrimSpace(evs), "\n") {
		var ev events.Event
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Type == "SandboxRecreated" && ev.Name == "a-1" {
			recreated = true
		}
	}
	if !recreated {
		t.Errorf("no SandboxRecreated event for a-1:\n%s", evs)
	}
	if table := e.must("inspect", "--name", name); strings.Contains(table, "BROKEN") {
		t.Errorf("a re-wired pod is shown broken:\n%s", table)
	}
}
