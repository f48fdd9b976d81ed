package tui

import (
	"fmt"
	"strings"
	"testing"

	"podlab.dev/podlab/cluster/api"
)

// :netpol lists the policies' and pods' counters, polled only while shown; enter on a
// pod row opens the pod.
func TestNetpolView(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			hs := newHarness(t, 3, size[0], size[1])
			hs.fake.Netpol = &api.NetpolCounters{
				Policies: []api.PolicyCount{
					{Policy: "default/allow-web", Types: "Ingress", Isolates: 1, Allowed: 4},
					{Policy: "default/deny", Types: "Ingress", Isolates: 3, Dropped: 17},
				},
				Pods: []api.PodDropCount{
					{Pod: "default/web-1", Node: "worker-1", Direction: "ingress", Dropped: 17, Policies: []string{"default/allow-web", "default/deny"}},
				},
			}
			cmd := hs.keys(":netpol<enter>")
			if hs.fake.NetpolCalls != 0 || cmd == nil {
				t.Fatalf("opening :netpol: %d calls, cmd %v; want a fetch to run", hs.fake.NetpolCalls, cmd)
			}
			if msg := hs.run(cmd); hs.fake.NetpolCalls != 1 {
				t.Fatalf("fetch %T: %d calls, want 1", msg, hs.fake.NetpolCalls)
			}
			s := hs.screen()
			checkFrame(t, s, size[0], size[1])
			for _, want := range []string{"[netpol]", "default/deny", "isolates 3 pods", "default/web-1", "17"} {
				if size[0] > 80 && !strings.Contains(s, want) {
					t.Errorf("no %q in\n%s", want, s)
				}
			}
			if _, cmd := hs.a.Update(pollTickMsg{hs.a.sess, hs.a.netPoll}); cmd == nil {
				t.Error("a tick while :netpol is shown polls nothing")
			}
			hs.keys("G<enter>")
			if s := hs.screen(); !strings.Contains(s, "[details pod") || !strings.Contains(s, "pod default/web-1") {
				t.Errorf("enter on a pod row does not open the pod:\n%s", hs.screen())
			}
			hs.keys("<esc>:pods<enter>")
			if _, cmd := hs.a.Update(pollTickMsg{hs.a.sess, hs.a.netPoll}); cmd != nil || hs.a.netPoll.polling {
				t.Error("polled while :pods is shown")
			}
		})
	}
}
