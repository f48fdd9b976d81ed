package netpol

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

var updateNFT = flag.Bool("update-nft", false, "rewrite the golden rulesets in testdata/nft/")

// The node under test runs pods a and b; c runs on another node; out is a host outside.
const (
	ipA, ipB, ipC, ipOut = "10.244.1.2", "10.244.1.3", "10.244.2.2", "192.168.1.10"
)

func nftPod(name, ip string) PodRules {
	return PodRules{Namespace: "x", Name: name, Node: "node-1", IP: netip.MustParseAddr(ip), Iface: "veth" + name}
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func newFakeEnforcer(t *testing.T, opt Options, rules []PodRules) (*knftables.Fake, *Enforcer) {
	t.Helper()
	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	e := New(fake, opt)
	e.AssumeNew()
	if err := e.Sync(context.Background(), rules); err != nil {
		t.Fatal(err)
	}
	return fake, e
}

type nftFlow struct {
	p    nftPacket
	want string
}

func tcpPkt(src, dst string, port int) nftPacket {
	return nftPacket{src: src, dst: dst, proto: "tcp", dport: port}
}

var (
	denyB = func() []PodRules {
		b := nftPod("b", ipB)
		b.IngressIsolated = true
		return []PodRules{nftPod("a", ipA), b}
	}
	allowAToB80 = func() []PodRules {
		r := denyB()
		r[1].Ingress = []Rule{{Policy: "x/allow-a", Peers: []Peer{{IPs: addrs(ipA)}}, Ports: []Port{{Protocol: "TCP", Port: 80}}}}
		return r
	}
)

func TestScenarios(t *testing.T) {
	for _, sc := range []struct {
		name  string
		opt   Options
		rules []PodRules
		flows []nftFlow
	}{
		{"deny-all-ingress", Options{}, denyB(), []nftFlow{
			{tcpPkt(ipA, ipB, 80), "drop"},
			{tcpPkt(ipC, ipB, 80), "drop"},
			{tcpPkt(ipOut, ipB, 80), "drop"},
			{tcpPkt(ipB, ipA, 80), "accept"},    // b is not isolated for egress
			{tcpPkt(ipB, ipOut, 443), "accept"}, // nor is anything else
			{tcpPkt(ipB, ipB, 80), "accept"},    // itself, through its Service
			{nftPacket{src: ipA, dst: ipB, proto: "tcp", dport: 80, established: true}, "accept"},
		}},
		{"allow-pod-port", Options{}, allowAToB80(), []nftFlow{
			{tcpPkt(ipA, ipB, 80), "accept"},
			{tcpPkt(ipA, ipB, 81), "drop"},
			{nftPacket{src: ipA, dst: ipB, proto: "udp", dport: 80}, "drop"},
			{tcpPkt(ipC, ipB, 80), "drop"},
		}},
		{"ports-ranges-protocols", Options{}, func() []PodRules {
			r := denyB()
			r[1].Ingress = []Rule{{Policy: "x/ports", Ports: []Port{
				{Protocol: "SCTP", Port: 8000, EndPort: 8100}, {Protocol: "UDP", Port: 53}, {Protocol: "TCP"}}}}
			return r
		}(), []nftFlow{
			{nftPacket{src: ipC, dst: ipB, proto: "sctp", dport: 8100}, "accept"},
			{nftPacket{src: ipC, dst: ipB, proto: "sctp", dport: 8101}, "drop"},
			{nftPacket{src: ipC, dst: ipB, proto: "udp", dport: 53}, "accept"},
			{nftPacket{src: ipC, dst: ipB, proto: "udp", dport: 54}, "drop"},
			{tcpPkt(ipOut, ipB, 22), "accept"},
		}},
		{"egress-ipblock-except", Options{}, func() []PodRules {
			a := nftPod("a", ipA)
			a.EgressIsolated = true
			a.Egress = []Rule{{Policy: "x/egress", Index: 1, Peers: []Peer{
				{CIDR: netip.MustParsePrefix("10.0.0.0/8"), Except: []netip.Prefix{netip.MustParsePrefix("10.244.2.0/24")}},
				{IPs: addrs(ipC)}, // a pod peer inside the except: the union allows it
				{CIDR: netip.MustParsePrefix("192.168.1.0/24"), Except: []netip.Prefix{netip.MustParsePrefix("192.168.1.8/30")}},
			}}}
			return []PodRules{a, nftPod("b", ipB)}
		}(), []nftFlow{
			{tcpPkt(ipA, ipB, 80), "accept"},
			{tcpPkt(ipA, ipC, 80), "accept"},
			{tcpPkt(ipA, "10.244.2.3", 80), "drop"},
			{tcpPkt(ipA, ipOut, 80), "drop"},
			{tcpPkt(ipA, "192.168.1.12", 80), "accept"},
			{tcpPkt(ipA, ipA, 80), "accept"},
			{tcpPkt(ipB, ipA, 80), "accept"}, // a is not isolated for ingress
		}},
		{"both-directions-union", Options{}, func() []PodRules {
			a, b := nftPod("a", ipA), nftPod("b", ipB)
			a.EgressIsolated = true
			a.Egress = []Rule{{Policy: "x/to-b", Peers: []Peer{{IPs: addrs(ipB)}}}}
			b.IngressIsolated = true
			b.Ingress = []Rule{
				{Policy: "x/web", Peers: []Peer{{IPs: addrs(ipA)}}, Ports: []Port{{Protocol: "TCP", Port: 80}}},
				{Policy: "x/metrics", Index: 2, Ports: []Port{{Protocol: "TCP", Port: 9090}}},
			}
			return []PodRules{a, b}
		}(), []nftFlow{
			{tcpPkt(ipA, ipB, 80), "accept"},
			{tcpPkt(ipA, ipB, 9090), "accept"},
			{tcpPkt(ipA, ipB, 81), "drop"},     // egress allows, ingress does not
			{tcpPkt(ipA, ipC, 9090), "drop"},   // egress does not
			{tcpPkt(ipC, ipB, 9090), "accept"}, // any peer
		}},
		{"enforce-established-log", Options{EnforceEstablished: true, LogDrops: true, LogGroup: 7}, allowAToB80(), []nftFlow{
			{nftPacket{src: ipC, dst: ipB, proto: "tcp", dport: 80, established: true}, "drop"},
			{nftPacket{src: ipA, dst: ipB, proto: "tcp", dport: 80, established: true}, "accept"},
			{nftPacket{src: ipB, dst: ipC, proto: "tcp", dport: 40000, reply: true}, "accept"},
		}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			fake, _ := newFakeEnforcer(t, sc.opt, sc.rules)
			for _, f := range sc.flows {
				if got := nftTrace(t, fake, f.p); got.verdict != f.want {
					t.Errorf("%+v: %s, want %s (counters %v)", f.p, got.verdict, f.want, got.counters)
				}
			}
			nftGolden(t, filepath.Join("testdata", "nft", sc.name+".nft"), fake.Dump())
		})
	}
}

