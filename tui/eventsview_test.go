package tui

import (
	"fmt"
	"strings"
	"testing"

	"podlab.dev/podlab/events"
)

// KIND was 4 cells wide at any width: Deployment, NetworkPolicy and EndpointSlice
// were cut even at 200 columns, and long objects at 24.
func TestEventsKindWidth(t *testing.T) {
	for _, w := range []int{200, 80} {
		hs := newHarness(t, 3, w, 24)
		ev := events.Event{Time: t0.Add(80e9), Type: events.Warning, Kind: "NetworkPolicy", Namespace: "default", Name: "deny-from-other-ns", Message: "not enforced"}
		dep := events.Event{Time: t0.Add(81e9), Type: events.Warning, Kind: "Deployment", Namespace: "shop", Name: "api", Message: "scaled"}
		hs.a.Update(eventsMsg{sess: hs.a.sess, evs: []events.Event{ev, dep}})
		hs.keys(":events<enter>")
		s := hs.screen()
		wantOnScreen(t, s, "NetworkPolicy  default/deny-from-oth", "Deployment     shop/api")
		if w == 200 && !strings.Contains(s, "shop/api-5777c4c65c-xmf2d") {
			t.Errorf("200 columns: a pod's name should not be cut:\n%s", s)
		}
	}
}

// E on a selected object shows its events only, as kubectl describe and k9s's
// describe end with them: from a list, from details and from the events view itself;
// esc shows every event again.
func TestObjectEvents(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		hs := newHarness(t, 3, size[0], size[1])
		hs.a.Update(eventsMsg{sess: hs.a.sess, evs: []events.Event{
			{Time: t0.Add(80e9), Type: events.Warning, Kind: "Deployment", Namespace: "shop", Name: "api", Message: "scaled up replica set api-5777c4c65c to 2"},
			{Time: t0.Add(81e9), Type: events.PodNotReady, Kind: kindPod, Namespace: "default", Name: "web-1", Message: "readiness probe failed: HTTP 503"},
			{Time: t0.Add(82e9), Type: events.Warning, Kind: "Service", Namespace: "default", Name: "web", Message: "no ready endpoints"},
		}})
		sel, ok := hs.a.selected()
		if !ok {
			t.Fatal("nothing selected in :pods")
		}
		hs.keys("E")
		s := hs.screen()
		checkFrame(t, s, size[0], size[1])
		golden(t, fmt.Sprintf("object_events_%dx%d", size[0], size[1]), s)
		wantOnScreen(t, s, "[events]", " of "+sel.String())
		if strings.Contains(s, "shop/api") || strings.Contains(s, "no ready endpoints") {
			t.Errorf("E on %s shows other objects' events:\n%s", sel, s)
		}
		hs.keys("<esc>")
		if s := hs.screen(); !strings.Contains(s, "shop/api") || strings.Contains(s, " of pod ") {
			t.Errorf("esc should show every event again:\n%s", s)
		}
		// From the events view: the selected row's object, whatever its kind.
		hs.keys("G<up>E")
		if s := hs.screen(); !strings.Contains(s, "of pod default/web-1") || strings.Contains(s, "no ready endpoints") {
			t.Errorf("E on an event row should scope to its object:\n%s", s)
		}
		hs.keys("<esc>:deploy<enter>E")
		if s := hs.screen(); hs.a.cur != viewEvents {
			t.Errorf("E in :deploy should open the events view:\n%s", s)
		}
	}
}
