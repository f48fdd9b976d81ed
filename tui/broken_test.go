package tui

import (
	"testing"
	"time"
)

// Objects whose container was restarted behind podlab's back say so in the views.
func TestBrokenMarks(t *testing.T) {
	st, _, _ := fixture(3)
	st.Pods[0].Broken = "container restarted"
	v := newPodsView(func() time.Time { return t0 })
	v.setData(newLabData(st, nil, nil, nil))
	if got := v.cell(0, pcName); got != "web-1 BROKEN" {
		t.Errorf("name of a broken pod = %q", got)
	}
	if got := v.cell(1, pcName); got != "web-2" {
		t.Errorf("name of a healthy pod = %q", got)
	}
	if got := brokenMark("worker", "restarted"); got != "worker BROKEN" {
		t.Errorf("brokenMark = %q", got)
	}
	if got := brokenMark("host", ""); got != "host" {
		t.Errorf("brokenMark of a healthy host = %q", got)
	}
}
