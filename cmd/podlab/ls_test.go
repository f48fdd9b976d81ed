package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/state"
)

// ls reads labs from the state directory: one with a plan but no supervisor is
// supervisor-down, one without a plan incomplete; nothing is started or changed.
func TestLs(t *testing.T) {
	root := t.TempDir()
	t.Setenv("PODLAB_STATE_DIR", root)
	down := state.For(root, "down")
	if err := down.Create(); err != nil {
		t.Fatal(err)
	}
	if err := down.WritePlan(&plan.Plan{Lab: "down", Runtime: "netns", File: "/labs/down.yaml",
		Nodes: make([]plan.Node, 3), Pods: make([]plan.Pod, 5)}); err != nil {
		t.Fatal(err)
	}
	if err := state.For(root, "half").Create(); err != nil {
		t.Fatal(err)
	}
	var labs []labSummary
	out := execute(t, "ls", "-o", "json")
	if err := json.Unmarshal([]byte(out), &labs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(labs) != 2 {
		t.Fatalf("got %d labs, want 2:\n%s", len(labs), out)
	}
	d, h := labs[0], labs[1]
	if d.Name != "down" || d.State != "supervisor-down" || d.Nodes != 3 || d.Pods != 5 || d.Runtime != "netns" || d.Created.IsZero() {
		t.Errorf("down: %+v", d)
	}
	if h.Name != "half" || h.State != "incomplete" {
		t.Errorf("half: %+v", h)
	}
	var b bytes.Buffer
	printLabs(&b, labs, d.Created.Add(90*time.Second))
	want := []string{
		"NAME   RUNTIME   NODES   PODS   AGE         STATE             FILE",
		"down   netns     3       5      90s         supervisor-down   /labs/down.yaml",
		"half   -         0       0      <unknown>   incomplete        -",
	}
	if got := strings.TrimSpace(b.String()); got != strings.Join(want, "\n") {
		t.Errorf("table:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if code := run([]string{"ls", "-o", "yaml"}); code != exitInvalid {
		t.Errorf("ls -o yaml: exit %d, want 2", code)
	}
}

// execute runs podlab's root command with args and returns what it printed on stdout.
func execute(t *testing.T, args ...string) string {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		t.Fatalf("podlab %s: %v", strings.Join(args, " "), err)
	}
	return out.String()
}
