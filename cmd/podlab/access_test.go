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

// outputOf runs podlab with args and returns its exit code, stdout and stderr.
func outputOf(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	files := [2]*os.File{}
	for i := range files {
		f, err := os.CreateTemp(t.TempDir(), "out")
		if err != nil {
			t.Fatal(err)
		}
		files[i] = f
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = files[0], files[1]
	code = run(args)
	os.Stdout, os.Stderr = oldOut, oldErr
	out, _ := os.ReadFile(files[0].Name())
	errs, _ := os.ReadFile(files[1].Name())
	files[0].Close()
	files[1].Close()
	return code, string(out), string(errs)
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
		code, _, out := outputOf(t, args...)
		if code != exitRuntime || !strings.Contains(out, "needs root") || !strings.Contains(out, "sudo podlab "+args[0]) ||
			strings.Contains(out, "crashed") || strings.Contains(out, "destroy") {
			t.Errorf("podlab %v: exit %d: %s", args, code, out)
		}
	}
}
