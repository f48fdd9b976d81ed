package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/dns"
	"podlab.dev/podlab/events"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func query(server string, i int) dns.Query {
	return dns.Query{Time: t0.Add(time.Duration(i) * time.Millisecond), Server: server, Client: "10.244.1.2:40000",
		Proto: "udp", ID: uint16(i), Name: fmt.Sprintf("q%d.default.svc.cluster.local.", i), Type: "A", Class: "IN", Rcode: "NOERROR"}
}

func ids(qs []dns.Query) []int {
	var out []int
	for _, q := range qs {
		out = append(out, int(q.ID))
	}
	return out
}

// The ring keeps the last queries of each server, oldest first; recent merges the
// servers newest first.
func TestQueryRing(t *testing.T) {
	l := newQueryLog(3, nil, nil)
	for i := range 5 {
		l.add(query("kube-system/coredns-a", i))
	}
	l.add(query("kube-system/coredns-b", 10))
	if got := ids(l.queries("kube-system/coredns-a")); !slices.Equal(got, []int{2, 3, 4}) {
		t.Errorf("coredns-a kept %v, want [2 3 4]", got)
	}
	if got := ids(l.queries("kube-system/coredns-b")); !slices.Equal(got, []int{10}) {
		t.Errorf("coredns-b kept %v, want [10]", got)
	}
	if got := ids(l.queries("nobody")); len(got) != 0 {
		t.Errorf("a server that answered nothing: %v", got)
	}
	if got := ids(l.recent(3)); !slices.Equal(got, []int{10, 4, 3}) {
		t.Errorf("recent(3) %v, want [10 4 3]", got)
	}
	l.served("ns1")(query("", 20))
	if got := ids(l.queries("ns1")); !slices.Equal(got, []int{20}) {
		t.Errorf("a host's queries are kept under its name: %v", got)
	}
}

// A follower gets what was kept and then each new query; one that falls behind
// misses queries, counted, and never blocks the server.
func TestQueryFollow(t *testing.T) {
	l := newQueryLog(10, nil, nil)
	l.add(query("s", 1))
	past, sub, stop := l.follow("s", 2)
	defer stop()
	for i := 2; i <= 5; i++ {
		l.add(query("s", i))
	}
	if got := ids(past); !slices.Equal(got, []int{1}) {
		t.Errorf("past %v, want [1]", got)
	}
	if a, b := <-sub.ch, <-sub.ch; a.ID != 2 || b.ID != 3 {
		t.Errorf("followed %d, %d; want 2, 3", a.ID, b.ID)
	}
	if n := sub.dropped.Load(); n != 2 {
		t.Errorf("dropped %d, want 2", n)
	}
	stop()
	l.add(query("s", 6))
	select {
	case q := <-sub.ch:
		t.Errorf("a stopped follower got %d", q.ID)
	default:
	}
}

// The limit lets per queries a second through and reports the rest once, after
// their second.
func TestEventLimit(t *testing.T) {
	var reports []string
	l := newEventLimit(2, func(n int, servers []string) {
		reports = append(reports, fmt.Sprintf("%d %s", n, strings.Join(servers, ",")))
	})
	var timers []func()
	var waits []time.Duration
	l.after = func(d time.Duration, f func()) { waits, timers = append(waits, d), append(timers, f) }
	now := time.Now().Truncate(time.Second).Add(time.Second) // a second still to come
	var allowed []bool
	for i, srv := range []string{"a", "a", "a", "b", "a"} {
		allowed = append(allowed, l.allow(now.Add(time.Duration(i)*time.Millisecond), srv))
	}
	if !slices.Equal(allowed, []bool{true, true, false, false, false}) {
		t.Errorf("allowed %v", allowed)
	}
	if len(timers) != 1 || waits[0] <= 0 || waits[0] > time.Second {
		t.Fatalf("%d reports due (after %v), want 1 at the end of this second", len(timers), waits)
	}
	timers[0]()
	if !slices.Equal(reports, []string{"3 a,b"}) {
		t.Errorf("reports %q, want [\"3 a,b\"]", reports)
	}
	if !l.allow(now.Add(time.Second), "a") {
		t.Error("the next second starts again")
	}
	timers[0]() // nothing hidden since: no report
	if len(reports) != 1 {
		t.Errorf("reports %q after an empty flush", reports)
	}
}

