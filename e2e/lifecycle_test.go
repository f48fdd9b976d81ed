package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

const smallLab = `name: %s
nodes:
  - name: worker-1
  - name: worker-2
pods:
  - {name: %s-1, ports: [80]}
  - {name: %s-2, ports: [80]}
`

// Two labs with the same CIDRs, side by side: each pod answers with its own name.
func TestTwoLabsSameCIDRs(t *testing.T) {
	e := newEnv(t)
	a, b := uniq("twin-a"), uniq("twin-b")
	sa := e.deploy(a, fmt.Sprintf(smallLab, a, "x", "x"))
	sb := e.deploy(b, fmt.Sprintf(smallLab, b, "y", "y"))
	for i := range sa.Pods {
		if sa.Pods[i].IP != sb.Pods[i].IP {
			t.Fatalf("labs should reuse the same addresses: %s vs %s", sa.Pods[i].IP, sb.Pods[i].IP)
		}
	}
	for _, st := range []*api.LabState{sa, sb} {
		src, dst := st.Pods[0], st.Pods[1]
		got, err := httpGet(src.Netns, dst.IP.String()+":80", "/hostname")
		if err != nil || got != dst.Name {
			t.Errorf("lab %s: %s -> %s = %q, %v", st.Lab, src.Name, dst.IP, got, err)
		}
	}
	// Destroying one leaves the other working.
	e.must("destroy", "--name", a)
	got, err := httpGet(sb.Pods[0].Netns, sb.Pods[1].IP.String()+":80", "/hostname")
	if err != nil || got != sb.Pods[1].Name {
		t.Errorf("lab %s after destroying %s: %q, %v", b, a, got, err)
	}
}

// SIGINT in the middle of a deploy rolls everything back.
func TestInterruptedDeploy(t *testing.T) {
	e := newEnv(t)
	name := uniq("sigint")
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nnodes:\n  - name: worker-1\n  - name: worker-2\npods:\n", name)
	for i := range 300 {
		fmt.Fprintf(&b, "  - {name: p-%d, ports: [80]}\n", i)
	}
	before := snapshotHost(t)
	file := writeLab(t, b.String())
	t.Cleanup(func() { e.run("destroy", "--name", name) })
	cmd := exec.Command(podlabBin, "deploy", "-t", file)
	cmd.Env = append(os.Environ(), "PODLAB_STATE_DIR="+e.root)
	var errb syncBuffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once pods are being attached, half-way through.
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(errb.String(), "attaching pods") && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("interrupted deploy: %v, want exit 1\n%s", err, errb.String())
	}
	if !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("interrupted deploy does not say so:\n%s", errb.String())
	}
	assertNothingLeft(t, e.root, name)
	assertHostUnchanged(t, before)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Misuse gets a clear message and the right exit code.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	name := uniq("refuse")
	text := fmt.Sprintf(smallLab, name, "r", "r")
	e.deploy(name, text)
	file := writeLab(t, text)

	_, errs, code := e.run("deploy", "-t", file)
	if code != 2 || !strings.Contains(errs, "already deployed") || !strings.Contains(errs, "--reconfigure") {
		t.Errorf("second deploy: exit %d: %s", code, errs)
	}
	_, errs, code = e.run("destroy", "--name", "no-such-lab")
	if code != 0 || !strings.Contains(errs, "does not exist") {
		t.Errorf("destroy of a missing lab: exit %d: %s", code, errs)
	}
	_, errs, code = e.run("exec", "--name", name, "nope", "--", "true")
	if code != 2 || !strings.Contains(errs, `no pod default/nope, node or host named "nope"`) {
		t.Errorf("exec into a missing pod: exit %d: %s", code, errs)
	}
	bad := writeLab(t, "name: Bad_Name\nnodes: [{name: w}]\n")
	_, errs, code = e.run("validate", "-t", bad)
	if code != 2 || !strings.Contains(errs, "lab.yaml:1") {
		t.Errorf("invalid lab: exit %d: %s", code, errs)
	}
	// Without CAP_NET_ADMIN deploy refuses before creating anything.
	other := uniq("nocap")
	nocap := writeLab(t, fmt.Sprintf(smallLab, other, "n", "n"))
	cmd := exec.Command("setpriv", "--bounding-set=-net_admin,-sys_admin", "--inh-caps=-net_admin,-sys_admin", podlabBin, "deploy", "-t", nocap)
	cmd.Env = append(os.Environ(), "PODLAB_STATE_DIR="+e.root)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "needs root") {
		t.Errorf("deploy without capabilities: %v: %s", err, out)
	}
	assertNothingLeft(t, e.root, other)

	// A user who is not root is told that inspect and get need root, never that the
	// healthy lab's supervisor crashed (its socket refuses them).
	os.Chmod(e.root, 0o755)
	os.Chmod(filepath.Dir(podlabBin), 0o755)
	for _, args := range [][]string{{"inspect", "--name", name}, {"get", "pods", "--name", name}} {
		cmd := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", podlabBin}, args...)...)
		cmd.Env = append(os.Environ(), "PODLAB_STATE_DIR="+e.root)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "needs root") || strings.Contains(string(out), "crashed") {
			t.Errorf("podlab %v as nobody: %v: %s", args, err, out)
		}
	}
	e.must("inspect", "--name", name)

	// --reconfigure rebuilds the running lab.
	e.must("deploy", "--reconfigure", "-t", file)
	// events: NDJSON with the deploy's and the supervisor's events.
	out2 := e.must("events", "--name", name, "-o", "json")
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out2), "\n") {
		var ev events.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("events line %q: %v", line, err)
		}
		seen[ev.Type] = true
	}
	for _, want := range []string{events.NetnsCreated, events.LinkUp, events.PodNetworkReady, events.PodReady, events.SupervisorStarted} {
		if !seen[want] {
			t.Errorf("events lack %s: %s", want, out2)
		}
	}
}

// Two deploys of one lab at once: one wins, the other is refused by the lock.
func TestConcurrentDeploy(t *testing.T) {
	e := newEnv(t)
	name := uniq("lock")
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nnodes:\n  - name: worker-1\npods:\n", name)
	for i := range 100 {
		fmt.Fprintf(&b, "  - {name: p-%d, ports: [80]}\n", i)
	}
	file := writeLab(t, b.String())
	t.Cleanup(func() { e.run("destroy", "--name", name); assertNothingLeft(t, e.root, name) })
	var wg sync.WaitGroup
	codes := make([]int, 2)
	errs := make([]string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i], codes[i] = e.run("deploy", "-t", file)
		}()
	}
	wg.Wait()
	ok := 0
	for i := range 2 {
		if codes[i] == 0 {
			ok++
		} else if !strings.Contains(errs[i], "right now") && !strings.Contains(errs[i], "already deployed") {
			t.Errorf("refused deploy says: %s", errs[i])
		}
	}
	if ok != 1 {
		t.Errorf("%d deploys succeeded, want exactly 1: %v %v", ok, codes, errs)
	}
}
