package cluster

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/netpol"
	"podlab.dev/podlab/cluster/netpol/nflog"
	"podlab.dev/podlab/events"
)

func logTestCluster() netpol.Cluster {
	pod := func(ns, name, ip string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"pod": name}},
			Status: corev1.PodStatus{PodIP: ip}}
	}
	ns := func(name string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/metadata.name": name}}}
	}
	long := strings.Repeat("l", 63)
	return netpol.Cluster{
		Pods:       []*corev1.Pod{pod("x", "a", "10.244.1.2"), pod("y", "b", "10.244.2.3"), pod(long, long, "10.244.1.9")},
		Namespaces: []*corev1.Namespace{ns("x"), ns("y"), ns(long)},
		Policies: []*networkingv1.NetworkPolicy{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: "deny"}, Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress"}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "x", Name: "web"}, Spec: networkingv1.NetworkPolicySpec{
				Ingress: []networkingv1.NetworkPolicyIngressRule{{}, {}}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: long, Name: "deny"}, Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress"}}},
		},
	}
}

func logRecord(verdict, key, src, dst string) nflog.Record {
	prefix := "podlab-netpol " + verdict + " " + netpol.LogID(verdict, key) + " " + key + " "
	if len(prefix) > 127 {
		prefix = prefix[:127]
	}
	return nflog.Record{Time: time.Unix(1700000000, 0), Prefix: prefix, Protocol: "TCP",
		Src: netip.MustParseAddrPort(src), Dst: netip.MustParseAddrPort(dst)}
}

// TestVerdictLogEntries: records become entries naming pod, policies or rule and both
// ends; a prefix cut at 127 bytes is named by its id; foreign prefixes are skipped.
func TestVerdictLogEntries(t *testing.T) {
	var mu sync.Mutex
	var evs []events.Event
	l := newVerdictLog(logTestCluster, func(e events.Event) { mu.Lock(); evs = append(evs, e); mu.Unlock() })
	long := strings.Repeat("l", 63)
	l.add("worker-1", []nflog.Record{
		logRecord("drop", "ingress/x/a", "10.244.2.3:40000", "10.244.1.2:80"),
		logRecord("allow", "ingress/x/web/1", "10.244.2.3:40001", "10.244.1.2:81"),
		{Prefix: "something else"},
		logRecord("drop", "ingress/"+long+"/"+long, "192.168.0.1:5", "10.244.1.9:80"),
	})
	got := l.since(0)
	if len(got.Entries) != 3 || got.Next != 3 {
		t.Fatalf("since(0) = %+v", got)
	}
	want := []string{
		"drop ingress x/a: TCP 10.244.2.3:40000 (y/b) -> 10.244.1.2:80 (x/a), default deny of x/deny, x/web",
		"allow ingress x/a: TCP 10.244.2.3:40001 (y/b) -> 10.244.1.2:81 (x/a), rule 1 of x/web",
		"drop ingress " + long + "/" + long + ": TCP 192.168.0.1:5 -> 10.244.1.9:80 (" + long + "/" + long + "), default deny of " + long + "/deny",
	}
	for i, e := range got.Entries {
		if e.Message != want[i] || e.Seq != uint64(i) || e.Node != "worker-1" || e.Direction != "ingress" {
			t.Errorf("entry %d = %+v\nwant message %s", i, e, want[i])
		}
	}
	if e := got.Entries[1]; e.Policy != "x/web" || e.Rule == nil || *e.Rule != 1 || e.Pod != "x/a" || e.Src != "10.244.2.3:40001" {
		t.Errorf("allow entry = %+v", e)
	}
	if e := got.Entries[0]; e.Pod != "x/a" || e.Protocol != "TCP" || e.SrcPod != "y/b" || e.Dst != "10.244.1.2:80" {
		t.Errorf("drop entry = %+v", e)
	}
	mu.Lock()
	if len(evs) != 2 || evs[0].Type != events.PolicyDrop || evs[0].Namespace != "x" || evs[0].Name != "a" || evs[0].Message != want[0] {
		t.Errorf("events = %+v, want the 2 drops", evs)
	}
	mu.Unlock()
	if got := l.since(2); len(got.Entries) != 1 || got.Next != 3 {
		t.Errorf("since(2) = %+v", got)
	}
	if got := l.since(9); len(got.Entries) != 0 || got.Next != 9 {
		t.Errorf("since(9) = %+v", got)
	}
	var none *verdictLog
	if got := none.since(4); got.Next != 4 {
		t.Errorf("nil log: %+v", got)
	}
}

// TestVerdictLogRingAndLimit: the ring keeps the last verdictRingSize entries; at
// most verdictEventsPS drops a second become events.
func TestVerdictLogRingAndLimit(t *testing.T) {
	var mu sync.Mutex
	n := 0
	l := newVerdictLog(logTestCluster, func(e events.Event) { mu.Lock(); n++; mu.Unlock() })
	l.limit.after = func(time.Duration, func()) {} // no report in the test
	recs := make([]nflog.Record, verdictRingSize+5)
	for i := range recs {
		recs[i] = logRecord("drop", "ingress/x/a", "10.244.2.3:40000", "10.244.1.2:80")
	}
	l.add("w", recs)
	got := l.since(0)
	if len(got.Entries) != verdictRingSize || got.Entries[0].Seq != 5 || got.Next != verdictRingSize+5 {
		t.Errorf("ring: %d entries from %d, next %d", len(got.Entries), got.Entries[0].Seq, got.Next)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != verdictEventsPS {
		t.Errorf("%d events in one second, want %d", n, verdictEventsPS)
	}
}

// TestVerdictLogNewPolicy: a drop by a policy applied after the log's view was built
// names that policy (the view is rebuilt), not "a policy since removed".
func TestVerdictLogNewPolicy(t *testing.T) {
	var mu sync.Mutex
	with := false
	model := func() netpol.Cluster {
		mu.Lock()
		defer mu.Unlock()
		c := logTestCluster()
		if with {
			c.Policies = append(c.Policies, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: "y", Name: "egress-dns"},
				Spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Egress"}}})
		}
		return c
	}
	l := newVerdictLog(model, func(events.Event) {})
	l.add("worker-2", []nflog.Record{logRecord("drop", "ingress/x/a", "10.244.2.3:40000", "10.244.1.2:80")})
	time.Sleep(150 * time.Millisecond)
	mu.Lock()
	with = true
	mu.Unlock()
	l.add("worker-2", []nflog.Record{logRecord("drop", "egress/y/b", "10.244.2.3:40001", "10.244.1.2:80")})
	es := l.since(0).Entries
	if got := es[len(es)-1].Message; !strings.Contains(got, "default deny of y/egress-dns") {
		t.Errorf("the new policy's drop: %q", got)
	}
}
