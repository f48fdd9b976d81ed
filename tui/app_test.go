package tui

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fixture is a lab like labs/basics with n pods (3: the basics' own pods).
func fixture(n int) (*api.LabState, []events.Event, [2]*api.CounterSet) {
	st := &api.LabState{
		Lab: "basics", Runtime: "netns", Overlay: "vxlan", CNI: "podlab",
		PodCIDR: netip.MustParsePrefix("10.244.0.0/16"), ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"),
		Underlay: netip.MustParsePrefix("172.30.0.0/24"), Domain: "cluster.local",
		Supervisor: api.SupervisorState{PID: 4242, Running: true},
	}
	for i, name := range []string{"control-plane", "worker-1", "worker-2"} {
		role := "worker"
		if i == 0 {
			role = "control-plane"
		}
		st.Nodes = append(st.Nodes, api.NodeState{Name: name, Role: role,
			IP: netip.AddrFrom4([4]byte{172, 30, 0, byte(10 + i)}), PodCIDR: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i), 0}), 24),
			Netns: "podlab_basics_node_" + name, Labels: map[string]string{"kubernetes.io/hostname": name}})
	}
	st.Hosts = []api.HostState{{Name: "client", IP: netip.MustParseAddr("172.30.0.100"), Netns: "podlab_basics_host_client", Ports: "8080"}}
	add := func(ns, name, node string, ip netip.Addr, ready bool, ports string, labels map[string]string) {
		st.Pods = append(st.Pods, api.PodState{Namespace: ns, Name: name, Node: node, IP: ip, Ready: ready, Ports: ports,
			Labels: labels, Netns: "podlab_basics_pod_" + ns + "_" + name})
	}
	if n == 3 {
		add("default", "web-1", "worker-1", netip.MustParseAddr("10.244.1.2"), true, "80,81/udp", map[string]string{"app": "web"})
		add("default", "web-2", "worker-2", netip.MustParseAddr("10.244.2.2"), true, "80,81/udp", map[string]string{"app": "web"})
		add("shop", "api-5777c4c65c-xmf2d", "worker-1", netip.MustParseAddr("10.244.1.3"), false, "http:8080",
			map[string]string{"app": "api", "pod-template-hash": "5777c4c65c"})
	} else {
		for i := range n {
			node := 1 + i%2
			ip := netip.AddrFrom4([4]byte{10, 244, byte(node), byte(2 + i/2%250)})
			add([]string{"default", "shop", "team-a"}[i%3], fmt.Sprintf("pod-%04d", i), st.Nodes[node].Name, ip, i%17 != 0, "80",
				map[string]string{"app": fmt.Sprintf("app-%d", i%7)})
		}
	}
	for i := range st.Nodes {
		for _, p := range st.Pods {
			if p.Node == st.Nodes[i].Name {
				st.Nodes[i].Pods++
			}
		}
	}
	var evs []events.Event
	tm := t0
	next := func() time.Time { tm = tm.Add(3 * time.Millisecond); return tm }
	for _, nd := range st.Nodes {
		evs = append(evs, events.Event{Time: next(), Type: events.NetnsCreated, Kind: kindNode, Name: nd.Name, Message: nd.Netns})
	}
	for _, p := range st.Pods {
		evs = append(evs, events.Event{Time: next(), Type: events.PodNetworkReady, Kind: kindPod, Namespace: p.Namespace, Name: p.Name, Node: p.Node, Message: p.IP.String()})
	}
	for _, p := range st.Pods {
		typ, msg := events.PodReady, ""
		if !p.Ready {
			typ, msg = events.PodNotReady, "tcp 80: connection refused"
		}
		evs = append(evs, events.Event{Time: next(), Type: typ, Kind: kindPod, Namespace: p.Namespace, Name: p.Name, Message: msg})
	}
	evs = append(evs, events.Event{Time: next(), Type: events.DeployFinished, Kind: "Lab", Name: "basics", Message: fmt.Sprintf("%d pods ready", st.ReadyCount())})
	var cs [2]*api.CounterSet
	for s := range cs {
		c := &api.CounterSet{Time: t0.Add(time.Duration(80+s) * time.Second), Pods: map[string]api.Counters{},
			Nodes: map[string]api.Counters{}, Hosts: map[string]api.Counters{}}
		for i, p := range st.Pods {
			c.Pods[podKey(p.Namespace, p.Name)] = api.Counters{RxBytes: uint64(1000*i + 2048*s*(i%3)), TxBytes: uint64(700 * i), RxPackets: uint64(i), TxPackets: uint64(i)}
		}
		for i, nd := range st.Nodes {
			c.Nodes[nd.Name] = api.Counters{RxBytes: uint64(1 << (20 + i) * (s + 1)), TxBytes: uint64(5 << 20)}
		}
		c.Hosts["client"] = api.Counters{RxBytes: 1234, TxBytes: 5678}
		cs[s] = c
	}
	return st, evs, cs
}

