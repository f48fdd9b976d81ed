package state

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"podlab.dev/podlab/plan"
)

func TestCreateExists(t *testing.T) {
	d := For(t.TempDir(), "lab1")
	if d.Exists() {
		t.Fatal("Exists before Create")
	}
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	if !d.Exists() {
		t.Fatal("Exists is false after Create")
	}
	b, err := os.ReadFile(filepath.Join(d.Path(), markFile))
	if err != nil || string(b) != "lab1\n" {
		t.Errorf("mark file = %q, %v; want %q", b, err, "lab1\n")
	}
	err = d.Create()
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second Create: %v, want an \"already exists\" error", err)
	}
	// Another lab under the same root is not confused with this one.
	if For(d.Root, "lab2").Exists() {
		t.Error("lab2 Exists without a directory")
	}
}

func TestExistsChecksTheMarkContent(t *testing.T) {
	root := t.TempDir()
	d := For(root, "lab1")
	if err := os.Mkdir(d.Path(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(d.Path(), markFile), []byte("other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if d.Exists() {
		t.Error("a directory marked for another lab Exists")
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name    string
		mark    string // "" = no mark file
		wantErr bool
	}{
		{name: "unmarked", wantErr: true},
		{name: "marked for another lab", mark: "other\n", wantErr: true},
		{name: "marked", mark: "lab1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := For(t.TempDir(), "lab1")
			if err := os.MkdirAll(filepath.Join(d.Path(), "sub"), 0o755); err != nil {
				t.Fatal(err)
			}
			keep := filepath.Join(d.Path(), "sub", "precious")
			if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
			if tt.mark != "" {
				if err := os.WriteFile(filepath.Join(d.Path(), markFile), []byte(tt.mark), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := d.Remove()
			_, statErr := os.Stat(d.Path())
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "does not carry podlab's mark") {
					t.Errorf("Remove = %v, want a refusal", err)
				}
				if _, err := os.Stat(keep); err != nil {
					t.Errorf("refused Remove still deleted files: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if !os.IsNotExist(statErr) {
				t.Errorf("directory still there after Remove: %v", statErr)
			}
		})
	}
}

func TestRemoveMissingIsNoError(t *testing.T) {
	if err := For(t.TempDir(), "nothing").Remove(); err != nil {
		t.Errorf("Remove of a missing directory: %v", err)
	}
}

func TestLock(t *testing.T) {
	root := t.TempDir()
	d := For(root, "lab1")
	unlock, err := d.Lock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock) // unlocking twice only closes a closed file again
	_, err = d.Lock()
	if err == nil || !strings.Contains(err.Error(), "right now") {
		t.Fatalf("second Lock while held: %v, want the \"right now\" refusal", err)
	}
	// Another lab's lock is independent.
	unlock2, err := For(root, "lab2").Lock()
	if err != nil {
		t.Fatalf("Lock of another lab: %v", err)
	}
	unlock2()
	unlock()
	unlock3, err := d.Lock()
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock3()
}

func TestLabs(t *testing.T) {
	root := t.TempDir()
	for _, l := range []string{"zeta", "alpha"} {
		if err := For(root, l).Create(); err != nil {
			t.Fatal(err)
		}
	}
	// An unmarked directory, a file and a lock file are not labs.
	if err := os.Mkdir(filepath.Join(root, "stray"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	unlock, err := For(root, "beta").Lock()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unlock)
	got, err := Labs(root)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"alpha", "zeta"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Labs = %q, want %q", got, want)
	}
	got, err = Labs(filepath.Join(root, "missing"))
	if err != nil || got != nil {
		t.Errorf("Labs of a missing root = %q, %v; want nil, nil", got, err)
	}
}

func TestPlanRoundTrip(t *testing.T) {
	d := For(t.TempDir(), "lab1")
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadPlan(); err == nil {
		t.Error("ReadPlan without a plan succeeded")
	}
	p := &plan.Plan{
		Lab:     "lab1",
		File:    "/labs/lab1.yaml",
		Runtime: "netns",
		Underlay: plan.Underlay{
			Netns: plan.UnderlayNetns("lab1"), Bridge: plan.UnderlayBridge,
			Subnet: netip.MustParsePrefix("172.30.0.0/24"),
		},
		Nodes: []plan.Node{{
			Name: "worker-1", Role: "worker", Labels: map[string]string{"zone": "a"},
			Netns: plan.NodeNetns("lab1", "worker-1"), IP: netip.MustParsePrefix("172.30.0.10/24"),
			PodCIDR: netip.MustParsePrefix("10.244.1.0/24"), Gateway: netip.MustParseAddr("10.244.1.1"),
			VTEPMAC: "0e:01:02:03:04:05", PodMTU: 1450,
		}},
		Pods: []plan.Pod{{
			Namespace: "default", Name: "web-1", Node: "worker-1", Netns: plan.PodNetns("lab1", "default", "web-1"),
			IP: netip.MustParseAddr("10.244.1.2"), Labels: map[string]string{"app": "web"},
		}},
		Namespaces: []string{"default"},
		Neighbours: 42,
	}
	if err := d.WritePlan(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.PlanFile() + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary plan file left behind: %v", err)
	}
	got, err := d.ReadPlan()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("ReadPlan = %+v\nwant %+v", got, p)
	}
	if err := os.WriteFile(d.PlanFile(), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ReadPlan(); err == nil || !strings.Contains(err.Error(), d.PlanFile()) {
		t.Errorf("ReadPlan of a broken file: %v, want an error naming the file", err)
	}
}

func TestSupervisorPID(t *testing.T) {
	d := For(t.TempDir(), "lab1")
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	if pid := d.SupervisorPID(); pid != 0 {
		t.Errorf("SupervisorPID without a file = %d", pid)
	}
	if err := os.WriteFile(d.PIDFile(), []byte("1234\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if pid := d.SupervisorPID(); pid != 1234 {
		t.Errorf("SupervisorPID = %d, want 1234", pid)
	}
}

// startFakeSupervisor starts a process whose command line reads like
// `podlab -c 'read x' supervise --name lab` (sh runs the script and ignores the rest).
// The builtin read blocks on a pipe the test never writes, so sh neither exits nor
// execs another program, which would change its command line.
func startFakeSupervisor(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := &exec.Cmd{Path: "/bin/sh", Args: append([]string{"podlab", "-c", "read x"}, args...)}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		stdin.Close()
		// Process.Kill, not kill(2): once the test reaped it the PID may be reused.
		cmd.Process.Kill()
		cmd.Wait()
	})
	// Start returns once the kernel closed the exec pipe, which it does before it
	// writes the new argv into the process: wait until /proc shows it.
	cmdline := "/proc/" + strconv.Itoa(pid) + "/cmdline"
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(cmdline)
		if strings.HasPrefix(string(b), "podlab\x00") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s = %q, never shows the fake supervisor's argv", cmdline, b)
		}
		time.Sleep(time.Millisecond)
	}
	return cmd
}