func nftGolden(t *testing.T, path, got string) {
	t.Helper()
	want, err := os.ReadFile(path)
	switch {
	case *updateNFT:
		err = errors.Join(os.MkdirAll(filepath.Dir(path), 0o755), os.WriteFile(path, []byte(got), 0o644))
		if err != nil {
			t.Fatal(err)
		}
	case err != nil:
		t.Fatalf("%v (run go test -run %s -update-nft)", err, t.Name())
	case string(want) != got:
		t.Errorf("%s differs (run go test -update-nft to accept):\n%s", path, got)
	}
}

// TestCountersNamePodAndRule: a drop moves the pod's counter, an allow its rule's.
func TestCountersNamePodAndRule(t *testing.T) {
	fake, e := newFakeEnforcer(t, Options{LogDrops: true}, allowAToB80())
	drop := nftTrace(t, fake, tcpPkt(ipC, ipB, 80))
	if len(drop.counters) != 1 || !strings.HasPrefix(drop.counters[0], "drop-") || !strings.HasSuffix(drop.counters[0], "ingress/x/b") || !drop.logged {
		t.Errorf("drop moved %v, logged %v", drop.counters, drop.logged)
	}
	allow := nftTrace(t, fake, tcpPkt(ipA, ipB, 80))
	if len(allow.counters) != 1 || !strings.HasSuffix(allow.counters[0], "ingress/x/allow-a/0") || allow.logged {
		t.Errorf("allow moved %v, logged %v", allow.counters, allow.logged)
	}
	got, err := e.Counters(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"drop/ingress/x/b", "allow/ingress/x/allow-a/0"} {
		if _, ok := got[k]; !ok {
			t.Errorf("Counters lacks %q: %v", k, got)
		}
	}
}

