package netpol

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

// nftPacket is what the forward hook sees: the post-DNAT addresses and port, and what
// conntrack knows of the connection.
type nftPacket struct {
	src, dst    string
	proto       string // tcp, udp, sctp
	dport       int
	established bool // a later packet of a connection conntrack has confirmed
	reply       bool // in the reply direction (then established too)
}

// nftTraced is what happened to a packet in the table.
type nftTraced struct {
	verdict  string   // "accept" or "drop"
	counters []string // named counters the packet moved, in order
	logged   bool
}

// nftTracer runs a packet through the Fake's forward chain, as podlab trace will run
// one through the kernel's: it understands exactly the rule forms nft.go writes.
type nftTracer struct {
	t   *testing.T
	nft *knftables.Fake
	p   nftPacket
	out nftTraced
}

func nftTrace(t *testing.T, nft *knftables.Fake, p nftPacket) nftTraced {
	t.Helper()
	tr := &nftTracer{t: t, nft: nft, p: p}
	if p.reply {
		tr.p.established = true
	}
	if v := tr.chain(forwardChain, 0); v == "drop" {
		tr.out.verdict = "drop"
	} else {
		tr.out.verdict = "accept" // the base chain's policy, or an accept
	}
	return tr.out
}

// chain returns "accept" or "drop", or "" when the chain ran out or returned.
func (tr *nftTracer) chain(name string, depth int) string {
	ch := tr.nft.Table.Chains[name]
	if ch == nil || depth > 8 {
		tr.t.Fatalf("tracer: no chain %q, or a loop (depth %d)", name, depth)
	}
	for i := 0; i < len(ch.Rules); i++ {
		verdict, target := tr.rule(ch.Rules[i].Rule)
		if verdict == "jump" {
			verdict = tr.chain(target, depth+1)
		} else if verdict == "goto" {
			return tr.chain(target, depth+1)
		}
		if verdict == "return" {
			return ""
		}
		if verdict != "" {
			return verdict
		}
	}
	return ""
}

// rule evaluates one rule: its matches left to right, then its statements; it returns
// the verdict ("" when a match failed or the rule has none) and a jump's target.
func (tr *nftTracer) rule(rule string) (verdict, target string) {
	w := strings.Fields(rule)
	for i := 0; i < len(w); i++ {
		switch {
		case w[i] == "ct" && w[i+1] == "state":
			// related never happens here: every traced packet is new or established.
			if !tr.p.established || !strings.Contains(w[i+2], "established") {
				return "", ""
			}
			i += 2
		case w[i] == "ct" && w[i+1] == "direction":
			if !tr.p.reply {
				return "", ""
			}
			i += 2
		case w[i] == "ip" && w[i+2] == "vmap":
			e := tr.element(w[i+3][1:], tr.field(w[i+1]))
			if e == "" {
				return "", ""
			}
			v, t, _ := strings.Cut(e, " ")
			return v, t
		case w[i] == "ip":
			if !inElements(tr.values(w[i+2]), tr.field(w[i+1])) {
				return "", ""
			}
			i += 2
		case w[i] == "meta" && w[i+1] == "l4proto":
			if w[i+2] != tr.p.proto {
				return "", ""
			}
			i += 2
		case w[i] == "th" && w[i+1] == "dport":
			lo, hi, _ := strings.Cut(w[i+2], "-")
			if hi == "" {
				hi = lo
			}
			l, _ := strconv.Atoi(lo)
			h, _ := strconv.Atoi(hi)
			if tr.p.dport < l || tr.p.dport > h {
				return "", ""
			}
			i += 2
		case w[i] == "counter" && w[i+1] == "name":
			tr.out.counters = append(tr.out.counters, w[i+2])
			i += 2
		case w[i] == "limit": // limit rate R log prefix "..." [group N]: never over the limit here
			tr.out.logged = true
			return "", ""
		case w[i] == "accept" || w[i] == "drop" || w[i] == "return":
			return w[i], ""
		default:
			tr.t.Fatalf("tracer: cannot evaluate %q in %q", w[i], rule)
		}
	}
	return "", ""
}

func (tr *nftTracer) field(f string) string {
	switch f {
	case "saddr":
		return tr.p.src
	case "daddr":
		return tr.p.dst
	}
	tr.t.Fatalf("tracer: unknown field ip %s", f)
	return ""
}

// values is an address, or a set's elements.
func (tr *nftTracer) values(word string) []string {
	if !strings.HasPrefix(word, "@") {
		return []string{word}
	}
	s := tr.nft.Table.Sets[word[1:]]
	if s == nil {
		tr.t.Fatalf("tracer: no set %q", word)
	}
	var out []string
	for _, e := range s.Elements {
		out = append(out, e.Key[0])
	}
	return out
}

func (tr *nftTracer) element(m, key string) string {
	vm := tr.nft.Table.Maps[m]
	if vm == nil {
		tr.t.Fatalf("tracer: no map %q", m)
	}
	for _, e := range vm.Elements {
		if e.Key[0] == key {
			return e.Value[0]
		}
	}
	return ""
}

// contains says whether a is one of the elements: addresses, prefixes or ranges.
func inElements(elems []string, a string) bool {
	ip := netip.MustParseAddr(a)
	for _, e := range elems {
		if lo, hi, ok := strings.Cut(e, "-"); ok {
			if netip.MustParseAddr(lo).Compare(ip) <= 0 && ip.Compare(netip.MustParseAddr(hi)) <= 0 {
				return true
			}
		} else if p, err := netip.ParsePrefix(e); err == nil {
			if p.Contains(ip) {
				return true
			}
		} else if e == a {
			return true
		}
	}
	return false
}
