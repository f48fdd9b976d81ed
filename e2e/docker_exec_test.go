package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// TestDockerExec: `podlab exec` into a pod of a docker lab runs in the pod's container
// through the engine's exec API, sees the pod's address and its resolv.conf, and exits
// with the command's exit code.
func TestDockerExec(t *testing.T) {
	cli := dockerEngine(t)
	e := newEnv(t)
	name := uniq("dk-exec")
	t.Cleanup(func() {
		if left := labContainers(t, cli, name); len(left) > 0 {
			t.Errorf("containers of lab %s left after destroy: %v", name, left)
		}
	})
	st := e.deploy(name, fmt.Sprintf("name: %s\nruntime: docker\nnodes: [{name: n1}]\npods:\n  - {name: web-1, node: n1, ports: [80]}\n", name))
	if len(st.Pods) != 1 {
		t.Fatalf("want 1 pod, got %d", len(st.Pods))
	}
	pod := st.Pods[0]

	out := e.must("exec", "--name", name, pod.Name, "--", "ip", "-o", "-4", "addr", "show", "eth0")
	if !strings.Contains(out, " "+pod.IP.String()+"/") {
		t.Errorf("ip addr in %s: %q, want %s", pod.Name, out, pod.IP)
	}
	out = e.must("exec", "--name", name, pod.Name, "--", "cat", "/etc/resolv.conf")
	if !strings.Contains(out, "nameserver 10.96.0.10") {
		t.Errorf("resolv.conf in %s:\n%s", pod.Name, out)
	}
	out = e.must("exec", "--name", name, pod.Name, "--", "cat", "/etc/hosts")
	if !strings.Contains(out, pod.IP.String()+"\t"+pod.Name) {
		t.Errorf("hosts in %s:\n%s", pod.Name, out)
	}
	out, errs, code := e.run("exec", "--name", name, pod.Name, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
	if code != 3 || strings.TrimSpace(out) != "out" || strings.TrimSpace(errs) != "err" {
		t.Errorf("sh -c 'exit 3': exit %d, stdout %q, stderr %q; want 3, out, err", code, out, errs)
	}
	// A node is its own container too.
	out = e.must("exec", "--name", name, "n1", "--", "hostname")
	if strings.TrimSpace(out) == "" {
		t.Errorf("hostname in node n1: empty")
	}
}
