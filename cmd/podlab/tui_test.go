package main

import (
	"bytes"
	"strings"
	"testing"

	"podlab.dev/podlab/tui"
)

// `tui --help` once left out :svc; it lists every view's command now.
func TestTUIHelpListsEveryCommand(t *testing.T) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetArgs([]string{"tui", "--help"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, c := range tui.Commands {
		if !strings.Contains(out.String(), c+" ") && !strings.Contains(out.String(), c+")") {
			t.Errorf("tui --help does not list %s:\n%s", c, out.String())
		}
	}
}
