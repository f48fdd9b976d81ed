package tui

import (
	"testing"

	"podlab.dev/podlab/cluster/api"
)

// Objects whose container was restarted behind podlab's back say so in the views.
func TestBrokenMarks(t *testing.T) {
	if got := ready(&api.PodState{Ready: true, Broken: "container restarted"}); got != "BROKEN" {
		t.Errorf("ready of a broken pod = %q", got)
	}
	if got := ready(&api.PodState{Ready: true}); got != "yes" {
		t.Errorf("ready of a ready pod = %q", got)
	}
	if got := brokenMark("worker", "restarted"); got != "worker BROKEN" {
		t.Errorf("brokenMark = %q", got)
	}
	if got := brokenMark("host", ""); got != "host" {
		t.Errorf("brokenMark of a healthy host = %q", got)
	}
}
