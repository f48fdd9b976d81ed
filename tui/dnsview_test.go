package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
)

// dnsFixture is n queries, newest first, from web-1, a node and an address the lab
// does not have.
func dnsFixture(n int) []api.DNSQuery {
	var qs []api.DNSQuery
	for i := range n {
		q := api.DNSQuery{QueryRecord: api.QueryRecord{Time: t0.Add(80*time.Second - time.Duration(i)*time.Millisecond), Server: "kube-system/coredns-668d6bf9bc-x7k2p",
			Client: "10.244.1.2:40001", Proto: "udp", ID: uint16(i), Name: "web.default.svc.cluster.local.", Type: "A", Class: "IN", Rcode: "NOERROR",
			Answers: []string{"web.default.svc.cluster.local. 30 IN A 10.96.12.34"}, Took: 212 * time.Microsecond},
			From: api.ObjectRef{Kind: kindPod, Namespace: "default", Name: "web-1"}}
		switch i % 3 {
		case 1:
			q.Name, q.Rcode, q.Answers = fmt.Sprintf("web%d.default.svc.cluster.local.default.svc.cluster.local.", i), "NXDOMAIN", nil
			q.Client, q.From = "172.30.0.11:5353", api.ObjectRef{Kind: kindNode, Name: "worker-1"}
		case 2:
			q.Client, q.From, q.Server = "10.9.9.9:1", api.ObjectRef{}, "ns1"
		}
		qs = append(qs, q)
	}
	return qs
}

// :dns lists the query log, polled only while shown; enter opens the client pod.
func TestDNSView(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			hs := newHarness(t, 3, size[0], size[1])
			hs.fake.Queries = dnsFixture(30)
			cmd := hs.keys(":dns<enter>")
			if hs.fake.DNSCalls != 0 || cmd == nil {
				t.Fatalf("opening :dns: %d calls, cmd %v; want a fetch to run", hs.fake.DNSCalls, cmd)
			}
			if msg := hs.run(cmd); hs.fake.DNSCalls != 1 {
				t.Fatalf("fetch %T: %d calls, want 1", msg, hs.fake.DNSCalls)
			}
			s := hs.screen()
			checkFrame(t, s, size[0], size[1])
			golden(t, fmt.Sprintf("dns_%dx%d", size[0], size[1]), s)
			for _, want := range []string{"[dns]", "CLIENT", "default/web-1", "node worker-1", "10.9.9.9", "NXDOMAIN", "10.96.12.34", "coredns-668d6bf9bc-x7k2p"} {
				if size[0] > 80 && !strings.Contains(s, want) {
					t.Errorf("no %q in\n%s", want, s)
				}
			}
			// The next tick polls again while shown, not once another view is.
			if _, cmd := hs.a.Update(pollTickMsg{hs.a.sess, hs.a.dnsPoll}); cmd == nil {
				t.Error("a tick while :dns is shown polls nothing")
			}
			hs.keys("<enter>")
			if s := hs.screen(); !strings.Contains(s, "[details pod") || !strings.Contains(s, "pod default/web-1") { // the tab may be cut at 80 columns
				t.Errorf("enter on a query does not open its client pod:\n%s", hs.screen())
			}
			hs.keys("<esc>:pods<enter>")
			if _, cmd := hs.a.Update(pollTickMsg{hs.a.sess, hs.a.dnsPoll}); cmd != nil || hs.a.dnsPoll.polling {
				t.Error("polled while :pods is shown")
			}
		})
	}
}
