package tui

import (
	"fmt"
	"strings"
	"testing"
)

// Cells compare as their columns mean them; what does not parse comes last.
func TestCompareCells(t *testing.T) {
	for _, tc := range []struct {
		title, a, b string
		want        int
	}{
		{"AGE", "45s", "5m", -1},
		{"AGE", "2d3h", "2d", 1},
		{"AGE", "3y", "<unknown>", -1},
		{"READY", "0/1", "1/2", -1},
		{"READY", "2/2", "1/2", 1},
		{"IP", "10.244.1.10", "10.244.1.9", 1},
		{"CLUSTER-IP", "None", "10.96.0.1", 1},
		{"RESTARTS", "10 (5m ago)", "9", 1},
		{"NAME", "web-10", "web-9", -1},
		{"STATUS", "Pending", "Running", -1},
	} {
		if got := compareCells(tc.title, tc.a, tc.b); got != tc.want {
			t.Errorf("%s: compare(%q, %q) = %d, want %d", tc.title, tc.a, tc.b, got, tc.want)
		}
	}
}

// k9s's sort keys: shift-N sorts by NAME with ↑ in its header, again with ↓; the
// cursor stays on its pod; keys for columns a view lacks do nothing; the services
// view sorts by TYPE on shift-T. Goldens at both sizes.
func TestSortKeys(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			hs := newHarness(t, 3, size[0], size[1])
			hs.run(hs.keys("N"))
			if s := hs.screen(); !strings.Contains(s, "NAME↑") {
				t.Fatalf("shift-N: no NAME↑:\n%s", s)
			}
			hs.run(hs.keys("N"))
			s := hs.screen()
			web2, web1, api := strings.Index(s, "web-2"), strings.Index(s, "web-1"), strings.Index(s, "api-")
			if !strings.Contains(s, "NAME↓") || !(web2 < web1 && web1 < api) {
				t.Errorf("shift-N twice: want NAME↓ and web-2, web-1, api:\n%s", s)
			}
			if tg, _ := hs.a.selected(); tg.Name != "web-1" {
				t.Errorf("cursor moved to %v, want it kept on web-1", tg)
			}
			checkFrame(t, s, size[0], size[1])
			golden(t, fmt.Sprintf("sort_pods_%dx%d", size[0], size[1]), s)

			hs.run(hs.keys("S"))
			if s := hs.screen(); !strings.Contains(s, "STATUS↑") || strings.Contains(s, "NAME↓") {
				t.Errorf("shift-S: want STATUS↑ alone:\n%s", s)
			}

			hs.run(hs.keys(":svc<enter>"))
			hs.run(hs.keys("O")) // no NODE column: nothing
			hs.run(hs.keys("T"))
			s = hs.screen()
			if !strings.Contains(s, "TYPE↑") || strings.Contains(s, "↓") {
				t.Errorf("svc shift-T: want TYPE↑ alone:\n%s", s)
			}
			checkFrame(t, s, size[0], size[1])
			golden(t, fmt.Sprintf("sort_svc_%dx%d", size[0], size[1]), s)
		})
	}
}