// A burst makes 20 events and one report, whatever its size.
func TestQueryEvents(t *testing.T) {
	var mu sync.Mutex
	var got []dns.Query
	done := make(chan struct{}, queryEventsPerS)
	var hidden int
	limit := newEventLimit(queryEventsPerS, func(n int, _ []string) { hidden = n })
	var flush func()
	limit.after = func(_ time.Duration, f func()) { flush = f }
	l := newQueryLog(100, limit, func(q dns.Query) {
		mu.Lock()
		got = append(got, q)
		mu.Unlock()
		done <- struct{}{}
	})
	now := time.Now()
	for i := range 1000 {
		q := query("kube-system/coredns-a", i)
		q.Time = now
		l.add(q)
	}
	for range queryEventsPerS {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("events not made")
		}
	}
	flush()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != queryEventsPerS || hidden != 1000-queryEventsPerS {
		t.Errorf("%d events and %d hidden, want %d and %d", len(got), hidden, queryEventsPerS, 1000-queryEventsPerS)
	}
}

func TestAddressBook(t *testing.T) {
	p := testPlan("x")
	pod := func(ns, name, ip string, hostNet bool) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: corev1.PodSpec{HostNetwork: hostNet}, Status: corev1.PodStatus{PodIP: ip}}
	}
	b := newAddressBook([]*corev1.Pod{
		pod("default", "web-1", "10.244.1.2", false),
		pod("kube-system", "proxy", "172.30.0.11", true), // the node's address: the node's
		pod("default", "pending", "", false),
	}, p)
	for client, want := range map[string]api.ObjectRef{
		"10.244.1.2:53124":   {Kind: "Pod", Namespace: "default", Name: "web-1"},
		"172.30.0.11:4000":   {Kind: "Node", Name: "w1"},
		"10.244.2.0:4000":    {Kind: "Node", Name: "w2"}, // its flannel.1 address
		"172.30.0.100:33000": {Kind: "Host", Name: "client"},
		"10.244.9.9:1":       {},
		"garbage":            {},
	} {
		if got := b.from(client); got != want {
			t.Errorf("%s: %+v, want %+v", client, got, want)
		}
	}
}

func TestQueryEventMessage(t *testing.T) {
	s := newSupervisor(t)
	q := query("kube-system/coredns-a", 1)
	q.Took = 212 * time.Microsecond
	q.Client = "172.30.0.100:5353"
	q.Answers = []string{"web.default.svc.cluster.local. 30 IN A 10.96.12.34"}
	e := s.queryEvent(q)
	want := events.Event{Time: q.Time, Type: events.DNSQuery, Kind: "Host", Name: "client",
		Message: "A q1.default.svc.cluster.local. NOERROR 0.21ms -> 10.96.12.34 (coredns-a)"}
	if e != want {
		t.Errorf("event\n%+v, want\n%+v", e, want)
	}
	q.Client, q.Rcode, q.Answers = "10.9.9.9:1", "NXDOMAIN", nil
	q.Server = "ns1"
	if e := s.queryEvent(q); e.Kind != "" || e.Name != "10.9.9.9" || e.Message != "A q1.default.svc.cluster.local. NXDOMAIN 0.21ms (ns1)" {
		t.Errorf("unknown client: %+v", e)
	}
	q.Rcode, q.Type = "NOERROR", "AAAA"
	if e := s.queryEvent(q); e.Message != "AAAA q1.default.svc.cluster.local. NOERROR 0.21ms, no AAAA records (ns1)" {
		t.Errorf("NODATA: %q", e.Message)
	}
	if moreQueries(1) != "1 more query" || moreQueries(2) != "2 more queries" {
		t.Errorf("moreQueries: %q, %q", moreQueries(1), moreQueries(2))
	}
	rec := api.QueryRecord{Type: "A", Answers: []string{"x. 5 IN CNAME web.example.", "web.example. 5 IN A 192.0.2.1"}}
	if got := rec.AnswerData(); got != "CNAME web.example., 192.0.2.1" {
		t.Errorf("AnswerData %q", got)
	}
}

