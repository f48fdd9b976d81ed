// Package e2e drives the podlab binary as a user would, as root, against real
// namespaces: deploy, reach every pod, exec, destroy, and check that nothing of the
// lab is left and the machine's own namespace is unchanged.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
)

var podlabBin string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("e2e: skipped, needs root")
		os.Exit(0)
	}
	dir, err := os.MkdirTemp("", "podlab-e2e-bin-")
	if err != nil {
		panic(err)
	}
	podlabBin = filepath.Join(dir, "podlab")
	build := exec.Command("go", "build", "-o", podlabBin, "podlab.dev/podlab/cmd/podlab")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Println("e2e: build failed:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// env is one test's podlab: its own state root, so tests never see each other's labs.
type env struct {
	t    *testing.T
	root string
}

func newEnv(t *testing.T) *env {
	root, err := os.MkdirTemp("", "podlab-e2e-state-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	return &env{t: t, root: root}
}

// run runs podlab and returns stdout, stderr and the exit code.
func (e *env) run(args ...string) (string, string, int) {
	e.t.Helper()
	cmd := exec.Command(podlabBin, args...)
	cmd.Env = append(os.Environ(), "PODLAB_STATE_DIR="+e.root)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("podlab %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// must runs podlab and fails the test unless it exits 0.
func (e *env) must(args ...string) string {
	e.t.Helper()
	out, errs, code := e.run(args...)
	if code != 0 {
		e.t.Fatalf("podlab %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// writeLab writes a lab file into a temporary directory.
func writeLab(t *testing.T, text string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// deploy deploys a lab, registers its destroy (with leftover checks) and returns its state.
func (e *env) deploy(name, text string) *api.LabState {
	e.t.Helper()
	before := snapshotHost(e.t)
	file := writeLab(e.t, text)
	e.t.Cleanup(func() {
		e.must("destroy", "--name", name)
		assertNothingLeft(e.t, e.root, name)
		assertHostUnchanged(e.t, before)
	})
	start := time.Now()
	out := e.must("deploy", "-t", file, "-o", "json")
	e.t.Logf("deploy %s: %.2fs", name, time.Since(start).Seconds())
	var st api.LabState
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		e.t.Fatalf("deploy -o json: %v\n%s", err, out)
	}
	return labPods(&st)
}

// inspect is the lab's state with its own pods only (see labPods).
func (e *env) inspect(name string) *api.LabState {
	e.t.Helper()
	var st api.LabState
	if err := json.Unmarshal([]byte(e.must("inspect", "--name", name, "-o", "json")), &st); err != nil {
		e.t.Fatalf("inspect -o json: %v", err)
	}
	return labPods(&st)
}

// labPods drops the pods of kube-system (the cluster DNS every lab runs) and of the
// ingress and gateway proxies from st, so that a test sees the pods its lab file makes.
func labPods(st *api.LabState) *api.LabState {
	pods := st.Pods[:0]
	for _, p := range st.Pods {
		if p.Namespace != "kube-system" && p.Namespace != "podlab-ingress" && p.Namespace != "podlab-gateway-system" {
			pods = append(pods, p)
		}
	}
	st.Pods = pods
	return st
}

// uniq returns a lab name unique to this run.
func uniq(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, os.Getpid()%100000)
}

// podIP is the address of the pod named name in st.
func podIP(t *testing.T, st *api.LabState, name string) string {
	t.Helper()
	for _, p := range st.Pods {
		if p.Name == name {
			return p.IP.String()
		}
	}
	t.Fatalf("no pod %s in %+v", name, st.Pods)
	return ""
}
