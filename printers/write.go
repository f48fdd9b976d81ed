package printers

import (
	"bytes"
	"io"
	"strings"
	"text/tabwriter"
)

// kubectl's tabwriter settings (k8s.io/cli-runtime/pkg/printers.GetNewTabWriter):
// a column is as wide as its widest cell plus 3 spaces, and at least 6.
const (
	tabMinWidth = 6
	tabWidth    = 4
	tabPadding  = 3
)

// Write prints a table from Table as kubectl aligns it: columns padded with
// spaces to their widest cell plus three, no trailing spaces. Like kubectl, a
// cell is cut at its first line break, marked with "...", and an escape
// character shows as ^[ so a cell cannot drive the terminal.
func Write(w io.Writer, table [][]string) error {
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, tabMinWidth, tabWidth, tabPadding, ' ', 0)
	for _, row := range table {
		for i, cell := range row {
			if i > 0 {
				tw.Write([]byte{'\t'})
			}
			tw.Write([]byte(cellText(cell)))
		}
		tw.Write([]byte{'\n'})
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// The padding of a row's last cells, when they are empty, would trail.
	var out bytes.Buffer
	for line := range strings.Lines(buf.String()) {
		out.WriteString(strings.TrimRight(line, " \n"))
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

// cellText is a cell as kubectl's table printer writes it.
func cellText(s string) string {
	if i := strings.IndexAny(s, "\f\n\r"); i >= 0 {
		s = s[:i] + "..."
	}
	// Tabs would split the cell into columns.
	return strings.NewReplacer("\x1b", "^[", "\t", " ").Replace(s)
}