// TestIncremental: a later sync writes only what changed, element by element.
func TestIncremental(t *testing.T) {
	ctx := context.Background()
	rules := bigNodeRules(200, 200)
	fake, e := newFakeEnforcer(t, Options{}, rules)

	ops := func(change func([]PodRules) []PodRules) (int, string) {
		t.Helper()
		rules = change(rules)
		if err := e.Sync(ctx, rules); err != nil {
			t.Fatal(err)
		}
		fake.Lock()
		defer fake.Unlock()
		tx := fake.LastTransaction
		fake.LastTransaction = nil
		if tx == nil {
			return 0, ""
		}
		return tx.NumOperations(), tx.String()
	}
	// A peer pod relabelled into a selector: one element in the shared set, whatever
	// the number of pods the policy selects.
	n, tx := ops(func(r []PodRules) []PodRules {
		for i := range r {
			if r[i].Ingress[0].Policy == "ns-3/pol" {
				r[i].Ingress[0].Peers = []Peer{{IPs: append(addrs("10.99.0.1"), r[i].Ingress[0].Peers[0].IPs...)}}
			}
		}
		return r
	})
	if n != 1 || !strings.Contains(tx, "add element ip podlab-netpol peers-") {
		t.Errorf("relabelled peer: %d operations, want 1:\n%s", n, tx)
	}
	if n, tx := ops(func(r []PodRules) []PodRules { return r }); n != 0 {
		t.Errorf("no change: %d operations:\n%s", n, tx)
	}
	// One pod no longer isolated: its chain, counter and map element go (and, as it
	// was the only pod of its policy, the policy's set and counter).
	n, tx = ops(func(r []PodRules) []PodRules { r[0].IngressIsolated = false; return r })
	if n > 6 || !strings.Contains(tx, "delete element ip podlab-netpol ingress-pods") {
		t.Errorf("pod no longer isolated: %d operations:\n%s", n, tx)
	}
	// Everything gone: the table holds only its fixed part.
	ops(func([]PodRules) []PodRules { return nil })
	if c, s := len(fake.Table.Chains), len(fake.Table.Sets); c != 1 || s != 0 || len(fake.Table.Counters) != 0 {
		t.Errorf("after the last pod: %d chains, %d sets, %d counters:\n%s", c, s, len(fake.Table.Counters), fake.Dump())
	}
	// And back, from a table emptied by the previous sync.
	ops(func([]PodRules) []PodRules { return bigNodeRules(200, 200) })
	if len(fake.Table.Chains) != 201 {
		t.Errorf("resync: %d chains", len(fake.Table.Chains))
	}
}

