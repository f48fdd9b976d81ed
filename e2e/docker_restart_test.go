package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

// TestDockerRestart: a node container restarted with `docker restart` behind podlab's
// back is reported: inspect shows the node broken, events has ContainerRestarted or
// ContainerDied for it, and destroy still removes everything.
func TestDockerRestart(t *testing.T) {
	cli := dockerEngine(t)
	e := newEnv(t)
	name := uniq("dk-restart")
	t.Cleanup(func() {
		if left := labContainers(t, cli, name); len(left) > 0 {
			t.Errorf("containers of lab %s left after destroy: %v", name, left)
		}
	})
	e.deploy(name, fmt.Sprintf(`name: %s
runtime: docker
nodes:
  - name: control-plane
    role: control-plane
  - name: worker-1
pods:
  - {name: a-1, node: worker-1, ports: [80]}
`, name))

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
		var st api.LabState
		if err := json.Unmarshal([]byte(e.must("inspect", "--name", name, "-o", "json")), &st); err != nil {
			t.Fatalf("inspect -o json: %v", err)
		}
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
