package tui

import (
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
