package netpol

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
)

// span is an inclusive range of IPv4 addresses.
type span struct{ lo, hi uint32 }

func u32(a netip.Addr) uint32 { b := a.As4(); return binary.BigEndian.Uint32(b[:]) }

func addr(v uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return netip.AddrFrom4(b)
}

func prefixSpan(p netip.Prefix) span {
	p = p.Masked()
	lo := u32(p.Addr())
	return span{lo, lo | uint32(uint64(1)<<(32-p.Bits())-1)}
}

// peerElements turns a rule's peers into the elements of one interval set: pod
// addresses, and each ipBlock as its CIDR minus its excepts. Overlapping spans are
// merged (an interval set rejects overlaps), adjacent ones are kept apart, so a pod's
// address stays one element of its own unless an ipBlock covers it, and a label change
// adds or deletes exactly that element.
func peerElements(peers []Peer) ([]string, error) {
	var spans []span
	for _, p := range peers {
		for _, ip := range p.IPs {
			if ip.Is4() || ip.Is4In6() {
				spans = append(spans, span{u32(ip.Unmap()), u32(ip.Unmap())})
			}
		}
		if !p.CIDR.IsValid() {
			continue
		}
		if !p.CIDR.Addr().Is4() {
			continue // an IPv6 block never matches an IPv4 packet
		}
		blk := []span{prefixSpan(p.CIDR)}
		for _, ex := range p.Except {
			if !ex.IsValid() || !ex.Addr().Is4() {
				continue
			}
			if !p.CIDR.Contains(ex.Addr()) || ex.Bits() < p.CIDR.Bits() {
				return nil, fmt.Errorf("ipBlock %s: except %s is not inside it", p.CIDR, ex)
			}
			blk = subtract(blk, prefixSpan(ex))
		}
		spans = append(spans, blk...)
	}
	slices.SortFunc(spans, func(a, b span) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	var merged []span
	for _, s := range spans {
		if n := len(merged); n > 0 && s.lo <= merged[n-1].hi {
			merged[n-1].hi = max(merged[n-1].hi, s.hi)
			continue
		}
		merged = append(merged, s)
	}
	out := make([]string, len(merged))
	for i, s := range merged {
		out[i] = s.String()
	}
	return out, nil
}

// subtract removes x from each span.
func subtract(in []span, x span) []span {
	var out []span
	for _, s := range in {
		if x.hi < s.lo || x.lo > s.hi {
			out = append(out, s)
			continue
		}
		if x.lo > s.lo {
			out = append(out, span{s.lo, x.lo - 1})
		}
		if x.hi < s.hi {
			out = append(out, span{x.hi + 1, s.hi})
		}
	}
	return out
}

// String writes a span as nft does: an address, a prefix when it is one, else a range.
func (s span) String() string {
	if s.lo == s.hi {
		return addr(s.lo).String()
	}
	size := uint64(s.hi) - uint64(s.lo) + 1
	if size&(size-1) == 0 && uint64(s.lo)%size == 0 {
		bits := 32
		for ; size > 1; size >>= 1 {
			bits--
		}
		return netip.PrefixFrom(addr(s.lo), bits).String()
	}
	return addr(s.lo).String() + "-" + addr(s.hi).String()
}
