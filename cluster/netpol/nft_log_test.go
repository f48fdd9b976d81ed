package netpol

import (
	"context"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/knftables"

	"podlab.dev/podlab/cluster/netpol/nflog"
	"podlab.dev/podlab/network"
	"podlab.dev/podlab/runtime/netns"
)

var prefixRE = regexp.MustCompile(`log prefix "([^"]*)"`)

// TestLogPrefixes: drops and (with LogAllows) allows are logged, each with its
// counter's name as the prefix; a prefix cut at 127 bytes keeps the id of the whole key.
func TestLogPrefixes(t *testing.T) {
	long := strings.Repeat("n", 63)
	rules := allowAToB80()
	rules[1].Namespace, rules[1].Name = long, long // x/b -> nnn.../nnn..., policy x/allow-a stays
	fake, _ := newFakeEnforcer(t, Options{LogDrops: true, LogAllows: true, LogGroup: 9, LogRate: "5/second"}, rules)
	fake2, _ := newFakeEnforcer(t, Options{LogDrops: true, LogAllows: true}, allowAToB80())

	drop := nftTrace(t, fake2, tcpPkt(ipC, ipB, 80))
	allow := nftTrace(t, fake2, tcpPkt(ipA, ipB, 80))
	if drop.verdict != "drop" || !drop.logged || allow.verdict != "accept" || !allow.logged || len(allow.counters) != 1 {
		t.Errorf("drop %+v, allow %+v: want both logged, allow counted once", drop, allow)
	}
	dump := fake2.Dump()
	got := prefixRE.FindAllStringSubmatch(dump, -1)
	if len(got) != 2 {
		t.Fatalf("want 2 log rules:\n%s", dump)
	}
	want := []LogPrefix{{"allow", LogID("allow", "ingress/x/allow-a/0"), "ingress/x/allow-a/0"}, {"drop", LogID("drop", "ingress/x/b"), "ingress/x/b"}}
	for i, m := range got {
		p, ok := ParseLogPrefix(m[1])
		if !ok || p != want[i] || !p.Complete() {
			t.Errorf("prefix %q = %+v, %v; want %+v", m[1], p, ok, want[i])
		}
		// The id is the counter's: nft list shows which counter a log line belongs to.
		if !strings.Contains(dump, "counter name "+p.Verdict+"-"+p.ID+"-"+p.Key+" ") {
			t.Errorf("no counter %s-%s-%s", p.Verdict, p.ID, p.Key)
		}
	}
	if !strings.Contains(dump, `meta l4proto tcp th dport 80 limit rate 10/second log prefix "podlab-netpol allow `) {
		t.Errorf("the allow log rule must carry the rule's matches:\n%s", dump)
	}

	// A long pod key: cut to 127 bytes, not Complete, the id still the whole key's.
	long2 := prefixRE.FindAllStringSubmatch(fake.Dump(), -1)
	if !strings.Contains(fake.Dump(), "limit rate 5/second log prefix") || !strings.Contains(fake.Dump(), " group 9") {
		t.Errorf("LogRate, LogGroup not used:\n%s", fake.Dump())
	}
	var cut bool
	for _, m := range long2 {
		if p, ok := ParseLogPrefix(m[1]); ok && p.Verdict == "drop" {
			cut = true
			if len(m[1]) != 127 || p.Complete() || p.ID != LogID("drop", "ingress/"+long+"/"+long) {
				t.Errorf("long prefix %q (%d bytes) = %+v", m[1], len(m[1]), p)
			}
		}
	}
	if !cut {
		t.Errorf("no drop prefix in %v", long2)
	}
	for _, bad := range []string{"", "podlab-netpol", "podlab-netpol pass X k", "other drop X k", "podlab-netpol drop X"} {
		if p, ok := ParseLogPrefix(bad); ok {
			t.Errorf("ParseLogPrefix(%q) = %+v, want false", bad, p)
		}
	}
}

// TestKernelLog: LogDrops and LogAllows on a real node; an nflog reader in the node
// sees a's packet to b dropped (deny-all) and, after an allow, allowed, each with the
// prefix naming the pod or the rule, and the 5-tuple.
func TestKernelLog(t *testing.T) {
	const group = 11
	l, e := newKernelEnforcer(t, Options{Node: "test", LogDrops: true, LogAllows: true, LogGroup: group})
	r, err := nflog.Open(netns.Path(l.node), group)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	recs := make(chan nflog.Record, 64)
	go func() {
		for {
			rs, err := r.Read()
			if err != nil {
				close(recs)
				return
			}
			for _, x := range rs {
				recs <- x
			}
		}
	}()
	a := PodRules{Namespace: "x", Name: "a", IP: netip.MustParseAddr("10.244.1.2")}
	b := PodRules{Namespace: "x", Name: "b", IP: netip.MustParseAddr("10.244.1.3"), IngressIsolated: true}
	if err := e.Sync(context.Background(), []PodRules{a, b}); err != nil {
		t.Fatal(err)
	}
	next := func(verdict, key string) {
		t.Helper()
		select {
		case rec, ok := <-recs:
			if !ok {
				t.Fatal("reader ended")
			}
			p, ok := ParseLogPrefix(rec.Prefix)
			if !ok || p.Verdict != verdict || p.Key != key || !p.Complete() ||
				rec.Protocol != "TCP" || rec.Src.Addr() != a.IP || rec.Dst != netip.AddrPortFrom(b.IP, 8080) {
				t.Errorf("record %q %s: want %s %s, TCP 10.244.1.2:* -> 10.244.1.3:8080", rec.Prefix, rec.Tuple(), verdict, key)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("no %s record", verdict)
		}
	}
	if reachable(t, l, "tcp4", "10.244.1.3:8080") {
		t.Fatal("deny-all: reachable")
	}
	next("drop", "ingress/x/b")
	b.Ingress = []Rule{{Policy: "x/web", Index: 1, Ports: []Port{{Protocol: "TCP", Port: 8080}}}}
	if err := e.Sync(context.Background(), []PodRules{a, b}); err != nil {
		t.Fatal(err)
	}
	for len(recs) > 0 { // SYN retransmissions of the blocked dial
		<-recs
	}
	if !reachable(t, l, "tcp4", "10.244.1.3:8080") {
		t.Fatal("allow: blocked")
	}
	next("allow", "ingress/x/web/"+strconv.Itoa(1))
}

// newKernelEnforcer is a kernel lab with echo servers in b and an Enforcer of its node.
func newKernelEnforcer(t *testing.T, opt Options) (*kernelLab, *Enforcer) {
	t.Helper()
	l := newKernelLab(t)
	serveEcho(t, l)
	nft, err := network.NFT(netns.Path(l.node), knftables.IPv4Family, TableName)
	if err != nil {
		t.Fatal(err)
	}
	e := New(nft, opt)
	e.AssumeNew()
	return l, e
}
