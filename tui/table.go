package tui

import (
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

// column of a table. Widths are decided once per data change from the widest cell
// (capped at max), then the widest flexible columns shrink and the lowest priority
// columns go until the table fits.
type column struct {
	title string
	max   int  // cap of the natural width; 0: none
	min   int  // a flexible column shrinks down to this
	prio  int  // columns with a lower prio are dropped first when too narrow
	right bool // numbers
	fixed int  // width of a column whose cells change between data changes (counters, age)
	width int  // decided by layout; 0: hidden
}

const colSep = "  "

// layout decides every column's width for a screen w cells wide (after the marker);
// natural[i] is the widest cell of column i.
func layout(cols []column, natural []int, w int) {
	total := 0
	for i := range cols {
		c := &cols[i]
		c.width = max(natural[i], ansi.StringWidth(c.title), c.fixed)
		if c.max > 0 && c.width > c.max {
			c.width = max(c.max, ansi.StringWidth(c.title))
		}
		total += c.width + len(colSep)
	}
	total -= len(colSep)
	for total > w {
		// Shrink the widest flexible column by what is over, down to its min.
		best := -1
		for i, c := range cols {
			if c.width > 0 && c.min > 0 && c.width > c.min && (best < 0 || c.width > cols[best].width) {
				best = i
			}
		}
		if best >= 0 {
			cut := min(total-w, cols[best].width-cols[best].min)
			cols[best].width -= cut
			total -= cut
			continue
		}
		// Drop the lowest priority visible column.
		drop := -1
		for i, c := range cols {
			if c.width > 0 && (drop < 0 || c.prio < cols[drop].prio) {
				drop = i
			}
		}
		if drop < 0 {
			break
		}
		total -= cols[drop].width + len(colSep)
		cols[drop].width = 0
	}
	// Give what is left to the last visible column (labels, messages).
	for i := len(cols) - 1; i >= 0; i-- {
		if cols[i].width > 0 {
			if total < w && cols[i].min > 0 {
				cols[i].width += w - total
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
		b.WriteString(fit(c.title, c.width))
	}
	lines = append(lines, stColHead.Render(strings.TrimRight(b.String(), " ")))
	for r := cur.off; r < cur.n && r < cur.off+cur.h-1; r++ {
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
