package main

import (
	"strings"
	"testing"
	"time"
)

// Invalid input exits 2 before any lab is touched, each with a hint.
func TestProbeInvalidInput(t *testing.T) {
	t.Setenv("PODLAB_STATE_DIR", t.TempDir())
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"nothing to probe", []string{"probe", "--port", "80"}},
		{"no port", []string{"probe", "--matrix"}},
		{"port out of range", []string{"probe", "--matrix", "--port", "70000"}},
		{"bad protocol", []string{"probe", "--matrix", "--port", "80", "--protocol", "icmp"}},
		{"no --to", []string{"probe", "--from", "x/a", "--port", "80"}},
		{"--from without a namespace", []string{"probe", "--from", "a", "--to", "x/b", "--port", "80"}},
		{"bad --to", []string{"probe", "--from", "x/a", "--to", "no_such!", "--port", "80"}},
		{"matrix with --from", []string{"probe", "--matrix", "--from", "x/a", "--port", "80"}},
		{"bad target", []string{"probe", "--matrix", "--port", "80", "--target", "node"}},
		{"target without matrix", []string{"probe", "--from", "x/a", "--to", "x/b", "--port", "80", "--target", "service"}},
		{"bad namespace", []string{"probe", "--matrix", "--port", "80", "--namespaces", "X_1"}},
		{"bad expect", []string{"probe", "--matrix", "--port", "80", "--expect", "magic"}},
		{"bad output", []string{"probe", "--matrix", "--port", "80", "-o", "yaml"}},
		{"an argument", []string{"probe", "x/a"}},
		{"no lab deployed", []string{"probe", "--matrix", "--port", "80"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != exitInvalid {
				t.Errorf("podlab %v: exit %d, want %d", tc.args, got, exitInvalid)
			}
		})
	}
}

func TestProbeArgsCheck(t *testing.T) {
	ok := probeArgs{port: 80, protocol: "udp", target: "pod", output: "table", timeout: 300 * time.Millisecond}
	for _, tc := range []struct {
		name string
		edit func(*probeArgs)
		hint string // "" is valid
	}{
		{"matrix", func(a *probeArgs) { a.matrix = true; a.namespaces = []string{"x", "y"} }, ""},
		{"single", func(a *probeArgs) { a.from, a.to = "x/a", "web.y" }, ""},
		{"single to a name", func(a *probeArgs) { a.from, a.to = "x/a", "example.com" }, ""},
		{"neither", func(a *probeArgs) {}, "--from NS/POD --to"},
		{"port", func(a *probeArgs) { a.matrix, a.port = true, 0 }, "such as --port 80"},
		{"timeout", func(a *probeArgs) { a.matrix, a.timeout = true, 0 }, "such as 300ms"},
		{"both", func(a *probeArgs) { a.matrix, a.from = true, "x/a" }, "drop --from and --to"},
		{"expect for one flow", func(a *probeArgs) { a.from, a.to, a.expect = "x/a", "x/b", "model" }, "are for --matrix"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ok
			tc.edit(&a)
			err := a.check()
			if tc.hint == "" {
				if err != nil || a.protocol != "UDP" {
					t.Errorf("check() = %v, protocol %q; want valid, UDP", err, a.protocol)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.hint) {
				t.Errorf("check() = %v, want a hint with %q", err, tc.hint)
			}
		})
	}
}
