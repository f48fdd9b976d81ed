package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
)

// lineInput is a one-line editor for the command line, the filter and the labels
// prompt. It has no blinking cursor, so an idle screen never redraws.
type lineInput struct {
	prompt string
	value  []rune
}

// key edits the line; it reports enter (done) and esc (cancel).
func (in *lineInput) key(msg tea.KeyPressMsg) (done, cancel bool) {
	switch msg.String() {
	case "enter":
		return true, false
	case "esc", "ctrl+c":
		return false, true
	case "backspace", "ctrl+h":
		if len(in.value) > 0 {
			in.value = in.value[:len(in.value)-1]
		}
	case "ctrl+u":
		in.value = in.value[:0]
	case "ctrl+w":
		s := strings.TrimRight(string(in.value), " ")
		i := strings.LastIndexAny(s, " ,=/")
		in.value = []rune(s[:i+1])
	default:
		if msg.Text != "" && msg.Mod&^tea.ModShift == 0 {
			in.value = append(in.value, []rune(msg.Text)...)
		}
	}
	return false, false
}

func (in *lineInput) paste(s string) {
	in.value = append(in.value, []rune(strings.ReplaceAll(s, "\n", " "))...)
}

func (in *lineInput) String() string { return string(in.value) }

func (in *lineInput) set(s string) { in.value = []rune(s) }

func (in *lineInput) render() string { return in.prompt + string(in.value) + "█" }
