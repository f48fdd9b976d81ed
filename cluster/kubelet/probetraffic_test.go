package kubelet

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseProbeSets(t *testing.T) {
	js := `{"nftables": [{"metainfo": {"version": "1.0.6"}},
{"set": {"family": "ip", "name": "tx", "table": "podlab-probes", "elem": [{"elem": {"val": "10.244.1.2", "expires": 600, "counter": {"packets": 5, "bytes": 300}}}]}},
{"set": {"family": "ip", "name": "rx", "table": "podlab-probes", "elem": [{"elem": {"val": "10.244.1.2", "expires": 600, "counter": {"packets": 4, "bytes": 500}}}, {"elem": {"val": "10.244.1.3", "counter": {"packets": 1, "bytes": 60}}}]}},
{"chain": {"name": "out"}}]}`
	out := map[netip.Addr]ProbeCount{}
	if err := parseProbeSets([]byte(js), out); err != nil {
		t.Fatal(err)
	}
	want := map[netip.Addr]ProbeCount{
		netip.MustParseAddr("10.244.1.2"): {RxBytes: 300 + 5*14, RxPackets: 5, TxBytes: 500 + 4*14, TxPackets: 4},
		netip.MustParseAddr("10.244.1.3"): {TxBytes: 60 + 14, TxPackets: 1},
	}
	if len(out) != len(want) {
		t.Fatalf("got %v, want %v", out, want)
	}
	for ip, w := range want {
		if out[ip] != w {
			t.Errorf("%s: got %+v, want %+v", ip, out[ip], w)
		}
	}
}

// The mark must never set kube-proxy's masquerade bit, or probes would be
// masqueraded.
func TestProbeMark(t *testing.T) {
	if ProbeMark&0x4000 != 0 {
		t.Fatalf("ProbeMark %#x sets the masquerade bit", ProbeMark)
	}
	if !strings.Contains(probeRuleset, "meta mark 0x100000 ct mark set 0x100000") {
		t.Fatalf("ruleset:\n%s", probeRuleset)
	}
}
