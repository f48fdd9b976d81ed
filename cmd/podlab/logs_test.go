package main

import (
	"testing"
)

// Invalid input exits 2 before the supervisor is asked: a bad output, tail or since,
// no pod, two pods, no lab.
func TestLogsInvalidInput(t *testing.T) {
	t.Setenv("PODLAB_STATE_DIR", t.TempDir())
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"bad output", []string{"logs", "coredns-a", "-o", "yaml"}},
		{"bad tail", []string{"logs", "coredns-a", "--tail", "-2"}},
		{"tail not a number", []string{"logs", "coredns-a", "--tail", "ten"}},
		{"bad since", []string{"logs", "coredns-a", "--since", "yesterday"}},
		{"negative since", []string{"logs", "coredns-a", "--since", "-5m"}},
		{"no pod", []string{"logs"}},
		{"two pods", []string{"logs", "a", "b"}},
		{"no lab deployed", []string{"logs", "coredns-a"}},
		{"no such lab", []string{"logs", "--name", "nosuch", "coredns-a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != exitInvalid {
				t.Errorf("podlab %v: exit %d, want %d", tc.args, got, exitInvalid)
			}
		})
	}
}
