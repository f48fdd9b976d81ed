package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster/api"
)

// textView is a page of text over the lab's views, as k9s's YAML (y) and logs (l)
// screens: it scrolls by line and esc closes it.
type textView struct {
	title string   // the tab: "yaml pod default/web-1"
	t     target   // the object shown
	lines []string // built on change
	raw   []string // as received
	note  string   // said below the text (a pod that keeps no logs)
	err   error
	done  bool // the text has arrived
	w, h  int
	top   int
}

// textMsg brings a text view its text.
type textMsg struct {
	sess  int
	title string
	lines []string
	note  string
	err   error
}

func newTextView(title string, t target) *textView { return &textView{title: title, t: t} }

func (v *textView) setSize(w, h int) { v.w, v.h = w, h; v.build() }

func (v *textView) set(m textMsg) {
	v.raw, v.note, v.err, v.done = m.lines, m.note, m.err, true
	v.build()
}

func (v *textView) build() {
	v.lines = v.lines[:0]
	v.lines = append(v.lines, stTitle.Render(v.title))
	switch {
	case v.err != nil:
		v.lines = append(v.lines, stErr.Render("  "+v.err.Error()))
	case !v.done:
		v.lines = append(v.lines, stDim.Render("  reading from the supervisor…"))
	}
	for _, l := range v.raw {
		l = strings.ReplaceAll(l, "\t", "    ")
		if v.w > 4 && ansi.StringWidth(l) > v.w-2 {
			l = ansi.Hardwrap(l, v.w-2, true)
		}
		for p := range strings.SplitSeq(l, "\n") {
			v.lines = append(v.lines, " "+p)
		}
	}
	if v.note != "" {
		v.lines = append(v.lines, stDim.Render("  "+v.note))
	}
	v.top = max(min(v.top, len(v.lines)-v.h), 0)
}

func (v *textView) key(msg tea.KeyPressMsg) { v.top = scrollKey(msg, v.top, v.h, len(v.lines)) }

func (v *textView) render() string { return scrollRender(v.lines, v.top, v.w, v.h) }

// openText shows a text view and starts reading its text with fetch.
func (a *App) openText(title string, t target, fetch func(ctx context.Context, src Source) textMsg) tea.Cmd {
	a.text = newTextView(title, t)
	a.text.setSize(a.w, a.bodyHeight())
	src, ctx, sess := a.src, a.ctx, a.sess
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		m := fetch(c, src)
		m.sess, m.title = sess, title
		return m
	}
}

// showYAML is y: the object as the supervisor stores it, in YAML.
func (a *App) showYAML() tea.Cmd {
	t, ok := a.selected()
	if !ok {
		a.setStatus("y shows an object's YAML: select one", true)
		return nil
	}
	return a.openText("yaml "+t.String(), t, func(ctx context.Context, src Source) textMsg {
		y, err := objectYAML(ctx, src, t)
		if err != nil {
			return textMsg{err: err}
		}
		return textMsg{lines: strings.Split(strings.TrimRight(string(y), "\n"), "\n")}
	})
}

// objectYAML is t's stored object JSON as YAML (sigs.k8s.io/yaml, as kubectl prints it).
func objectYAML(ctx context.Context, src Source, t target) ([]byte, error) {
	ns := t.Namespace
	objs, err := src.Objects(ctx, t.Kind, ns)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.Name == t.Name && o.Namespace == t.Namespace {
			return yaml.JSONToYAML(o.Object)
		}
	}
	return nil, fmt.Errorf("the supervisor keeps no %s object named %s", strings.ToLower(t.Kind), podKey(t.Namespace, t.Name))
}

// logTail is how many lines l reads, as k9s's default tail.
const logTail = 1000

// showLogs is l on a pod: its log through the API (podlab logs), with the API's note
// when the pod keeps none.
func (a *App) showLogs() tea.Cmd {
	t, ok := a.selected()
	if !ok || t.Kind != kindPod {
		a.setStatus("l shows a pod's logs: select one in :pods", true)
		return nil
	}
	return a.openText("logs "+t.String(), t, func(ctx context.Context, src Source) textMsg {
		var m textMsg
		err := src.Logs(ctx, "", t.Namespace, t.Name, api.LogQuery{Tail: logTail}, func(l api.LogLine) error {
			if l.Note != "" {
				m.note = l.Note
				return nil
			}
			line := l.Line
			if line == "" && l.Query != nil {
				line = l.Query.Name + " " + l.Query.Type + " " + l.Query.Rcode
			}
			m.lines = append(m.lines, line)
			return nil
		})
		if err != nil && !errors.Is(err, context.Canceled) {
			m.err = err
		}
		if m.err == nil && len(m.lines) == 0 && m.note == "" {
			m.note = "(no log lines yet)"
		}
		return m
	})
}