// `podlab logs` of a CoreDNS pod: its startup lines, then a log-plugin line per query,
// cut by since and tail; other pods keep no logs; unknown pods and hosts are not found.
func TestAPILogs(t *testing.T) {
	s := newSupervisor(t)
	s.queries = newQueryLog(queriesKept, nil, nil)
	start := metav1.NewTime(t0.Add(-time.Minute))
	coredns := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "coredns-a", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "coredns", Image: CoreDNSImage}},
			Volumes: []corev1.Volume{{Name: "config-volume", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: "coredns"}}}}}},
		Status: corev1.PodStatus{StartTime: &start}}
	if _, err := s.store.Create(coredns); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		s.queries.add(query("kube-system/coredns-a", i))
	}
	serve(t, s)
	c := api.NewClient(s.dir)
	read := func(host, ns, name string, q api.LogQuery) ([]api.LogLine, error) {
		var out []api.LogLine
		err := c.Logs(context.Background(), host, ns, name, q, func(l api.LogLine) error { out = append(out, l); return nil })
		return out, err
	}
	lines, err := read("", "kube-system", "coredns-a", api.LogQuery{Tail: -1})
	if err != nil || len(lines) != 7 {
		t.Fatalf("%d lines, %v; want 4 startup lines and 3 queries", len(lines), err)
	}
	for i, prefix := range []string{".:53", "[INFO] plugin/reload: Running configuration SHA512 = ", "CoreDNS-1.11.3", "linux/"} {
		if !strings.HasPrefix(lines[i].Line, prefix) || !lines[i].Time.Equal(start.Time) {
			t.Errorf("line %d: %q at %v, want %q... at the pod's start", i, lines[i].Line, lines[i].Time, prefix)
		}
	}
	if l := lines[4]; l.Line != query("kube-system/coredns-a", 0).String() || l.Query == nil || l.Query.Name != "q0.default.svc.cluster.local." {
		t.Errorf("query line %+v", l)
	}
	if lines, _ := read("", "kube-system", "coredns-a", api.LogQuery{Tail: 2}); len(lines) != 2 || lines[1].Query.ID != 2 {
		t.Errorf("--tail 2: %+v", lines)
	}
	if lines, _ := read("", "kube-system", "coredns-a", api.LogQuery{Tail: -1, Since: t0.Add(time.Millisecond)}); len(lines) != 2 {
		t.Errorf("--since: %d lines, want the 2 last queries", len(lines))
	}
	if lines, err := read("", "default", "web-1", api.LogQuery{Tail: -1}); err != nil || len(lines) != 1 || lines[0].Note == "" {
		t.Errorf("a pod with no running container: %+v %v", lines, err)
	}
	for _, who := range [][3]string{{"", "default", "nosuch"}, {"nosuch", "", ""}} {
		if _, err := read(who[0], who[1], who[2], api.LogQuery{Tail: -1}); !errors.Is(err, api.ErrNotFound) {
			t.Errorf("%v: %v, want not found", who, err)
		}
	}
	if lines, err := read("client", "", "", api.LogQuery{Tail: -1}); err != nil || len(lines) != 1 || lines[0].Note == "" {
		t.Errorf("a host without zones: %+v %v", lines, err)
	}
	qs, err := c.DNSQueries(context.Background(), 2)
	if err != nil || len(qs) != 2 || qs[0].ID != 2 || qs[0].Server != "kube-system/coredns-a" {
		t.Errorf("DNSQueries: %+v %v", qs, err)
	}
}

