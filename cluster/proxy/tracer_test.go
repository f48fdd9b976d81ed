package proxy

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

// A small version of upstream's nftablesTracer (helpers_test.go): it runs one
// virtual first packet of a connection through the fake's ruleset, along the
// hooks kube-proxy uses, and reports what happened. It understands exactly the
// rule forms this package writes.
type traceResult struct {
	verdict    string // "ACCEPT", "DROP", "REJECT"
	dnat       string // "ip:port" when DNATed
	masquerade bool
	counter    string // the named counter the connection's packets count in
}

type tracer struct {
	t       *testing.T
	nft     *knftables.Fake
	nodeIPs map[string]bool
	pick    int // which numgen index to take (modulo N)
	left    int // pickByRules: the rules still to pass before the pick's, -1 before the first

	// packet state
	src, dst    netip.Addr
	proto       string
	dport       int
	mark        uint32
	dnatted     bool
	masq        bool
	fromHost    bool
	origDst     netip.Addr
	origPort    int
	counted     string
	affinityHit map[string]bool // sets containing src
}

// trace sends proto src -> dst:dport; a src that is a node IP takes the output
// path (a host process), anything else arrives from outside or from a pod.
func trace(t *testing.T, nft *knftables.Fake, src, dst, proto string, dport int) traceResult {
	t.Helper()
	return (&tracer{t: t, nft: nft, nodeIPs: map[string]bool{testNodeIP: true}, affinityHit: map[string]bool{}}).run(src, dst, proto, dport)
}

func (tr *tracer) run(src, dst, proto string, dport int) traceResult {
	tr.src, tr.dst = netip.MustParseAddr(src), netip.MustParseAddr(dst)
	tr.origDst, tr.origPort, tr.proto, tr.dport = tr.dst, dport, proto, dport
	tr.fromHost = tr.nodeIPs[src]
	var hooks []string
	if tr.fromHost {
		hooks = []string{filterOutputPreDNATChain, natOutputChain, "route", filterOutputChain, natPostroutingChain}
	} else {
		hooks = []string{filterPreroutingPreDNATChain, natPreroutingChain, "route"}
	}
	for i := 0; i < len(hooks); i++ {
		h := hooks[i]
		if h == "route" {
			if !tr.fromHost {
				if tr.nodeIPs[tr.dst.String()] {
					hooks = append(hooks, filterInputChain)
				} else {
					hooks = append(hooks, filterForwardChain, natPostroutingChain)
				}
			}
			continue
		}
		switch v := tr.runChain(h, 0); v {
		case "drop":
			return tr.result("DROP")
		case "reject":
			return tr.result("REJECT")
		}
	}
	return tr.result("ACCEPT")
}

func (tr *tracer) result(v string) traceResult {
	r := traceResult{verdict: v, masquerade: tr.masq, counter: tr.counted}
	if tr.dnatted {
		r.dnat = tr.dst.String() + ":" + strconv.Itoa(tr.dport)
	}
	return r
}

// runChain returns "drop", "reject", "accept" (a terminal statement such as dnat or
// masquerade) or "" (fell off the end / returned).
func (tr *tracer) runChain(name string, depth int) string {
	if depth > 20 {
		tr.t.Fatalf("tracer: chain loop at %s", name)
	}
	ch := tr.nft.Table.Chains[name]
	if ch == nil {
		tr.t.Fatalf("tracer: no chain %q", name)
	}
	tr.left = -1
	for _, r := range ch.Rules {
		v, jump, gotoChain := tr.runRule(r.Rule)
		switch {
		case jump != "":
			if v := tr.runChain(jump, depth+1); v != "" {
				return v
			}
		case gotoChain != "":
			return tr.runChain(gotoChain, depth+1)
		case v != "":
			return v
		}
	}
	return ""
}

