package tui

import (
	"slices"
	"strings"
	"testing"
)

// Every view has its command in Commands, and every command in it is one the
// command line knows: `tui --help` once left out :svc.
func TestCommandsListEveryView(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	for _, v := range hs.a.views {
		if !slices.Contains(Commands, ":"+v.name()) {
			t.Errorf("view %s has no command in Commands %v", v.name(), Commands)
		}
	}
	for i, c := range Commands {
		if c == ":q" || c == ":labs" {
			continue
		}
		hs.keys(c + "<enter>")
		if hs.a.bad || hs.a.current().name() != strings.TrimPrefix(c, ":") {
			t.Errorf("%s shows view %s (status %q)", c, hs.a.current().name(), hs.a.status)
		}
		if i > 0 && hs.a.cur == 0 {
			t.Errorf("%s did not leave the first view", c)
		}
	}
	if help := strings.Join(helpLines(true), "\n"); !strings.Contains(help, CommandList()) {
		t.Errorf("the help screen does not list %s", CommandList())
	}
}
