package tui

import (
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// cursor is a selection in a list of n rows shown h at a time. Only the rows in
// [off, off+h) are ever rendered, so a view costs the same with 10 rows or 10,000.
type cursor struct {
	n, pos, off, h int
}

func (c *cursor) setLen(n int) {
	c.n = n
	c.clamp()
}

func (c *cursor) setHeight(h int) {
	c.h = max(h, 1)
	c.clamp()
}

func (c *cursor) clamp() {
	c.pos = min(max(c.pos, 0), max(c.n-1, 0))
	if c.pos < c.off {
		c.off = c.pos
	}
	if c.pos >= c.off+c.h {
		c.off = c.pos - c.h + 1
	}
	c.off = max(min(c.off, c.n-c.h), 0)
}

func (c *cursor) atEnd() bool { return c.n == 0 || c.pos == c.n-1 }

// key moves the cursor; it says whether the key was a movement.
func (c *cursor) key(msg tea.KeyPressMsg) bool {
	switch msg.String() {
	case "up", "k":
		c.pos--
	case "down", "j":
		c.pos++
	case "pgup", "ctrl+b":
		c.pos -= c.h
	case "pgdown", "ctrl+f", "space":
		c.pos += c.h
	case "home", "g":
		c.pos = 0
	case "end", "G":
		c.pos = c.n - 1
	default:
		return false
	}
	c.clamp()
	return true
}

// column of a table. Widths are decided once per data change: columns are taken in
// priority order while they fit at their least width, then grow toward their widest
// cell (capped at max) in the same order; the last one takes what is left.
type column struct {
	title string
	max   int    // cap of the natural width; 0: none
	min   int    // a flexible column can be cut down to this
	prio  int    // higher first
	right bool   // numbers
	fixed int    // width of a column whose cells change between data changes (counters, age)
	width int    // decided by layout; 0: hidden
	arrow string // ↑ or ↓ after the title of the column the table is sorted by
}

const colSep = "  "

// layout decides every column's width for a screen w cells wide (after the marker);
// natural[i] is the widest cell of column i.
func layout(cols []column, natural []int, w int) {
	want := make([]int, len(cols))
	least := make([]int, len(cols))
	order := make([]int, len(cols))
	for i := range cols {
		c := &cols[i]
		tw := ansi.StringWidth(c.title + c.arrow)
		want[i] = max(natural[i], tw, c.fixed)
		if c.max > 0 && want[i] > c.max {
			want[i] = max(c.max, tw)
		}
		least[i] = want[i]
		if c.min > 0 {
			least[i] = min(want[i], max(c.min, 1))
		}
		c.width = 0
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cols[b].prio - cols[a].prio })
	used := -len(colSep)
	for _, i := range order {
		if used+len(colSep)+least[i] <= w {
			cols[i].width = least[i]
			used += len(colSep) + least[i]
		}
	}
	for _, i := range order {
		if cols[i].width > 0 && cols[i].width < want[i] {
			grow := min(want[i]-cols[i].width, w-used)
			cols[i].width += grow
			used += grow
		}
	}
	for i := len(cols) - 1; i >= 0; i-- {
		if cols[i].width > 0 {
			if cols[i].min > 0 && used < w {
				cols[i].width += w - used
			}
			break
		}
	}
}

// naturalWidths measures every cell of the static columns once.
func naturalWidths(cols []column, n int, cell func(row, col int) string) []int {
	nat := make([]int, len(cols))
	for i, c := range cols {
		if c.fixed > 0 {
			continue
		}
		for r := 0; r < n; r++ {
			if w := ansi.StringWidth(cell(r, i)); w > nat[i] {
				nat[i] = w
				if c.max > 0 && w >= c.max {
					break
				}
			}
		}
	}
	return nat
}

// renderTable draws the header and the visible rows. style, if set, colours one cell.
func renderTable(cols []column, cur *cursor, cell func(row, col int) string, style func(row, col int, s string) string) []string {
	lines := make([]string, 0, cur.h+1)
	var b strings.Builder
	b.WriteString(" ")
	first := true
	for _, c := range cols {
		if c.width == 0 {
			continue
		}
		if !first {
			b.WriteString(colSep)
		}
		first = false
		b.WriteString(fit(c.title+c.arrow, c.width))
	}
	lines = append(lines, stColHead.Render(strings.TrimRight(b.String(), " ")))
	for r := cur.off; r < cur.n && r < cur.off+cur.h; r++ {
		b.Reset()
		sel := r == cur.pos
		if sel {
			b.WriteString(">")
		} else {
			b.WriteString(" ")
		}
		first := true
		for i, c := range cols {
			if c.width == 0 {
				continue
			}
			if !first {
				b.WriteString(colSep)
			}
			first = false
			s := cell(r, i)
			if c.right {
				s = fitRight(s, c.width)
			} else {
				s = fit(s, c.width)
			}
			if style != nil && !sel {
				s = style(r, i, s)
			}
			b.WriteString(s)
		}
		line := strings.TrimRight(b.String(), " ")
		if sel {
			line = stSelected.Render(line)
		}
		lines = append(lines, line)
	}
	return lines
}