// runRule evaluates one rule: matches left to right, then its statements.
func (tr *tracer) runRule(rule string) (verdict, jump, gotoChain string) {
	w := strings.Fields(rule)
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] == "ct" && w[i+1] == "state": // every traced packet is new
			i += 2
		case w[i] == "ct" && w[i+1] == "status":
			if !tr.dnatted {
				return
			}
			i += 2
		case w[i] == "ct" && w[i+1] == "direction":
			i += 2
		case w[i] == "counter": // accounting only: "counter name KEY map @x" notes the counter
			var key []string
			for i += 2; w[i] != "map"; i++ {
				f := w[i]
				for i+1 < len(w) && w[i+1] != "." && w[i+1] != "map" {
					i++
					f += " " + w[i]
				}
				key = append(key, tr.field(f))
				if w[i+1] == "." {
					i++
				}
			}
			if name := tr.lookup(w[i+1][1:], key); name != "" {
				tr.counted, _ = strconv.Unquote(name)
			}
			i++
		case (w[i] == "ip" || w[i] == "meta") && i+3 < len(w) && w[i+2] == ".":
			// a concatenation: key . key ... then "vmap @m" or "@set"
			var key []string
			for w[i] != "vmap" && !strings.HasPrefix(w[i], "@") {
				if w[i] != "." {
					key = append(key, tr.field(w[i]+" "+w[i+1]))
					i++
				}
				i++
			}
			if w[i] == "vmap" {
				i++
				v := tr.lookup(w[i][1:], key)
				if v == "" {
					return
				}
				return tr.verdictWord(strings.Fields(v))
			}
			if !tr.inSet(w[i][1:], key) {
				return
			}
		case w[i] == "ip" && (w[i+1] == "saddr" || w[i+1] == "daddr"):
			addr := tr.field(w[i] + " " + w[i+1])
			i += 2
			neg := w[i] == "!="
			if neg {
				i++
			}
			var ok bool
			switch {
			case strings.HasPrefix(w[i], "@"):
				ok = tr.inSet(w[i][1:], []string{addr})
			case w[i] == "{":
				for i++; w[i] != "}"; i++ {
					ok = ok || (w[i] != "," && contains(w[i], addr))
				}
			default:
				ok = contains(w[i], addr)
			}
			if ok == neg {
				return
			}
		case w[i] == "meta" && w[i+1] == "l4proto":
			if w[i+2] != tr.proto {
				return
			}
			i += 2
		case w[i] == "fib": // fib saddr type local
			if !tr.fromHost {
				return
			}
			i += 3
		case w[i] == "mark" && w[i+1] == "and": // mark and 0x4000 != 0
			if tr.mark&0x4000 == 0 {
				return
			}
			i += 4
		case w[i] == "mark" && w[i+1] == "set":
			if w[i+3] == "or" {
				tr.mark |= 0x4000
			} else {
				tr.mark &^= 0x4000
			}
			i += 4
		case w[i] == "masquerade":
			tr.masq = true
			return "accept", "", ""
		case w[i] == "update": // update @set { ip saddr }
			tr.affinityHit[w[i+1][1:]] = true
			i += 5
		case w[i] == "dnat":
			var target string
			if w[i+1] == "to" {
				target = w[i+2]
			} else { // dnat ip addr . port to numgen random mod N map { 0 : a . p , ... }
				n, _ := strconv.Atoi(w[i+9])
				elems := strings.Split(strings.Join(w[i+12:len(w)-1], " "), " , ")
				f := strings.Fields(elems[tr.pick%n])
				target = f[2] + ":" + f[4]
			}
			host, port, _ := strings.Cut(target, ":")
			tr.dst = netip.MustParseAddr(host)
			tr.dport, _ = strconv.Atoi(port)
			tr.dnatted = true
			return "accept", "", ""
		case w[i] == "numgen" && w[i+4] != "vmap" && w[i+4] != "map": // numgen random mod N 0: one rule per endpoint
			n, _ := strconv.Atoi(w[i+3])
			if tr.left < 0 { // the first rule has N = the number of endpoints
				tr.left = tr.pick % n
			}
			if tr.left > 0 {
				tr.left--
				return
			}
			tr.left = 1 << 30 // taken: no later rule of the chain matches
			i += 4
		case w[i] == "numgen": // numgen random mod N vmap { 0 : goto X , ... }
			n, _ := strconv.Atoi(w[i+3])
			elems := strings.Split(strings.Join(w[i+6:len(w)-1], " "), " , ")
			return tr.verdictWord(strings.Fields(elems[tr.pick%n])[2:])
		default:
			return tr.verdictWord(w[i:])
		}
	}
	return
}

func (tr *tracer) verdictWord(w []string) (verdict, jump, gotoChain string) {
	switch w[0] {
	case "goto":
		return "", "", w[1]
	case "jump":
		return "", w[1], ""
	case "drop", "reject", "accept":
		return w[0], "", ""
	case "return":
		return "", "", ""
	}
	tr.t.Fatalf("tracer: cannot evaluate %q", strings.Join(w, " "))
	return
}

func (tr *tracer) field(f string) string {
	switch f {
	case "ip saddr":
		return tr.src.String()
	case "ct original ip daddr":
		return tr.origDst.String()
	case "ct original proto-dst":
		return strconv.Itoa(tr.origPort)
	case "ip daddr":
		return tr.dst.String()
	case "meta l4proto":
		return tr.proto
	case "th dport":
		return strconv.Itoa(tr.dport)
	}
	tr.t.Fatalf("tracer: unknown field %q", f)
	return ""
}

func contains(cidrOrIP, addr string) bool {
	if p, err := netip.ParsePrefix(cidrOrIP); err == nil {
		return p.Contains(netip.MustParseAddr(addr))
	}
	return cidrOrIP == addr
}

func (tr *tracer) lookup(mapName string, key []string) string {
	m := tr.nft.Table.Maps[mapName]
	if m == nil {
		tr.t.Fatalf("tracer: no map %q", mapName)
	}
	for _, e := range m.Elements {
		if strings.Join(e.Key, " . ") == strings.Join(key, " . ") {
			return strings.Join(e.Value, " ")
		}
	}
	return ""
}

func (tr *tracer) inSet(name string, key []string) bool {
	if strings.HasPrefix(name, affinitySetPrefix) {
		return tr.affinityHit[name]
	}
	s := tr.nft.Table.Sets[name]
	if s == nil {
		tr.t.Fatalf("tracer: no set %q", name)
	}
	for _, e := range s.Elements {
		if strings.Join(e.Key, " . ") == strings.Join(key, " . ") {
			return true
		}
	}
	return false
}