func TestSupervisorAlive(t *testing.T) {
	d := For(t.TempDir(), "lab1")
	if d.SupervisorAlive(0) {
		t.Error("SupervisorAlive(0)")
	}
	if d.SupervisorAlive(-1) {
		t.Error("SupervisorAlive(-1)")
	}
	if d.SupervisorAlive(os.Getpid()) {
		t.Error("SupervisorAlive of the test process, whose command line lacks supervise")
	}
	cmd := startFakeSupervisor(t, "supervise", "--name", "lab1")
	pid := cmd.Process.Pid
	if !d.SupervisorAlive(pid) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		t.Fatalf("SupervisorAlive(%d) = false for cmdline %q", pid, b)
	}
	if For(d.Root, "lab2").SupervisorAlive(pid) {
		t.Error("the supervisor of lab1 counts as lab2's")
	}
	if For(d.Root, "lab").SupervisorAlive(pid) {
		t.Error("the supervisor of lab1 counts as lab's (prefix match)")
	}

	// Killed but not reaped: a zombie is not alive.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !isZombie(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not become a zombie", pid)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if d.SupervisorAlive(pid) {
		t.Error("SupervisorAlive of a zombie")
	}
	cmd.Wait()
	if d.SupervisorAlive(pid) {
		t.Error("SupervisorAlive of a reaped process")
	}
}

func TestSupervisorAliveNameEqualsForm(t *testing.T) {
	d := For(t.TempDir(), "lab1")
	cmd := startFakeSupervisor(t, "supervise", "--name=lab1")
	if !d.SupervisorAlive(cmd.Process.Pid) {
		t.Error("SupervisorAlive = false for --name=lab1")
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}
