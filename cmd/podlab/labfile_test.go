package main

import (
	"strings"
	"testing"
)

// deploy, validate and destroy take their lab file as -t (containerlab), -f (kubectl)
// or an argument, exactly one of them; destroy takes --name or --all instead.
func TestLabFileArgs(t *testing.T) {
	t.Setenv("PODLAB_STATE_DIR", t.TempDir())
	lab := writeFile(t, "lab.yaml", "name: labfiletest-x9\nnodes: [{name: w}]\n")
	for _, verb := range [][]string{{"deploy", "--dry-run"}, {"validate"}, {"destroy"}} {
		for _, tc := range []struct {
			args []string
			want int
		}{
			{[]string{lab}, 0},
			{[]string{"-f", lab}, 0},
			{[]string{"--filename", lab}, 0},
			{[]string{"-t", lab}, 0},
			{[]string{"-t", lab, lab}, 2},
			{[]string{"-t", lab, "-f", lab}, 2},
			{[]string{lab, lab}, 2},
			{nil, 2},
		} {
			args := append(append([]string(nil), verb...), tc.args...)
			if got := run(args); got != tc.want {
				t.Errorf("podlab %s: exit %d, want %d", strings.Join(args, " "), got, tc.want)
			}
		}
	}
	for _, args := range [][]string{{"destroy", lab, "--name", "x"}, {"destroy", "-f", lab, "--all"}, {"destroy", "--name", "x", "--all"}} {
		if got := run(args); got != 2 {
			t.Errorf("podlab %s: exit %d, want 2", strings.Join(args, " "), got)
		}
	}
	if out := execute(t, "deploy", "--dry-run", lab); !strings.HasPrefix(out, "lab labfiletest-x9 ") {
		t.Errorf("deploy --dry-run FILE printed:\n%s", out)
	}
	if out := execute(t, "validate", lab); !strings.Contains(out, "valid: lab labfiletest-x9, 1 nodes") {
		t.Errorf("validate FILE printed:\n%s", out)
	}
	// destroy FILE destroys the lab the file names: here none exists, which it says.
	if code, _, errs := outputOf(t, "destroy", "-f", lab); code != 0 || !strings.Contains(errs, "lab labfiletest-x9 does not exist") {
		t.Errorf("destroy -f FILE: exit %d, stderr %q", code, errs)
	}
}
