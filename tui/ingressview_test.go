package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
)

// accessFixture is n requests, newest first: forwarded by an Ingress rule from web-1,
// a 404 from an address the lab does not have, a 502 through an HTTPRoute from a host.
func accessFixture(n int) []api.AccessEntry {
	var es []api.AccessEntry
	for i := range n {
		e := api.AccessEntry{Time: t0.Add(80*time.Second - time.Duration(i)*time.Millisecond), Pod: "podlab-ingress/podlab-ingress-controller-7d4b9c-x2k8p",
			Frontend: "ingress", Listener: "http", Client: "10.244.1.2:40001", Method: "GET", Host: "web.example",
			Path: fmt.Sprintf("/api/items/%d?page=2", i), Proto: "HTTP/1.1", Status: 200, Bytes: 612, DurationMs: 2.5,
			Matched: "Ingress/default/web rules[0].paths[1]", Backend: "default/web:80", Upstream: "10.244.1.5:8080", UpstreamStatus: 200,
			From: api.ObjectRef{Kind: kindPod, Namespace: "default", Name: "web-1"}}
		switch i % 3 {
		case 1:
			e.Client, e.From, e.Host, e.Path, e.Status = "[fd00::9]:5000", api.ObjectRef{}, "nosuch.example", "/", 404
			e.Matched, e.Backend, e.Upstream, e.UpstreamStatus, e.DurationMs = "", "", "", 0, 0.08
		case 2:
			e.Pod, e.Frontend, e.Listener = "podlab-gateway-system/podlab-infra-gw-5c9f8-abcde", "gateway/infra/gw", "web"
			e.Client, e.From = "172.30.0.100:33000", api.ObjectRef{Kind: kindHost, Name: "client"}
			e.Method, e.Host, e.Path, e.Status, e.UpstreamStatus = "POST", "api.example", "/v2/orders", 502, 0
			e.Matched, e.Backend, e.Upstream, e.DurationMs = "HTTPRoute/infra/api rules[2].matches[0]", "infra/api:8080", "10.244.2.7:8080", 1250
		}
		es = append(es, e)
	}
	return es
}

// :ingress lists the access log, polled only while shown; enter opens the client pod.
func TestIngressView(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			hs := newHarness(t, 3, size[0], size[1])
			hs.fake.Access = accessFixture(30)
			cmd := hs.keys(":ingress<enter>")
			if hs.fake.AccessCalls != 0 || cmd == nil {
				t.Fatalf("opening :ingress: %d calls, cmd %v; want a fetch to run", hs.fake.AccessCalls, cmd)
			}
			if msg := hs.run(cmd); hs.fake.AccessCalls != 1 {
				t.Fatalf("fetch %T: %d calls, want 1", msg, hs.fake.AccessCalls)
			}
			s := hs.screen()
			checkFrame(t, s, size[0], size[1])
			golden(t, fmt.Sprintf("ingress_%dx%d", size[0], size[1]), s)
			wants := []string{"[ingress]", "PATH", "STATUS", "MATCHED", "fd00::9", "404", "HTTPRoute/infra/api"}
			if size[0] > 80 {
				wants = append(wants, "default/web-1", "host client", "Ingress/default/web rules[0].paths[1]", "HTTPRoute/infra/api rules[2].matches[0]",
					"default/web:80", "10.244.2.7:8080", "2.5ms", "1250ms", "nosuch.example")
			}
			for _, want := range wants {
				if !strings.Contains(s, want) {
					t.Errorf("no %q in\n%s", want, s)
				}
			}
			// The next tick polls again while shown, not once another view is.
			if _, cmd := hs.a.Update(pollTickMsg{hs.a.sess, hs.a.ingPoll}); cmd == nil {
				t.Error("a tick while :ingress is shown polls nothing")
			}
			hs.keys("<enter>")
			if s := hs.screen(); !strings.Contains(s, "pod default/web-1") {
				t.Errorf("enter on a request does not open its client pod:\n%s", s)
			}
			hs.keys("<esc>:pods<enter>")
			if _, cmd := hs.a.Update(pollTickMsg{hs.a.sess, hs.a.ingPoll}); cmd != nil || hs.a.ingPoll.polling {
				t.Error("polled while :pods is shown")
			}
		})
	}
}

// Each alias opens the view; with no request yet it says how to make one.
func TestIngressViewAliasesAndEmpty(t *testing.T) {
	for _, alias := range []string{"ing", "access", "gateway", "gw"} {
		hs := newHarness(t, 3, 120, 30)
		hs.run(hs.keys(":" + alias + "<enter>"))
		if s := hs.screen(); !strings.Contains(s, "[ingress]") || !strings.Contains(s, "no requests yet") {
			t.Errorf(":%s:\n%s", alias, s)
		}
	}
}
