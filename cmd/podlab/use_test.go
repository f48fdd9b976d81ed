package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"podlab.dev/podlab/state"
)

// podlab use keeps the current lab in $XDG_CONFIG_HOME/podlab/current; labName takes
// --name first, then $PODLAB_LAB, then that file, then the only lab; a current lab
// that is gone is invalid input with a hint.
func TestUseCurrentLab(t *testing.T) {
	root := t.TempDir()
	conf := t.TempDir()
	t.Setenv("PODLAB_STATE_DIR", root)
	t.Setenv("XDG_CONFIG_HOME", conf)
	t.Setenv("PODLAB_LAB", "")
	for _, lab := range []string{"a", "b"} {
		if err := state.For(root, lab).Create(); err != nil {
			t.Fatal(err)
		}
	}
	cfg.StateDir = root
	name := func(flag string) (string, error) {
		cmd := newLogs()
		if flag != "" {
			cmd.Flags().Set("name", flag)
		}
		return labName(cmd)
	}
	if _, err := name(""); err == nil || !strings.Contains(err.Error(), "podlab use LAB") {
		t.Errorf("two labs, none current: %v", err)
	}
	if code := run([]string{"use"}); code != exitInvalid {
		t.Errorf("use with none current: exit %d, want 2", code)
	}
	if out := execute(t, "use", "b"); !strings.Contains(out, "current lab is now b") {
		t.Errorf("use b: %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(conf, "podlab", "current")); err != nil || string(b) != "b\n" {
		t.Errorf("current file: %q %v", b, err)
	}
	if lab, err := name(""); lab != "b" || err != nil {
		t.Errorf("current b: %q %v", lab, err)
	}
	if lab, _ := name("a"); lab != "a" {
		t.Errorf("--name a with current b: %q", lab)
	}
	if out := execute(t, "use"); !strings.HasPrefix(out, "b (from ") {
		t.Errorf("use: %q", out)
	}
	t.Setenv("PODLAB_LAB", "a")
	if lab, _ := name(""); lab != "a" {
		t.Errorf("PODLAB_LAB=a over current b: %q", lab)
	}
	t.Setenv("PODLAB_LAB", "gone")
	_, err := name("")
	if err == nil || !strings.Contains(err.Error(), `current lab "gone" (from $PODLAB_LAB) is not deployed`) || !strings.Contains(err.Error(), "unset PODLAB_LAB") {
		t.Errorf("gone: %v", err)
	}
	t.Setenv("PODLAB_LAB", "")
	if code := run([]string{"use", "nope"}); code != exitInvalid {
		t.Errorf("use nope: exit %d, want 2", code)
	}
	if err := state.For(root, "b").Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := name(""); err == nil || !strings.Contains(err.Error(), "podlab use LAB") || !strings.Contains(err.Error(), "deployed: a") {
		t.Errorf("current b removed: %v", err)
	}
	root2 := newRoot()
	var out bytes.Buffer
	root2.SetOut(&out)
	root2.SetArgs([]string{"use", "--clear"})
	if err := root2.Execute(); err != nil {
		t.Fatal(err)
	}
	if lab, err := name(""); lab != "a" || err != nil {
		t.Errorf("after --clear, the only lab a: %q %v", lab, err)
	}
}
