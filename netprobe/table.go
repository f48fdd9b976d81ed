package netprobe

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Table is a truth table: rows are sources, columns destinations, as the upstream e2e
// netpol suite's TruthTable. A missing value is unknown.
type Table struct {
	Froms, Tos []string
	Values     map[string]map[string]bool
}

// NewTable is an empty table over froms and tos, in that order.
func NewTable(froms, tos []string) *Table {
	return &Table{Froms: froms, Tos: tos, Values: map[string]map[string]bool{}}
}

// Set records from -> to.
func (t *Table) Set(from, to string, v bool) {
	if t.Values[from] == nil {
		t.Values[from] = map[string]bool{}
	}
	t.Values[from][to] = v
}

// Get returns from -> to and whether it is known.
func (t *Table) Get(from, to string) (v, ok bool) {
	v, ok = t.Values[from][to]
	return v, ok
}

// Mark is a cell as the upstream suite prints it: "." connected, "X" not, "?" unknown.
func (t *Table) Mark(from, to string) string {
	v, ok := t.Get(from, to)
	switch {
	case !ok:
		return "?"
	case v:
		return "."
	}
	return "X"
}

// Disagree lists the cells both tables know and where they differ, row by row.
func (t *Table) Disagree(other *Table) [][2]string {
	var out [][2]string
	for _, f := range t.Froms {
		for _, to := range t.Tos {
			if t.differs(other, f, to) {
				out = append(out, [2]string{f, to})
			}
		}
	}
	return out
}

func (t *Table) differs(other *Table, from, to string) bool {
	if other == nil {
		return false
	}
	a, ok1 := t.Get(from, to)
	b, ok2 := other.Get(from, to)
	return ok1 && ok2 && a != b
}

// Render prints the table, "-" in the corner, rows = from, columns = to. With other,
// every cell whose value differs from other's is followed by "*".
func (t *Table) Render(w io.Writer, other *Table) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "-\t%s\t\n", strings.Join(t.Tos, "\t"))
	for _, f := range t.Froms {
		marks := make([]string, len(t.Tos))
		for i, to := range t.Tos {
			marks[i] = t.Mark(f, to)
			if t.differs(other, f, to) {
				marks[i] += "*"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", f, strings.Join(marks, "\t"))
	}
	return tw.Flush()
}
