package tui

import (
	"slices"
	"strings"
	"testing"

	"podlab.dev/podlab/cluster/api"
)

func TestYAMLView(t *testing.T) {
	hs := newHarness(t, 3, 100, 30)
	hs.run(hs.keys("y"))
	s := hs.screen()
	for _, want := range []string{"[yaml pod default/web-1]", "kind: Pod", "name: web-1", "namespace: default"} {
		if !strings.Contains(s, want) {
			t.Errorf("y on web-1: no %q:\n%s", want, s)
		}
	}
	// It scrolls and esc goes back to the list.
	top := hs.a.text.top
	hs.keys("jj")
	if hs.a.text.top <= top && len(hs.a.text.lines) > hs.a.text.h {
		t.Error("j does not scroll the YAML")
	}
	hs.keys("<esc>")
	if hs.a.text != nil || !strings.Contains(hs.screen(), "[pods]") {
		t.Fatalf("esc goes back:\n%s", hs.screen())
	}
	// Any list view: a Service and a Deployment.
	hs.run(hs.keys(":svc<enter>y"))
	if s := hs.screen(); !strings.Contains(s, "kind: Service") {
		t.Errorf("y in :svc:\n%s", s)
	}
	hs.keys("<esc>")
	hs.run(hs.keys(":deploy<enter>y"))
	if s := hs.screen(); !strings.Contains(s, "kind: Deployment") {
		t.Errorf("y in :deploy:\n%s", s)
	}
	hs.keys("<esc>")
	// A node is not a stored object: said, not a blank page.
	hs.run(hs.keys(":nodes<enter>y"))
	if s := hs.screen(); !strings.Contains(s, "keeps no node object") {
		t.Errorf("y on a node:\n%s", s)
	}
}

func TestCtrlDDelete(t *testing.T) {
	hs := newHarness(t, 3, 100, 30)
	hs.keys("<down><ctrl+d>")
	if s := hs.screen(); !strings.Contains(s, "delete pod default/web-2? y/N") {
		t.Fatalf("ctrl-d asks first:\n%s", s)
	}
	hs.keys("n")
	if len(hs.fake.CallLog()) != 0 {
		t.Fatalf("n must not delete: %v", hs.fake.CallLog())
	}
	hs.keys("<ctrl+d>")
	hs.run(hs.keys("y"))
	if got := hs.fake.CallLog(); !slices.Equal(got, []string{"DeletePod default/web-2"}) {
		t.Fatalf("a pod goes through DeletePod: %v", got)
	}
	// Others through DeleteObjects.
	hs.keys(":deploy<enter><ctrl+d>")
	if s := hs.screen(); !strings.Contains(s, "delete deploy ") || !strings.Contains(s, "? y/N") {
		t.Fatalf("ctrl-d on a deployment asks first:\n%s", s)
	}
	sel, _ := hs.a.selected()
	hs.run(hs.keys("y"))
	want := "DeleteObjects Deployment " + podKey(sel.Namespace, sel.Name)
	if got := hs.fake.CallLog(); len(got) != 2 || got[1] != want {
		t.Fatalf("calls %v, want %q", got, want)
	}
	if s := hs.screen(); !strings.Contains(s, "deleted deploy "+podKey(sel.Namespace, sel.Name)) {
		t.Errorf("status:\n%s", s)
	}
	// Nodes are the lab's own.
	hs.keys(":nodes<enter><ctrl+d>")
	if hs.a.mode == promptConfirm || !hs.a.bad {
		t.Error("ctrl-d on a node should be refused")
	}
}

func TestLogsView(t *testing.T) {
	hs := newHarness(t, 3, 100, 30)
	hs.fake.LogLines = map[string][]api.LogLine{
		"default/web-1": {{Line: `10.244.2.2 - - "GET / HTTP/1.1" 200 12`}, {Line: `10.244.2.2 - - "GET /x HTTP/1.1" 404 9`}},
		"default/web-2": {{Note: "pod default/web-2 keeps no logs in this version"}},
	}
	hs.run(hs.keys("l"))
	s := hs.screen()
	if !strings.Contains(s, "[logs pod default/web-1]") || !strings.Contains(s, `"GET /x HTTP/1.1" 404 9`) {
		t.Fatalf("l on web-1:\n%s", s)
	}
	hs.keys("<esc><down>")
	hs.run(hs.keys("l"))
	if s := hs.screen(); !strings.Contains(s, "keeps no logs") {
		t.Fatalf("l on a pod without logs shows the note:\n%s", s)
	}
	hs.keys("<esc>:nodes<enter>l")
	if !hs.a.bad || hs.a.text != nil {
		t.Error("l on a node should be refused")
	}
}
