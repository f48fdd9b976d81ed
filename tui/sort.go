package tui

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// sortKeys are k9s's sort keys: shift and a letter sorts by the column it names (the
// first of them a view has), again inverts. k9s binds shift-N and shift-A on every
// table and the others on its pods view; shift-P and shift-T are its namespace and
// type sorts in other views.
var sortKeys = map[string][]string{
	"N": {"NAME"},
	"A": {"AGE"},
	"S": {"STATUS"},
	"R": {"READY"},
	"T": {"RESTARTS", "TYPE"},
	"I": {"IP", "CLUSTER-IP"},
	"O": {"NODE"},
	"P": {"NAMESPACE"},
}

// descFirst are the columns a first press sorts largest first, as k9s sorts restarts.
var descFirst = map[string]bool{"RESTARTS": true}

// tableSort is a table's order as its sort keys set it; the zero value keeps the
// view's own order (namespace, then name).
type tableSort struct {
	title string // the column sorted by; "" for none
	desc  bool
}

// key handles a sort key for a table of cols: it says whether the order changed.
func (s *tableSort) key(msg tea.KeyPressMsg, cols []column) bool {
	k := msg.String()
	if l, ok := strings.CutPrefix(msg.Keystroke(), "shift+"); ok && len(l) == 1 {
		k = strings.ToUpper(l) // a terminal that reports shift without the text
	}
	for _, title := range sortKeys[k] {
		if colIndex(cols, title) < 0 {
			continue
		}
		if s.title == title {
			s.desc = !s.desc
		} else {
			s.title, s.desc = title, descFirst[title]
		}
		return true
	}
	return false
}

// tableKey is a sorted table's keys: a sort key orders the rows again (rebuild
// keeps the cursor on its row), others move the cursor.
func tableKey(msg tea.KeyPressMsg, s *tableSort, cols []column, cur *cursor, rebuild func()) {
	if s.key(msg, cols) {
		rebuild()
		return
	}
	cur.key(msg)
}

// mark puts the arrow of the order in its column's header, as k9s does.
func (s *tableSort) mark(cols []column) {
	for i := range cols {
		cols[i].arrow = ""
		if cols[i].title == s.title && s.title != "" {
			cols[i].arrow = "↑"
			if s.desc {
				cols[i].arrow = "↓"
			}
		}
	}
}

// order returns the rows' order (indexes into them), stable so that rows that
// compare equal keep the view's order, or nil for the view's own; cell gives row
// r's cell in column c.
func (s *tableSort) order(cols []column, n int, cell func(r, c int) string) []int {
	if s.title == "" {
		return nil
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	c := colIndex(cols, s.title)
	if c < 0 {
		return nil
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		d := compareCells(s.title, cell(a, c), cell(b, c))
		if s.desc {
			return -d
		}
		return d
	})
	return idx
}

// permute reorders s as order says (nil: as it is).
func permute[T any](s []T, order []int) []T {
	if order == nil {
		return s
	}
	out := make([]T, len(order))
	for i, j := range order {
		out[i] = s[j]
	}
	return out
}

// compareCells compares two cells as their column means them: ages as durations
// (the youngest first), READY as a fraction, addresses as addresses, cells
// starting with a number (RESTARTS' "2 (5m ago)") as numbers, the rest as text.
// Cells that do not parse ("-", "<none>") come last.
func compareCells(title, a, b string) int {
	switch {
	case title == "AGE":
		return cmpParsed(a, b, age)
	case title == "READY":
		return cmpParsed(a, b, fraction)
	case strings.HasSuffix(title, "IP"):
		return cmpParsed(a, b, func(s string) (netip.Addr, bool) {
			ip, err := netip.ParseAddr(s)
			return ip, err == nil
		})
	}
	if _, okA := leadingInt(a); okA {
		if _, okB := leadingInt(b); okB {
			return cmpParsed(a, b, leadingInt)
		}
	}
	return strings.Compare(a, b)
}

// cmpParsed compares a and b through parse; what does not parse sorts after.
func cmpParsed[T interface{ Compare(T) int }](a, b string, parse func(string) (T, bool)) int {
	va, okA := parse(a)
	vb, okB := parse(b)
	switch {
	case okA && okB:
		return va.Compare(vb)
	case okA:
		return -1
	case okB:
		return 1
	}
	return strings.Compare(a, b)
}

// number makes an int64 comparable through cmpParsed.
type number int64

func (n number) Compare(o number) int { return cmp.Compare(n, o) }

// age reads kubectl's short durations (45s, 5m, 2d3h, 3y) in seconds.
func age(s string) (number, bool) {
	units := map[byte]int64{'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'y': 365 * 86400}
	var total, cur int64
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			cur, digits = cur*10+int64(c-'0'), true
		case units[c] > 0 && digits:
			total, cur, digits = total+cur*units[c], 0, false
		default:
			return 0, false
		}
	}
	return number(total), s != "" && !digits
}

// fraction reads READY's "1/2" as a share of a million, so that 0/1 < 1/2 < 2/2.
func fraction(s string) (number, bool) {
	n, d, ok := strings.Cut(s, "/")
	a, errA := strconv.ParseInt(n, 10, 64)
	b, errB := strconv.ParseInt(d, 10, 64)
	if !ok || errA != nil || errB != nil || b <= 0 {
		return 0, false
	}
	return number(a * 1_000_000 / b), true
}

// leadingInt reads the number a cell starts with.
func leadingInt(s string) (number, bool) {
	end := 0
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	v, err := strconv.ParseInt(s[:end], 10, 64)
	return number(v), err == nil
}
