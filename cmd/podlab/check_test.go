package main

import "testing"

// Invalid flags, and a lab that is not deployed, exit 2 before anything is sent.
func TestCheckInvalidInput(t *testing.T) {
	t.Setenv("PODLAB_STATE_DIR", t.TempDir())
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"bad output", []string{"check", "-o", "yaml"}},
		{"bad --run", []string{"check", "--run", "web["}},
		{"an argument", []string{"check", "lab.yaml"}},
		{"no lab deployed", []string{"check", "--name", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != exitInvalid {
				t.Errorf("podlab %v: exit %d, want %d", tc.args, got, exitInvalid)
			}
		})
	}
}
