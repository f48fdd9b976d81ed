package deploy

import (
	"context"
	"os"
	"os/exec"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab.dev/podlab/plan"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/state"
)

// fakeRuntime is a podruntime.Runtime over an in-memory set of names.
type fakeRuntime struct {
	mu      sync.Mutex
	names   map[string]bool
	deletes []string
}

var _ podruntime.Runtime = (*fakeRuntime)(nil)

func newFakeRuntime(names ...string) *fakeRuntime {
	f := &fakeRuntime{names: map[string]bool{}}
	for _, n := range names {
		f.names[n] = true
	}
	return f
}

func (f *fakeRuntime) Create(_ context.Context, s podruntime.Sandbox) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names[s.Name] {
		return "", os.ErrExist
	}
	f.names[s.Name] = true
	return "/fake/" + s.Name, nil
}

func (f *fakeRuntime) Delete(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.names, name)
	f.deletes = append(f.deletes, name)
	return nil
}

func (f *fakeRuntime) List(_ context.Context, prefix string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (f *fakeRuntime) all() []string {
	out, _ := f.List(context.Background(), "")
	return out
}

// testLab is a lab name no real lab on this machine uses: Destroy looks for the
// lab's supervisor among all processes.
func testLab(suffix string) string { return "ut" + strconv.Itoa(os.Getpid()) + suffix }

func TestLabs(t *testing.T) {
	root := t.TempDir()
	for _, l := range []string{"gamma", "alpha"} {
		if err := state.For(root, l).Create(); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(root+"/unmarked", 0o755); err != nil {
		t.Fatal(err)
	}
	rt := newFakeRuntime(
		"podlab_alpha_node_a",         // also has a state dir: listed once
		"podlab_beta_underlay",        // leftovers without state
		"podlab_beta_pod_default_web", // same lab again
		"podlab_a-b_node_x",
		"podlab_",          // no lab name
		"podlab__node_x",   // empty lab name
		"podlab_noseparat", // no separator after the lab
		"other_ns",
		"podlabx_delta_node",
	)
	got, err := Labs(context.Background(), root, rt)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a-b", "alpha", "beta", "gamma"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Labs = %q, want %q", got, want)
	}
	got, err = Labs(context.Background(), root+"/missing", newFakeRuntime())
	if err != nil || len(got) != 0 {
		t.Errorf("Labs with nothing = %q, %v", got, err)
	}
}

