package tui

import (
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// Styles carry colour and emphasis only: every piece of meaning (the selected row,
// the current view, readiness) is also in the text, so a dumb terminal, where the
// program strips all styling, loses nothing.
var (
	stHeader   = lipgloss.NewStyle().Bold(true)
	stTab      = lipgloss.NewStyle().Faint(true)
	stTabOn    = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
	stColHead  = lipgloss.NewStyle().Bold(true)
	stSelected = lipgloss.NewStyle().Reverse(true)
	stOK       = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
	stBad      = lipgloss.NewStyle().Foreground(lipgloss.Color("1"))
	stWarn     = lipgloss.NewStyle().Foreground(lipgloss.Color("3"))
	stDim      = lipgloss.NewStyle().Faint(true)
	stTitle    = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("6"))
	stErr      = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("1"))
)

// fit pads or cuts plain text to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-n)
}

// fitRight is fit, aligned right.
func fitRight(s string, w int) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-n) + s
}

// cut shortens a (possibly styled) line to at most w cells.
func cut(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "")
}

// box returns exactly h lines of lines, each cut to w, padding with blank lines.
func box(lines []string, w, h int) string {
	var b strings.Builder
	for i := 0; i < h; i++ {
		if i > 0 {
			b.WriteByte('\n')
		}
		if i < len(lines) {
			b.WriteString(cut(lines[i], w))
		}
	}
	return b.String()
}
