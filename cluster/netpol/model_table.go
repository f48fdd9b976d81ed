package netpol

import "strings"

// Table renders a reachability truth table as cyclonus prints one: rows are sources,
// columns destinations, "." allowed and "X" blocked.
//
//	+-----+-----+-----+
//	|     | x/a | x/b |
//	+-----+-----+-----+
//	| x/a | .   | X   |
//	| x/b | .   | .   |
//	+-----+-----+-----+
func Table(pods []string, allowed func(from, to string) bool) string {
	width := 1
	for _, p := range pods {
		width = max(width, len(p))
	}
	var b strings.Builder
	rule := "+" + strings.Repeat(strings.Repeat("-", width+2)+"+", len(pods)+1) + "\n"
	cell := func(s string) { b.WriteString(" " + s + strings.Repeat(" ", width-len(s)) + " |") }
	b.WriteString(rule + "|")
	cell("")
	for _, to := range pods {
		cell(to)
	}
	b.WriteString("\n" + rule)
	for _, from := range pods {
		b.WriteString("|")
		cell(from)
		for _, to := range pods {
			if allowed(from, to) {
				cell(".")
			} else {
				cell("X")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString(rule)
	return b.String()
}
