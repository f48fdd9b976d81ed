package topology

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is one problem in user input: where it is, which field, what is wrong and,
// when there is an obvious fix, a hint.
type Error struct {
	Pos
	Field string // e.g. "pods[1].ports" or "manifests[0] (Service default/web): spec.type"
	Msg   string
	Hint  string
}

// Error renders "file:line:col: field: msg" and the hint on the following lines.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Col > 0 {
				b.WriteString(":" + strconv.Itoa(e.Col))
			}
		}
		b.WriteString(": ")
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	if e.Hint != "" {
		// Continuation lines line up under the hint's text.
		b.WriteString("\n  hint: " + strings.ReplaceAll(e.Hint, "\n", "\n        "))
	}
	return b.String()
}

// Errors is every problem found in one load. Callers detect invalid input (exit code 2)
// with errors.As(err, &topology.Errors{}).
type Errors []*Error

// maxShown caps the rendered list; a broken file can produce hundreds of errors and
// the first ones are what a user fixes first.
const maxShown = 50

func (es Errors) Error() string {
	lines := make([]string, 0, len(es))
	for i, e := range es {
		if i == maxShown {
			lines = append(lines, fmt.Sprintf("... and %d more errors", len(es)-maxShown))
			break
		}
		lines = append(lines, e.Error())
	}
	return strings.Join(lines, "\n")
}

// errs collects errors; the zero value is ready to use.
type errs struct{ list Errors }

func (c *errs) add(pos Pos, field, hint, format string, args ...any) {
	c.list = append(c.list, &Error{Pos: pos, Field: field, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

func (c *errs) addErr(e *Error) { c.list = append(c.list, e) }

func (c *errs) empty() bool { return len(c.list) == 0 }

// err returns the collected errors or a nil error (never a typed nil).
func (c *errs) err() error {
	if len(c.list) == 0 {
		return nil
	}
	return c.list
}

// field names a field of a document: the document's label, if any, then the path:
// field("manifests[0] (Pod a/b)", "spec") = "manifests[0] (Pod a/b): spec".
func field(label, path string) string {
	switch {
	case label == "":
		return path
	case path == "":
		return label
	}
	return label + ": " + path
}

// join builds a field path: join("pods[1]", "ports") = "pods[1].ports".
func join(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case strings.HasPrefix(path, "["):
		return prefix + path
	}
	return prefix + "." + path
}