type harness struct {
	t    *testing.T
	a    *App
	fake *Fake
	labs []string
}

// newHarness opens the lab on a fake, with its state, history and two counter samples
// loaded synchronously, at w x h.
func newHarness(t testing.TB, pods, w, h int) *harness {
	st, evs, cs := fixture(pods)
	fake := NewFake(st, evs)
	fake.Counter = cs[1]
	fake.Detail["Pod/default/web-1"] = &api.Details{Kind: kindPod, Namespace: "default", Name: "web-1", Sections: []api.Section{
		{Title: "addresses", Body: "1: lo    inet 127.0.0.1/8\n2: eth0    inet 10.244.1.2/24 brd 10.244.1.255"},
		{Title: "routes", Body: "default via 10.244.1.1 dev eth0\n10.244.1.0/24 dev eth0 proto kernel scope link src 10.244.1.2"},
		{Title: "resolv.conf", Body: "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5"},
	}}
	hs := &harness{fake: fake, labs: []string{"basics"}}
	if tt, ok := t.(*testing.T); ok {
		hs.t = tt
	}
	hs.a = New(Config{
		Lab:  "basics",
		Labs: func() ([]string, error) { return slices.Clone(hs.labs), nil },
		Open: func(string) Source { return fake },
		Now:  func() time.Time { return t0.Add(90 * time.Second) },
	})
	t.Cleanup(hs.a.closeLab)
	hs.a.Update(tea.WindowSizeMsg{Width: w, Height: h})
	hs.a.openLab("basics", false)
	objs, scs := svcFixture(t)
	fake.SetObjects(append(objs, kubeFixture(t, st)...))
	// The history asks for a fetch, which the state answers.
	hs.a.Update(eventsMsg{sess: hs.a.sess, evs: evs})
	hs.a.Update(hs.a.fetchState()())
	hs.a.fetching, hs.a.dirty, hs.a.scheduled, hs.a.lastFetch = false, false, false, time.Time{}
	hs.a.Update(countersMsg{sess: hs.a.sess, cs: cs[0]})
	hs.a.Update(countersMsg{sess: hs.a.sess, cs: cs[1]})
	fake.SvcCounter = scs[1]
	hs.a.Update(hs.a.fetchObjects()())
	hs.a.objFetching, hs.a.objDirty, hs.a.objScheduled, hs.a.objLast = false, false, false, time.Time{}
	hs.a.Update(svcCountersMsg{sess: hs.a.sess, cs: scs[0]})
	hs.a.Update(svcCountersMsg{sess: hs.a.sess, cs: scs[1]})
	return hs
}