// TestEnforceEstablishedSwitch: switching the mode rewrites the forward chain only.
func TestEnforceEstablishedSwitch(t *testing.T) {
	fake, e := newFakeEnforcer(t, Options{}, allowAToB80())
	est := nftPacket{src: ipC, dst: ipB, proto: "tcp", dport: 80, established: true}
	if v := nftTrace(t, fake, est).verdict; v != "accept" {
		t.Fatalf("established nftFlow %s by default", v)
	}
	e.SetEnforceEstablished(true)
	if err := e.Sync(context.Background(), allowAToB80()); err != nil {
		t.Fatal(err)
	}
	if v := nftTrace(t, fake, est).verdict; v != "drop" {
		t.Errorf("established nftFlow %s with EnforceEstablished", v)
	}
}

// TestFullSyncReplacesTable: without AssumeNew the first sync replaces what is there.
func TestFullSyncReplacesTable(t *testing.T) {
	fake := knftables.NewFake(knftables.IPv4Family, TableName)
	tx := fake.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Add(&knftables.Chain{Name: "leftover"})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	if err := New(fake, Options{}).Sync(context.Background(), denyB()); err != nil {
		t.Fatal(err)
	}
	if fake.Table.Chains["leftover"] != nil {
		t.Errorf("old chain survived the first sync:\n%s", fake.Dump())
	}
}

func TestPeerElements(t *testing.T) {
	for _, tc := range []struct {
		peers []Peer
		want  string
	}{
		{[]Peer{{IPs: addrs("10.0.0.2", "10.0.0.1", "10.0.0.2")}}, "10.0.0.1 10.0.0.2"},
		{[]Peer{{CIDR: netip.MustParsePrefix("10.0.0.0/24"), Except: []netip.Prefix{netip.MustParsePrefix("10.0.0.128/25")}}}, "10.0.0.0/25"},
		{[]Peer{{CIDR: netip.MustParsePrefix("10.0.0.0/24"), Except: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}}}, "10.0.0.0 10.0.0.2-10.0.0.255"},
		{[]Peer{{CIDR: netip.MustParsePrefix("0.0.0.0/0")}, {IPs: addrs("1.2.3.4")}}, "0.0.0.0/0"},
		{[]Peer{{CIDR: netip.MustParsePrefix("fd00::/8")}}, ""},
	} {
		got, err := peerElements(tc.peers)
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%+v: %v %v, want %s", tc.peers, got, err, tc.want)
		}
	}
	if _, err := peerElements([]Peer{{CIDR: netip.MustParsePrefix("10.0.0.0/24"), Except: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}}); err == nil {
		t.Error("an except outside its CIDR was accepted")
	}
}

// bigNode is a node of pods pods and policies policies: policy i lives in namespace
// ns-i, selects the pods of ns-i (pods/policies of them) and admits TCP 80 from those
// pods (a typical "allow from my namespace"). Every pod is isolated for ingress.
func bigNodeRules(pods, policies int) []PodRules {
	per := max(pods/policies, 1)
	out := make([]PodRules, pods)
	for i := range out {
		ns := i / per % policies
		out[i] = PodRules{Namespace: fmt.Sprintf("ns-%d", ns), Name: fmt.Sprintf("pod-%d", i), Node: "node-1",
			IP: netip.AddrFrom4([4]byte{10, 244, byte(i / 250), byte(i%250 + 2)}), IngressIsolated: true}
	}
	for i := range out {
		ns := i / per % policies
		var peers []netip.Addr
		for j := range out {
			if j/per%policies == ns {
				peers = append(peers, out[j].IP)
			}
		}
		out[i].Ingress = []Rule{{Policy: fmt.Sprintf("ns-%d/pol", ns), Peers: []Peer{{IPs: peers}},
			Ports: []Port{{Protocol: "TCP", Port: 80}}}}
	}
	return out
}

// BenchmarkSyncFake1000 computes and writes 1,000 pods x 1,000 policies into the Fake.
func BenchmarkSyncFake1000(b *testing.B) {
	rules := bigNodeRules(1000, 1000)
	for b.Loop() {
		e := New(knftables.NewFake(knftables.IPv4Family, TableName), Options{})
		e.AssumeNew()
		if err := e.Sync(context.Background(), rules); err != nil {
			b.Fatal(err)
		}
	}
}
