package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// logTable is the body of a view listing log records (DNS queries, proxied requests),
// newest first as the supervisor answers them: filtered with /, laid out as a table,
// replaced at each poll with the cursor kept on the record it was on.
type logTable[T any] struct {
	items  []T
	err    error
	loaded bool
	w, h   int
	filt   string
	rows   []int // indexes into items
	cellsR [][]string
	cols   []column
	nat    []int
	cur    cursor
	cells  func(*T) []string  // one record's row
	same   func(a, b *T) bool // whether two polls' records are one
}

func (t *logTable[T]) filter() string     { return t.filt }
func (t *logTable[T]) setFilter(f string) { t.filt = f; t.rebuild() }
func (t *logTable[T]) setData(*labData)   {}

func (t *logTable[T]) setSize(w, h int) {
	t.w, t.h = w, h
	t.cur.setHeight(h - 1)
	t.relayout()
}

func (t *logTable[T]) key(msg tea.KeyPressMsg) tea.Cmd {
	t.cur.key(msg)
	return nil
}

// set replaces the records; after an error the last ones stay.
func (t *logTable[T]) set(items []T, err error) {
	t.err = err
	if err != nil {
		return
	}
	var keep *T
	if t.cur.pos > 0 && t.cur.pos < len(t.rows) {
		keep = &t.items[t.rows[t.cur.pos]]
	}
	t.items, t.loaded = items, true
	t.rebuild()
	if keep != nil {
		for i, r := range t.rows {
			if t.same(&t.items[r], keep) {
				t.cur.pos = i
				t.cur.clamp()
				break
			}
		}
	}
}

func (t *logTable[T]) rebuild() {
	t.rows, t.cellsR = t.rows[:0], t.cellsR[:0]
	f := strings.ToLower(t.filt)
	for i := range t.items {
		cells := t.cells(&t.items[i])
		if f != "" && !matches(f, cells) {
			continue
		}
		t.rows = append(t.rows, i)
		t.cellsR = append(t.cellsR, cells)
	}
	t.cur.setLen(len(t.rows))
	t.nat = naturalWidths(t.cols, len(t.rows), func(r, c int) string { return t.cellsR[r][c] })
	t.relayout()
}

func (t *logTable[T]) relayout() {
	if t.nat != nil && t.w > 0 {
		layout(t.cols, t.nat, t.w-1)
	}
}

// row is the record on row r of the table.
func (t *logTable[T]) row(r int) *T { return &t.items[t.rows[r]] }

// picked is the record under the cursor.
func (t *logTable[T]) picked() (*T, bool) {
	if t.cur.pos < 0 || t.cur.pos >= len(t.rows) {
		return nil, false
	}
	return t.row(t.cur.pos), true
}

// draw is the table, style colouring cells; what names the records in an error
// ("dns queries"), none says what to do when there are none yet, noMatch names them
// for a filter that matches none ("query").
func (t *logTable[T]) draw(what, none, noMatch string, style func(r, c int, s string) string) string {
	if !t.loaded {
		if t.err != nil {
			return box([]string{stErr.Render(" " + what + ": " + t.err.Error())}, t.w, t.h)
		}
		return box([]string{" loading…"}, t.w, t.h)
	}
	lines := renderTable(t.cols, &t.cur, func(r, c int) string { return t.cellsR[r][c] }, style)
	if len(t.rows) == 0 {
		if t.filt != "" {
			lines = append(lines, stDim.Render(" no "+noMatch+" matches /"+t.filt))
		} else {
			lines = append(lines, stDim.Render(" "+none))
		}
	}
	return box(lines, t.w, t.h)
}