// keys sends key presses: single characters, or names in angle brackets (<enter>).
func (hs *harness) keys(s string) tea.Cmd {
	var last tea.Cmd
	for len(s) > 0 {
		var k tea.KeyPressMsg
		if s[0] == '<' {
			end := strings.IndexByte(s, '>')
			name := s[1:end]
			s = s[end+1:]
			switch name {
			case "enter":
				k = tea.KeyPressMsg{Code: tea.KeyEnter}
			case "esc":
				k = tea.KeyPressMsg{Code: tea.KeyEscape}
			case "down":
				k = tea.KeyPressMsg{Code: tea.KeyDown}
			case "up":
				k = tea.KeyPressMsg{Code: tea.KeyUp}
			case "tab":
				k = tea.KeyPressMsg{Code: tea.KeyTab}
			case "backspace":
				k = tea.KeyPressMsg{Code: tea.KeyBackspace}
			case "ctrl+u":
				k = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
			case "ctrl+d":
				k = tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl}
			default:
				panic("unknown key " + name)
			}
		} else {
			r := []rune(s)[0]
			s = s[len(string(r)):]
			k = tea.KeyPressMsg{Code: r, Text: string(r)}
		}
		_, last = hs.a.Update(k)
	}
	return last
}

// screen is the frame as a dumb terminal shows it.
func (hs *harness) screen() string { return ansi.Strip(hs.a.render()) }

