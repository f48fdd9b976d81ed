package topology

import (
	"sort"
	"strings"
)

// Suggest returns the option closest to got, or "" when none is close enough to be a
// plausible typo. A case-insensitive match wins; otherwise the smallest edit distance
// (transpositions count once), then the earliest option.
func Suggest(got string, options []string) string {
	if got == "" {
		return ""
	}
	for _, o := range options {
		if strings.EqualFold(o, got) {
			return o
		}
	}
	lg := strings.ToLower(got)
	limit := max(1, (len(got)+2)/4)
	best, bestD := "", limit+1
	for _, o := range options {
		lo := strings.ToLower(o)
		d := editDistance(lg, lo, bestD)
		if len(lg) >= 3 && strings.HasPrefix(lo, lg) && d > 1 {
			d = limit // a prefix is a plausible abbreviation, but not better than a typo
		}
		if d < bestD {
			best, bestD = o, d
		}
	}
	return best
}

// didYouMean renders a suggestion as "; did you mean "x"?" or "".
func didYouMean(got string, options []string) string {
	if s := Suggest(got, options); s != "" {
		return `; did you mean "` + s + `"?`
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b, giving up
// (returning stop) once the result cannot be below stop.
func editDistance(a, b string, stop int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d >= stop || -d >= stop {
		return stop
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= stop {
			return stop
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(rb)], stop)
}

// quoteList renders options as "a", "b", "c" (sorted).
func quoteList(options []string) string {
	s := append([]string(nil), options...)
	sort.Strings(s)
	for i := range s {
		s[i] = `"` + s[i] + `"`
	}
	return strings.Join(s, ", ")
}