// Following a log streams the queries answered after it started.
func TestAPILogsFollow(t *testing.T) {
	s := newSupervisor(t)
	s.queries = newQueryLog(queriesKept, nil, nil)
	if _, err := s.store.Create(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "coredns-a", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "coredns", Image: CoreDNSImage}}}}); err != nil {
		t.Fatal(err)
	}
	serve(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan api.LogLine, 16)
	go api.NewClient(s.dir).Logs(ctx, "", "kube-system", "coredns-a", api.LogQuery{Follow: true, Tail: 0}, func(l api.LogLine) error {
		got <- l
		return nil
	})
	// The follower subscribes when its request arrives: add until it sees one.
	for i := 0; ; i++ {
		s.queries.add(query("kube-system/coredns-a", i))
		select {
		case l := <-got:
			if l.Query == nil || !strings.Contains(l.Line, "A IN q") {
				t.Errorf("followed %+v", l)
			}
			return
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			t.Fatal("nothing followed")
		}
	}
}

// add is on the DNS hot path: it must not allocate once a server's ring is full.
func TestQueryLogAddAllocs(t *testing.T) {
	l := newQueryLog(16, newEventLimit(queryEventsPerS, func(int, []string) {}), func(dns.Query) {})
	l.limit.after = func(time.Duration, func()) {}
	q := query("kube-system/coredns-a", 1)
	q.Time = time.Now()
	for range 100 {
		l.add(q)
	}
	if n := testing.AllocsPerRun(1000, func() { l.add(q) }); n != 0 {
		t.Errorf("add allocates %v times a query", n)
	}
}

func BenchmarkQueryLogAdd(b *testing.B) {
	l := newQueryLog(queriesKept, newEventLimit(queryEventsPerS, func(int, []string) {}), func(dns.Query) {})
	b.RunParallel(func(pb *testing.PB) {
		q := query("kube-system/coredns-a", 1)
		for pb.Next() {
			q.Time = time.Now()
			l.add(q)
		}
	})
}

// rw is a ResponseWriter that drops the reply, for timing the handler alone.
type rw struct{}

// Made once, as a server's writer has them.
var (
	rwLocal  = &net.UDPAddr{IP: net.IPv4(10, 96, 0, 10), Port: 53}
	rwRemote = &net.UDPAddr{IP: net.IPv4(10, 244, 1, 2), Port: 40000}
)

func (rw) LocalAddr() net.Addr         { return rwLocal }
func (rw) RemoteAddr() net.Addr        { return rwRemote }
func (rw) WriteMsg(*mdns.Msg) error    { return nil }
func (rw) Write(b []byte) (int, error) { return len(b), nil }
func (rw) Close() error                { return nil }
func (rw) TsigStatus() error           { return nil }
func (rw) TsigTimersOnly(bool)         {}
func (rw) Hijack()                     {}

// BenchmarkServeDNSLog is the cluster DNS answering a Service's A record without a
// query log and with the lab's: the difference is what the log costs a query.
func BenchmarkServeDNSLog(b *testing.B) {
	s := newSupervisor(&testing.T{})
	srv := dns.NewServer("cluster.local", dnsTTL)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx, s.store)
	req := new(mdns.Msg)
	req.SetQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA)
	for srv.Zone().Answer(req) == nil || len(srv.Zone().Answer(req).Answer) == 0 {
		time.Sleep(time.Millisecond)
	}
	for _, log := range []bool{false, true} {
		b.Run(fmt.Sprintf("log=%v", log), func(b *testing.B) {
			srv.Log = nil
			if log {
				l := newQueryLog(queriesKept, newEventLimit(queryEventsPerS, func(int, []string) {}), func(dns.Query) {})
				srv.Log = l.add
			}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					srv.ServeDNS(rw{}, req)
				}
			})
		})
	}
}