// run executes cmd (one that does not block) and feeds its message back.
func (hs *harness) run(cmd tea.Cmd) tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	hs.a.Update(msg)
	return msg
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tui/ -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from %s (go test ./tui/ -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

// checkFrame asserts the frame is exactly w x h cells at most, and plain.
func checkFrame(t *testing.T, s string, w, h int) {
	t.Helper()
	lines := strings.Split(s, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if n := ansi.StringWidth(l); n > w {
			t.Errorf("line %d is %d cells wide, more than %d: %q", i, n, w, l)
		}
	}
}

func TestViewsGolden(t *testing.T) {
	views := []struct {
		name string
		keys string
	}{
		{"pods", ""},
		{"nodes", ":nodes<enter>"},
		{"topo", ":topo<enter>"},
		{"events", ":events<enter>"},
		{"details", "<enter>"},
		{"help", "?"},
		{"filter", "/web"},
	}
	for _, pods := range []int{3, 1000} {
		for _, size := range [][2]int{{80, 24}, {200, 60}} {
			for _, v := range views {
				if pods == 1000 && (v.name == "help" || v.name == "details") {
					continue
				}
				name := fmt.Sprintf("%s_%dpods_%dx%d", v.name, pods, size[0], size[1])
				t.Run(name, func(t *testing.T) {
					hs := newHarness(t, pods, size[0], size[1])
					if v.name == "details" {
						hs.run(hs.keys(v.keys))
					} else {
						hs.keys(v.keys)
					}
					s := hs.screen()
					checkFrame(t, s, size[0], size[1])
					golden(t, name, s)
				})
			}
		}
	}
}

// A dumb terminal gets no escape code at all; an ASCII one no colour.
func TestNoColourProfiles(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	raw := hs.a.render()
	if !strings.Contains(raw, "\x1b[") {
		t.Fatal("the frame has no styling at all: the test checks nothing")
	}
	if s := hs.screen(); strings.ContainsRune(s, '\x1b') {
		t.Errorf("the NoTTY frame has escape codes: %q", s)
	}
}

func TestPicker(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	hs.a.cfg.Lab = ""
	hs.labs = nil
	hs.a.toPicker("")
	hs.run(hs.a.listLabs())
	s := hs.screen()
	golden(t, "picker_none_80x24", s)
	if !strings.Contains(s, "podlab deploy -t") {
		t.Errorf("no lab: the picker should say how to deploy one:\n%s", s)
	}
	hs.labs = []string{"basics", "other"}
	hs.a.Update(labsMsg{labs: hs.labs})
	hs.keys("<down>")
	golden(t, "picker_two_80x24", hs.screen())
	hs.keys("<enter>")
	if !hs.a.inLab || hs.a.lab != "other" || !hs.a.fromPicker {
		t.Fatalf("enter should open lab other, in lab %v %q", hs.a.inLab, hs.a.lab)
	}
	hs.keys("<esc>")
	if hs.a.inLab {
		t.Fatal("esc at the top of a lab opened from the picker should return to it")
	}
}

func TestFilter(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	hs.keys("/shop")
	if s := hs.screen(); strings.Contains(s, "web-1") || !strings.Contains(s, "api-5777c4c65c") {
		t.Errorf("filter /shop while typing:\n%s", s)
	}
	hs.keys("<enter>")
	if hs.a.mode != promptNone || hs.a.current().filter() != "shop" {
		t.Fatalf("enter keeps the filter: mode %v filter %q", hs.a.mode, hs.a.current().filter())
	}
	if s := hs.screen(); !strings.Contains(s, "filter /shop") {
		t.Errorf("the tabs line should show the filter:\n%s", s)
	}
	hs.keys("<esc>")
	if s := hs.screen(); !strings.Contains(s, "web-1") || hs.a.current().filter() != "" {
		t.Errorf("esc clears the filter:\n%s", s)
	}
	hs.keys("/zzz<enter>")
	if s := hs.screen(); !strings.Contains(s, "no pod matches /zzz") {
		t.Errorf("an empty result says so:\n%s", s)
	}
}

func TestCommandLine(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	for _, c := range []struct {
		cmd  string
		view int
	}{{"nodes", viewNodes}, {"topo", viewTopo}, {"ev", viewEvents}, {"deploy", viewDeploy}, {"ep", viewEp}, {"endpoints", viewEp}, {"po", viewPods}} {
		hs.keys(":" + c.cmd + "<enter>")
		if hs.a.cur != c.view {
			t.Errorf(":%s shows view %d, want %d", c.cmd, hs.a.cur, c.view)
		}
	}
	for _, c := range []string{"svc", "services"} {
		hs.keys(":" + c + "<enter>")
		if hs.a.cur != viewSvc {
			t.Errorf(":%s shows view %d, want %d", c, hs.a.cur, viewSvc)
		}
	}
	hs.keys(":po<enter>")
	hs.keys(":nope<enter>")
	if s := hs.screen(); !strings.Contains(s, "unknown command :nope") || !hs.a.bad {
		t.Errorf(":nope:\n%s", s)
	}
	hs.keys(":nod<backspace><esc>")
	if hs.a.mode != promptNone || hs.a.cur != viewPods {
		t.Errorf("esc cancels the command line")
	}
	if cmd := hs.keys(":q<enter>"); cmd == nil || cmd() != tea.Quit() {
		t.Errorf(":q should quit")
	}
}

func TestDeleteConfirm(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	// Rows are sorted: default/web-1, default/web-2, shop/api-...
	hs.keys("<down>d")
	if s := hs.screen(); !strings.Contains(s, "delete pod default/web-2? y/N") {
		t.Fatalf("d asks first:\n%s", s)
	}
	if cmd := hs.keys("n"); cmd != nil || len(hs.fake.CallLog()) != 0 {
		t.Fatalf("n must not delete: %v", hs.fake.CallLog())
	}
	hs.keys("d")
	hs.run(hs.keys("y"))
	if got := hs.fake.CallLog(); !slices.Equal(got, []string{"DeletePod default/web-2"}) {
		t.Fatalf("calls %v", got)
	}
	if s := hs.screen(); !strings.Contains(s, "deleted pod default/web-2") {
		t.Errorf("status after delete:\n%s", s)
	}
	// The supervisor's event removes the row at once, before the state is fetched again.
	hs.a.Update(eventsMsg{sess: hs.a.sess, evs: []events.Event{{Time: time.Now(), Type: events.PodDeleted, Kind: kindPod, Namespace: "default", Name: "web-2"}}})
	if l := lineWith(hs.screen(), "web-2"); l != "" && !strings.Contains(l, "deleted") {
		t.Errorf("web-2 still shown after PodDeleted:\n%s", hs.screen())
	}
	// d on a node is refused.
	hs.keys(":nodes<enter>d")
	if hs.a.mode == promptConfirm || !hs.a.bad {
		t.Errorf("d on a node should be refused")
	}
}

func TestLabelsEdit(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	hs.keys("e")
	if s := hs.screen(); !strings.Contains(s, "labels of pod default/web-1 (k=v,...): app=web") {
		t.Fatalf("e opens the labels prompt with the current labels:\n%s", s)
	}
	hs.keys("<ctrl+u>nonsense<enter>")
	if hs.a.mode != promptLabels || !strings.Contains(hs.screen(), `label "nonsense": expected key=value`) {
		t.Fatalf("a bad label keeps the prompt open with the error:\n%s", hs.screen())
	}
	if len(hs.fake.CallLog()) != 0 {
		t.Fatal("a bad label must not be sent")
	}
	hs.run(hs.keys("<ctrl+u>app=db, tier=back<enter>"))
	if got := hs.fake.CallLog(); !slices.Equal(got, []string{"SetLabels default/web-1 app=db,tier=back"}) {
		t.Fatalf("calls %v", got)
	}
	hs.run(hs.a.fetchState())
	if s := hs.screen(); !strings.Contains(s, "app=db,tier=back") {
		t.Errorf("new labels not shown:\n%s", s)
	}
}

func TestNavigation(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	hs.run(hs.keys("<enter>"))
	if hs.a.detail == nil || !strings.Contains(hs.screen(), "search default.svc.cluster.local") {
		t.Fatalf("enter shows the details:\n%s", hs.screen())
	}
	hs.keys("<esc>")
	if hs.a.detail != nil {
		t.Fatal("esc closes the details")
	}
	hs.keys("<enter>q")
	if hs.a.detail != nil {
		t.Fatal("q closes the details")
	}
	hs.keys("?")
	if !hs.a.help || !strings.Contains(hs.screen(), "this help") {
		t.Fatal("? shows the help")
	}
	hs.keys("<esc>")
	if hs.a.help {
		t.Fatal("esc closes the help")
	}
	hs.keys("<esc>") // top level, lab given with --name: stays
	if !hs.a.inLab {
		t.Fatal("esc at the top of a lab given by --name stays in it")
	}
	if cmd := hs.keys("q"); cmd == nil || cmd() != tea.Quit() {
		t.Fatal("q at the top level quits")
	}
}

func TestLabDestroyed(t *testing.T) {
	for _, from := range []string{"state", "stream"} {
		t.Run(from, func(t *testing.T) {
			hs := newHarness(t, 3, 80, 24)
			hs.labs = nil
			hs.fake.StateErr = fmt.Errorf("lab %q is not deployed", "basics")
			var cmd tea.Cmd
			if from == "state" {
				_, cmd = hs.a.Update(hs.a.fetchState()())
			} else {
				hs.fake.Close()
				for {
					msg := hs.a.waitEvents()()
					if end, ok := msg.(streamEndMsg); ok {
						_, cmd = hs.a.Update(end)
						break
					}
				}
			}
			gone := cmd()
			hs.a.Update(gone)
			hs.run(hs.a.listLabs())
			s := hs.screen()
			if hs.a.inLab || !strings.Contains(s, "lab basics was destroyed") || !strings.Contains(s, "No lab is deployed") {
				t.Fatalf("after the lab went away: in lab %v\n%s", hs.a.inLab, s)
			}
			golden(t, "destroyed_80x24", s)
		})
	}
}

// A source failing while the lab is still listed is reported and retried, not fatal.
func TestSourceErrorRetries(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	hs.fake.StateErr = fmt.Errorf("supervisor busy")
	_, cmd := hs.a.Update(hs.a.fetchState()())
	_, retry := hs.a.Update(cmd())
	if !hs.a.inLab || !strings.Contains(hs.screen(), "supervisor busy") || retry == nil {
		t.Fatalf("a failing state should show the error and retry:\n%s", hs.screen())
	}
}

func TestEventUpdatesScreen(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	e := events.Event{Time: time.Now(), Type: events.PodNotReady, Kind: kindPod, Namespace: "default", Name: "web-1", Message: "tcp 80: refused"}
	_, cmd := hs.a.Update(eventsMsg{sess: hs.a.sess, evs: []events.Event{e}})
	if cmd == nil || !hs.a.fetching {
		t.Fatalf("a state event should fetch the state: fetching %v", hs.a.fetching)
	}
	// At once: the header's count and the colour of READY, which says what the
	// supervisor's readiness is until the pod's object is listed again.
	pv := hs.a.views[viewPods].(*podsView)
	if s := hs.screen(); !strings.Contains(s, "pods 1/3 ready") || pv.style(0, pv.ready, "1/1") != stBad.Render("1/1") {
		t.Errorf("web-1 should show not ready at once:\n%s", s)
	}
	// A second event while a fetch is in flight only marks the state dirty.
	hs.a.Update(eventsMsg{sess: hs.a.sess, evs: []events.Event{e}})
	if !hs.a.dirty {
		t.Error("events during a fetch should coalesce into one more fetch")
	}
	// The fetch brings kubectl's columns along.
	st, _, _ := fixture(3)
	st.Pods[0].Ready = false
	objs, _ := svcFixture(t)
	hs.fake.SetObjects(append(objs, kubeFixture(t, st)...))
	hs.a.fetching = false
	hs.run(hs.a.fetchState())
	if l := lineWith(hs.screen(), "web-1"); !strings.Contains(l, "0/1") {
		t.Errorf("web-1 after the fetch: %q", l)
	}
	// Late messages of a closed session are dropped.
	old := hs.a.sess
	hs.a.closeLab()
	hs.a.Update(stateMsg{sess: old, err: fmt.Errorf("late")})
	if hs.a.status != "" {
		t.Error("a late message changed the screen")
	}
}

func lineWith(s, sub string) string {
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

func TestParseLabels(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		err  bool
	}{
		{"", "", false},
		{"a=b", "a=b", false},
		{" a=b , c=d ,", "a=b,c=d", false},
		{"app.kubernetes.io/name=x", "app.kubernetes.io/name=x", false},
		{"a=", "a=", false},
		{"a", "", true},
		{"=b", "", true},
		{"a=b,a=c", "", true},
		{"a b=c", "", true},
	} {
		got, err := parseLabels(c.in)
		if (err != nil) != c.err || (err == nil && labelString(got) != c.want) {
			t.Errorf("parseLabels(%q) = %v, %v", c.in, got, err)
		}
	}
}

func TestRates(t *testing.T) {
	_, _, cs := fixture(3)
	r := computeRates(cs[0], cs[1])
	// pod 2 (shop/api...) got 2048*2 more bytes received in 1 s.
	if got := r["pod/shop/api-5777c4c65c-xmf2d"]; got != 4096 {
		t.Errorf("rate %v", got)
	}
	if humanBytes(4096) != "4.0K" || humanBytes(999) != "999B" || humanBytes(5<<20) != "5.0M" {
		t.Errorf("humanBytes: %s %s %s", humanBytes(4096), humanBytes(999), humanBytes(5<<20))
	}
}

// The real path: the source's stream goroutine, batches, the model, the frame.
func TestLiveStream(t *testing.T) {
	hs := newHarness(t, 3, 80, 24)
	if err := hs.fake.DeletePod(t.Context(), "shop", "api-5777c4c65c-xmf2d"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		msg, ok := hs.a.waitEvents()().(eventsMsg)
		if !ok {
			t.Fatalf("stream ended: %#v", msg)
		}
		hs.a.Update(msg)
		if slices.ContainsFunc(msg.evs, func(e events.Event) bool { return e.Type == events.PodDeleted }) {
			break
		}
	}
	if s := hs.screen(); strings.Contains(s, "api-5777c4c65c") {
		t.Fatalf("the deleted pod is still shown:\n%s", s)
	}
	hs.keys(":ev<enter>G")
	if l := lineWith(hs.screen(), "PodDeleted"); !strings.Contains(l, "shop/api-5777c4c65c") {
		t.Errorf("the events view should show the deletion last:\n%s", hs.screen())
	}
}
