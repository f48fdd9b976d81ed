package services

import (
	"errors"
	"math/bits"
)

// errFull is the API server's allocator word for an exhausted range
// (pkg/registry/core/service/{ipallocator,portallocator}).
var errFull = errors.New("range is full")

// bitmap is a set of small integers [0, n) with lowest-free search.
type bitmap struct {
	words []uint64
	n     int
	used  int
}

func newBitmap(n int) *bitmap {
	return &bitmap{words: make([]uint64, (n+63)/64), n: n}
}

func (b *bitmap) has(i int) bool { return b.words[i/64]&(1<<(uint(i)%64)) != 0 }

func (b *bitmap) set(i int) {
	if !b.has(i) {
		b.words[i/64] |= 1 << (uint(i) % 64)
		b.used++
	}
}

func (b *bitmap) clear(i int) {
	if b.has(i) {
		b.words[i/64] &^= 1 << (uint(i) % 64)
		b.used--
	}
}

// firstFree returns the lowest free index in [lo, hi) that skip does not refuse, or -1.
func (b *bitmap) firstFree(lo, hi int, skip func(int) bool) int {
	for i := lo; i < hi; {
		w := b.words[i/64] | (1<<(uint(i)%64) - 1) // bits below i count as used
		if w == ^uint64(0) {
			i = (i/64 + 1) * 64
			continue
		}
		j := i/64*64 + bits.TrailingZeros64(^w)
		if j >= hi {
			return -1
		}
		if skip != nil && skip(j) {
			i = j + 1
			continue
		}
		return j
	}
	return -1
}

// bandedRange is the API server's allocator shape for ClusterIPs and NodePorts
// (KEP-3070 ServiceIPStaticSubrange, KEP-3668 ServiceNodePortStaticSubrange): offsets
// [0, static) are the static band users pick from; dynamic allocation takes the upper
// band first and falls back to the static band only when the upper one is full.
// Upstream picks at random inside a band; podlab takes the lowest free offset so the
// same lab gives the same addresses every time.
type bandedRange struct {
	bits   *bitmap
	static int
}

func newBandedRange(size, static int) *bandedRange {
	return &bandedRange{bits: newBitmap(size), static: static}
}

// bandOffset is upstream's calculateRangeOffset: min(max(lo, size/step), hi), and no
// static band at all for ranges of lo or fewer.
func bandOffset(size, lo, hi, step int) int {
	if size <= lo {
		return 0
	}
	return min(max(lo, size/step), hi)
}

func (r *bandedRange) next(skip func(int) bool) (int, error) {
	if i := r.bits.firstFree(r.static, r.bits.n, skip); i >= 0 {
		r.bits.set(i)
		return i, nil
	}
	if i := r.bits.firstFree(0, r.static, skip); i >= 0 {
		r.bits.set(i)
		return i, nil
	}
	return 0, errFull
}