func TestDestroy(t *testing.T) {
	lab, other := testLab(""), testLab("-b") // "podlab_<lab>_" is no prefix of the other's names
	root := t.TempDir()
	mine := []string{
		plan.UnderlayNetns(lab), plan.NodeNetns(lab, "w1"), plan.NodeNetns(lab, "w2"),
		plan.HostNetns(lab, "client"), plan.PodNetns(lab, "default", "web-1"),
	}
	theirs := []string{plan.UnderlayNetns(other), plan.NodeNetns(other, "w1"), "podlab_" + lab + "x_node_w1", "unrelated"}
	rt := newFakeRuntime(append(append([]string{}, mine...), theirs...)...)
	dir := state.For(root, lab)
	if err := dir.Create(); err != nil {
		t.Fatal(err)
	}
	otherDir := state.For(root, other)
	if err := otherDir.Create(); err != nil {
		t.Fatal(err)
	}
	var steps []string
	r, err := Destroy(context.Background(), lab, DestroyOptions{
		Root: root, Runtime: rt,
		Progress: func(step string, _, _ int) { steps = append(steps, step) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Existed || r.Namespaces != len(mine) || !r.StateDir || r.Supervisors != 0 || r.Lab != lab {
		t.Errorf("Removed = %+v, want existed, %d namespaces, the state dir", r, len(mine))
	}
	sort.Strings(theirs)
	if got := rt.all(); !reflect.DeepEqual(got, theirs) {
		t.Errorf("namespaces left %q, want only the other labs' %q", got, theirs)
	}
	sort.Strings(rt.deletes)
	sorted := append([]string(nil), mine...)
	sort.Strings(sorted)
	if !reflect.DeepEqual(rt.deletes, sorted) {
		t.Errorf("deleted %q, want exactly %q", rt.deletes, sorted)
	}
	if dir.Exists() {
		t.Error("state directory still there")
	}
	if _, err := os.Stat(dir.Path()); !os.IsNotExist(err) {
		t.Errorf("state directory path: %v", err)
	}
	if !otherDir.Exists() {
		t.Error("the other lab's state directory was removed")
	}
	if len(steps) == 0 {
		t.Error("no progress reported")
	}

	// Again: nothing left to do, and it says so.
	r, err = Destroy(context.Background(), lab, DestroyOptions{Root: root, Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	if r.Existed || r.Namespaces != 0 || r.StateDir || r.Supervisors != 0 {
		t.Errorf("second Destroy = %+v, want nothing existed", r)
	}
	if got := rt.all(); !reflect.DeepEqual(got, theirs) {
		t.Errorf("second Destroy touched %q", got)
	}
}

func TestDestroyRefusesUnmarkedStateDir(t *testing.T) {
	lab := testLab("")
	root := t.TempDir()
	dir := state.For(root, lab)
	if err := os.MkdirAll(dir.Path(), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Destroy(context.Background(), lab, DestroyOptions{Root: root, Runtime: newFakeRuntime()})
	if err == nil || !strings.Contains(err.Error(), "mark") {
		t.Errorf("Destroy of an unmarked directory: %v, want a refusal", err)
	}
	if _, err := os.Stat(dir.Path()); err != nil {
		t.Errorf("unmarked directory removed: %v", err)
	}
}

// Destroy stops the lab's supervisor, found by its PID file or by its command line.
func TestDestroyStopsSupervisors(t *testing.T) {
	lab := testLab("")
	root := t.TempDir()
	dir := state.For(root, lab)
	if err := dir.Create(); err != nil {
		t.Fatal(err)
	}
	recorded := startFakeSupervisor(t, lab)
	unrecorded := startFakeSupervisor(t, lab)
	bystander := startFakeSupervisor(t, testLab("-b"))
	if err := os.WriteFile(dir.PIDFile(), []byte(strconv.Itoa(recorded.Process.Pid)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Destroy(context.Background(), lab, DestroyOptions{Root: root, Runtime: newFakeRuntime()})
	if err != nil {
		t.Fatal(err)
	}
	if r.Supervisors != 2 || !r.Existed {
		t.Errorf("Removed = %+v, want 2 supervisors stopped", r)
	}
	for _, c := range []*exec.Cmd{recorded, unrecorded} {
		if !exited(c, 5*time.Second) {
			t.Errorf("supervisor %d still runs", c.Process.Pid)
		}
	}
	if exited(bystander, 100*time.Millisecond) {
		t.Error("the other lab's supervisor was stopped")
	}
}

// startFakeSupervisor starts a process whose command line is that of lab's supervisor
// (`podlab -c 'read x' supervise --name LAB`, sh ignoring the extra arguments). The
// builtin read blocks on a pipe nobody writes, so sh never execs anything else.
func startFakeSupervisor(t *testing.T, lab string) *exec.Cmd {
	t.Helper()
	cmd := &exec.Cmd{Path: "/bin/sh", Args: []string{"podlab", "-c", "read x", "supervise", "--name", lab}}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exitc := make(chan struct{})
	go func() { cmd.Wait(); close(exitc) }()
	waits[cmd] = exitc
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill() // Process.Kill knows when the process was reaped
		<-exitc
		delete(waits, cmd)
	})
	// The kernel writes the new argv only after Start has returned: wait for it.
	cmdline := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline"
	for deadline := time.Now().Add(5 * time.Second); ; {
		if b, _ := os.ReadFile(cmdline); strings.Contains(string(b), "supervise") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never shows the fake supervisor's argv", cmdline)
		}
		time.Sleep(time.Millisecond)
	}
	return cmd
}

// waits holds, per fake supervisor, a channel closed once it exited and was reaped.
var waits = map[*exec.Cmd]chan struct{}{}

// exited says whether c exits within d.
func exited(c *exec.Cmd, d time.Duration) bool {
	select {
	case <-waits[c]:
		return true
	case <-time.After(d):
		return false
	}
}
