package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"podlab.dev/podlab/events"
)

// Render time of one frame with 1,000 pods (goal: under 16 ms); svcdetails is a
// Service with 1,000 endpoints.
func BenchmarkRender(b *testing.B) {
	for _, v := range []string{"pods", "topo", "nodes", "events", "svc", "svcdetails", "deploy"} {
		for _, size := range [][2]int{{80, 24}, {200, 60}} {
			b.Run(fmt.Sprintf("%s_%dx%d", v, size[0], size[1]), func(b *testing.B) {
				hs := newHarness(b, 1000, size[0], size[1])
				if v == "svcdetails" {
					// team-a/big, 1,000 endpoints.
					hs.a.command("svc")
					hs.keys("G<enter>")
					if hs.a.detail == nil || hs.a.detail.t.Name != "big" {
						b.Fatal("no details of team-a/big")
					}
					for range 500 {
						hs.keys("j")
					}
				} else {
					hs.a.command(v)
				}
				// Somewhere in the middle, where the rows are not the first ones.
				for range 500 {
					hs.a.current().key(keyDown)
				}
				b.ReportAllocs()
				for b.Loop() {
					_ = hs.a.View()
				}
			})
		}
	}
}

// Time from an event reaching the model to the frame showing it (goal: under 100 ms
// with the state fetch; the event alone changes the frame at once).
func BenchmarkEventToScreen(b *testing.B) {
	for _, v := range []string{"pods", "topo"} {
		b.Run("event_"+v, func(b *testing.B) {
			hs := newHarness(b, 1000, 200, 60)
			hs.a.command(v)
			ready := hs.a.st.ReadyCount()
			i := 0
			for b.Loop() {
				// The pods view colours READY at once (its text is the Pod object's,
				// listed with the next state); the header counts the pod at once.
				typ, want, line := events.PodNotReady, fmt.Sprintf("pods %d/", ready-1), "pods "
				if v == "topo" {
					line = "pod-0006"
					want = "not ready"
				}
				if i%2 == 1 {
					typ, want = events.PodReady, fmt.Sprintf("pods %d/", ready)
					if v == "topo" {
						want = "ready"
					}
				}
				i++
				// pod-0006 is on the first screen of both views.
				hs.a.fetching = true // the refetch is measured below
				hs.a.Update(eventsMsg{sess: hs.a.sess, evs: []events.Event{{Time: time.Now(), Type: typ, Kind: kindPod, Namespace: "default", Name: "pod-0006"}}})
				if s := hs.a.View().Content; !strings.Contains(lineWith(s, line), want) {
					b.Fatalf("frame does not show %s:\n%s", typ, lineWith(s, line))
				}
			}
		})
	}
	// The full path: the state fetched again after an event (a fake source, so no
	// socket), the rows rebuilt, the frame drawn.
	b.Run("state_refresh_pods", func(b *testing.B) {
		hs := newHarness(b, 1000, 200, 60)
		for b.Loop() {
			hs.a.Update(hs.a.fetchState()())
			_ = hs.a.View()
		}
	})
}

var keyDown = tea.KeyPressMsg{Code: tea.KeyDown}

// A counters sample reaching the open details of a Service with 1,000 endpoints:
// the lines rebuilt, the frame drawn (once a second while shown).
func BenchmarkServiceCountersRefresh(b *testing.B) {
	hs := newHarness(b, 1000, 200, 60)
	hs.a.command("svc")
	hs.keys("G<enter>")
	_, scs := svcFixture(b)
	i := 0
	for b.Loop() {
		hs.a.Update(svcCountersMsg{sess: hs.a.sess, cs: scs[i%2]})
		i++
		_ = hs.a.View()
	}
}
