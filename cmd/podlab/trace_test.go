package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/netprobe"
)

// Invalid input exits 2 before any lab is touched.
func TestTraceInvalidInput(t *testing.T) {
	t.Setenv("PODLAB_STATE_DIR", t.TempDir())
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"nothing to trace", []string{"trace", "--port", "80"}},
		{"no --to", []string{"trace", "--from", "x/a", "--port", "80"}},
		{"no port", []string{"trace", "--from", "x/a", "--to", "x/b"}},
		{"--from without a namespace", []string{"trace", "--from", "a", "--to", "x/b", "--port", "80"}},
		{"bad --to", []string{"trace", "--from", "x/a", "--to", "no_such!", "--port", "80"}},
		{"a DNS name", []string{"trace", "--from", "x/a", "--to", "example.com", "--port", "80"}},
		{"sctp", []string{"trace", "--from", "x/a", "--to", "x/b", "--port", "80", "--protocol", "sctp"}},
		{"bad protocol", []string{"trace", "--from", "x/a", "--to", "x/b", "--port", "80", "--protocol", "icmp"}},
		{"bad output", []string{"trace", "--from", "x/a", "--to", "x/b", "--port", "80", "-o", "yaml"}},
		{"an argument", []string{"trace", "x/a"}},
		{"no lab deployed", []string{"trace", "--from", "x/a", "--to", "x/b", "--port", "80"}},
		{"logs --policy with a pod", []string{"logs", "--policy", "web"}},
		{"logs --policy with --tail", []string{"logs", "--policy", "--tail", "3"}},
		{"logs without a pod", []string{"logs"}},
		{"logs --policy, no lab", []string{"logs", "--policy"}},
		{"logs --allows without --policy", []string{"logs", "--allows", "web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != exitInvalid {
				t.Errorf("podlab %v: exit %d, want %d", tc.args, got, exitInvalid)
			}
		})
	}
}

func TestCounterMoves(t *testing.T) {
	before := map[string]map[string]api.PacketCount{
		"w1": {"drop/ingress/x/a": {Packets: 5, Bytes: 300}, "allow/ingress/x/p/0": {Packets: 2, Bytes: 120}, "drop/egress/x/b": {Packets: 9, Bytes: 900}},
		"w2": {"drop/ingress/y/a": {Packets: 1}},
	}
	after := map[string]map[string]api.PacketCount{
		"w1": {"drop/ingress/x/a": {Packets: 8, Bytes: 480}, "allow/ingress/x/p/0": {Packets: 2, Bytes: 120}, "drop/egress/x/b": {Packets: 1, Bytes: 60}, "allow/ingress/x/q/1": {Packets: 1, Bytes: 60}},
		"w2": {"drop/ingress/y/a": {Packets: 4}}, // not a node of the flow
	}
	got := counterMoves(before, after, []string{"w1"})
	want := []counterMove{
		{Node: "w1", Counter: "allow/ingress/x/q/1", Packets: 1, Bytes: 60}, // new
		{Node: "w1", Counter: "drop/egress/x/b", Packets: 1, Bytes: 60},     // went down: table rebuilt
		{Node: "w1", Counter: "drop/ingress/x/a", Packets: 3, Bytes: 180},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counterMoves:\n got %+v\nwant %+v", got, want)
	}
}

func TestTraceAgrees(t *testing.T) {
	svc := &api.TraceVerdict{Targets: []api.TraceTarget{{To: "x/a", Allowed: true}, {To: "x/b", Allowed: false}}}
	for _, tc := range []struct {
		name string
		p    singleReply
		want bool
	}{
		{"answered by an allowed backend", singleReply{Verdict: netprobe.Allowed, AnsweredBy: "x/a"}, true},
		{"answered by a blocked backend", singleReply{Verdict: netprobe.Allowed, AnsweredBy: "x/b"}, false},
		{"blocked though a backend is allowed", singleReply{Verdict: netprobe.TimedOut}, false},
	} {
		if got := agrees(svc, tc.p); got != tc.want {
			t.Errorf("%s: agrees = %v, want %v", tc.name, got, tc.want)
		}
	}
	blocked := &api.TraceVerdict{Targets: []api.TraceTarget{{To: "x/a"}}}
	if !agrees(blocked, singleReply{Verdict: netprobe.TimedOut}) || agrees(blocked, singleReply{Verdict: netprobe.Refused}) {
		t.Error("a blocked pod: timed out agrees, refused (it got through) does not")
	}
}

func TestPolicyLogLine(t *testing.T) {
	var b bytes.Buffer
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.Local)
	allow := api.VerdictEntry{Verdict: "allow", Message: "allow ingress x/a: ..."}
	printVerdict(&b, allow, false, "text")
	printVerdict(&b, api.VerdictEntry{Time: at, Verdict: "drop", Node: "worker-1", Message: "drop ingress x/a: TCP 10.244.2.3:4000 (y/b) -> 10.244.1.2:80 (x/a), default deny of x/deny"}, false, "text")
	want := "03:04:05 worker-1       drop ingress x/a: TCP 10.244.2.3:4000 (y/b) -> 10.244.1.2:80 (x/a), default deny of x/deny\n"
	if b.String() != want {
		t.Errorf("got %q\nwant %q", b.String(), want)
	}
	b.Reset()
	printVerdict(&b, allow, true, "json")
	if !strings.Contains(b.String(), `"verdict":"allow"`) {
		t.Errorf("json with --allows: %s", b.String())
	}
}
