package main

import (
	"strings"
	"testing"
)

// deploy takes its lab file as -t (containerlab), -f (kubectl) or an argument, exactly
// one of them.
func TestDeployLabFile(t *testing.T) {
	lab := writeFile(t, "lab.yaml", "name: argtest\nnodes: [{name: w}]\n")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"deploy", "--dry-run", lab}, 0},
		{[]string{"deploy", "--dry-run", "-f", lab}, 0},
		{[]string{"deploy", "--dry-run", "--filename", lab}, 0},
		{[]string{"deploy", "--dry-run", "-t", lab}, 0},
		{[]string{"deploy", "--dry-run", "-t", lab, lab}, 2},
		{[]string{"deploy", "--dry-run", "-t", lab, "-f", lab}, 2},
		{[]string{"deploy", "--dry-run", lab, lab}, 2},
		{[]string{"deploy", "--dry-run"}, 2},
	} {
		if got := run(tc.args); got != tc.want {
			t.Errorf("podlab %s: exit %d, want %d", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	out := execute(t, "deploy", "--dry-run", lab)
	if !strings.HasPrefix(out, "lab argtest ") {
		t.Errorf("deploy --dry-run FILE printed:\n%s", out)
	}
}
