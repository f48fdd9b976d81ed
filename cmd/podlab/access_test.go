package main

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/state"
)

// stderrOf runs podlab with args and returns its exit code and what it wrote to stderr.
func stderrOf(t *testing.T, args ...string) (int, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = f
	code := run(args)
	os.Stderr = old
	b, _ := os.ReadFile(f.Name())
	f.Close()
	return code, string(b)
}

// A user who may not open the supervisor's socket (not root) is told that the command
// needs root, never that a healthy lab's supervisor crashed and should be destroyed.
func TestSocketNeedsRoot(t *testing.T) {
	root := t.TempDir()
	t.Setenv("PODLAB_STATE_DIR", root)
	dir := state.For(root, "perm")
	if err := dir.Create(); err != nil {
		t.Fatal(err)
	}
	if err := dir.WritePlan(&plan.Plan{Lab: "perm", Runtime: "netns"}); err != nil {
		t.Fatal(err)
	}
	// Root may open any socket: the refusal a user meets is simulated.
	old := dialSupervisor
	dialSupervisor = func(path string) error {
		return &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}
	}
	t.Cleanup(func() { dialSupervisor = old })
	for _, args := range [][]string{{"inspect"}, {"inspect", "--all"}, {"get", "pods"}, {"describe", "pod", "web"}, {"logs", "web"}} {
		code, out := stderrOf(t, args...)
		if code != exitRuntime || !strings.Contains(out, "needs root") || !strings.Contains(out, "sudo podlab "+args[0]) ||
			strings.Contains(out, "crashed") || strings.Contains(out, "destroy") {
			t.Errorf("podlab %v: exit %d: %s", args, code, out)
		}
	}
}
