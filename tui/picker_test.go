package tui

import (
	"strings"
	"testing"
)

// `:labs` typed in the picker used to reach the list, whose enter opened the selected
// lab.
func TestPickerCommand(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	hs.a.cfg.Lab = ""
	hs.labs = []string{"basics", "other"}
	hs.a.toPicker("")
	hs.run(hs.a.listLabs())
	hs.keys("<down>:labs<enter>")
	if hs.a.inLab {
		t.Fatalf(":labs in the picker opened lab %q", hs.a.lab)
	}
	if sel, _ := hs.a.picker.selected(); sel != "other" {
		t.Errorf(":labs moved the cursor to %q", sel)
	}
	hs.keys(":pods<enter>")
	if hs.a.inLab {
		t.Fatalf(":pods in the picker opened lab %q", hs.a.lab)
	}
	if s := hs.screen(); !strings.Contains(s, "needs a lab") {
		t.Errorf(":pods in the picker should say it needs a lab:\n%s", s)
	}
	hs.keys("<enter>")
	if !hs.a.inLab || hs.a.lab != "other" {
		t.Fatalf("enter should still open the selected lab: in lab %v %q", hs.a.inLab, hs.a.lab)
	}
}
