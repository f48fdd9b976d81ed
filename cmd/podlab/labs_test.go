package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// podlab labs lists the bundled labs (one line each, the description after the
// name), lab show prints a lesson (a variant's is its lab's), --path finds the
// checkout this test runs in, and an unknown name is invalid input with a suggestion.
func TestLabsCommands(t *testing.T) {
	out := execute(t, "labs")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "NAME ") || !strings.HasSuffix(lines[0], "DESCRIPTION") {
		t.Errorf("header: %q", lines[0])
	}
	var services bool
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "services" {
			services = strings.HasPrefix(strings.Join(f[1:], " "), "ClusterIP, NodePort")
		}
	}
	if !services {
		t.Errorf("no services line:\n%s", out)
	}
	var rows []struct{ Name, Dir, Description string }
	if err := json.Unmarshal([]byte(execute(t, "labs", "-o", "json")), &rows); err != nil || len(rows) != len(lines)-1 {
		t.Errorf("labs -o json: %d rows for %d lines, %v", len(rows), len(lines)-1, err)
	}

	lesson, err := os.ReadFile("../../labs/services/README.md")
	if err != nil {
		t.Fatal(err)
	}
	if got := execute(t, "lab", "show", "svc-broken-selector"); got != string(lesson) {
		t.Errorf("lab show svc-broken-selector printed %d bytes, not labs/services/README.md", len(got))
	}
	want, _ := filepath.Abs("../../labs/services/broken/selector/lab.yaml")
	if got := strings.TrimSpace(execute(t, "lab", "show", "services/broken/selector", "--path")); got != want {
		t.Errorf("--path: %q, want %q", got, want)
	}
	if code := run([]string{"lab", "show", "servics"}); code != exitInvalid {
		t.Errorf("lab show servics: exit %d, want 2", code)
	}
	if code := run([]string{"labs", "-o", "yaml"}); code != exitInvalid {
		t.Errorf("labs -o yaml: exit %d, want 2", code)
	}
}
