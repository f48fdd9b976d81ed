package printers

import (
	"io"
	"strings"
	"unicode/utf8"
)

// Stream writes a table's rows as they come, as `kubectl get -w` does with its
// width-remembering tabwriter: a column is as wide as the widest cell written in it so
// far plus three spaces (at least 6), so a row written later lines up with the header
// unless one of its cells is wider, and then the column stays wider. A whole table
// written at once comes out as Write prints it.
type Stream struct {
	widths []int
}

// Write writes rows, each with cells as Write's.
func (c *Stream) Write(w io.Writer, rows [][]string) error {
	cells := make([][]string, len(rows))
	for r, row := range rows {
		cells[r] = make([]string, len(row))
		for i, cell := range row {
			cell = cellText(cell)
			cells[r][i] = cell
			if i == len(row)-1 { // the last cell is not padded: it does not widen its column
				continue
			}
			for len(c.widths) <= i {
				c.widths = append(c.widths, tabMinWidth)
			}
			c.widths[i] = max(c.widths[i], utf8.RuneCountInString(cell)+tabPadding)
		}
	}
	var b strings.Builder
	for _, row := range cells {
		var line strings.Builder
		for i, cell := range row {
			line.WriteString(cell)
			if i < len(row)-1 {
				line.WriteString(strings.Repeat(" ", c.widths[i]-utf8.RuneCountInString(cell)))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
