package tui

import (
	tea "charm.land/bubbletea/v2"
)

// picker lists the deployed labs.
type picker struct {
	labs   []string
	loaded bool
	err    error
	msg    string // why we are here (a lab was destroyed)
	cur    cursor
	w, h   int
}

func (p *picker) setLabs(labs []string, err error) {
	keep := ""
	if p.cur.pos < len(p.labs) {
		keep = p.labs[p.cur.pos]
	}
	p.labs, p.err, p.loaded = labs, err, true
	p.cur.setLen(len(labs))
	for i, l := range labs {
		if l == keep {
			p.cur.pos = i
			p.cur.clamp()
		}
	}
}

func (p *picker) setSize(w, h int) {
	p.w, p.h = w, h
	p.cur.setHeight(h - 4)
}

func (p *picker) key(msg tea.KeyPressMsg) { p.cur.key(msg) }

func (p *picker) selected() (string, bool) {
	if p.cur.pos < len(p.labs) {
		return p.labs[p.cur.pos], true
	}
	return "", false
}

func (p *picker) render() string {
	var lines []string
	if p.msg != "" {
		lines = append(lines, stWarn.Render(" "+p.msg), "")
	} else {
		lines = append(lines, "", "")
	}
	switch {
	case p.err != nil:
		lines = append(lines, stErr.Render(" cannot list labs: "+p.err.Error()))
	case !p.loaded:
		lines = append(lines, " looking for labs…")
	case len(p.labs) == 0:
		lines = append(lines, " No lab is deployed.", "",
			" Deploy one from another shell, for example:",
			"   sudo podlab deploy -t labs/basics/lab.yaml",
			"", " It appears here as soon as it is up.")
	default:
		lines = append(lines, stColHead.Render(" LABS"))
		for i := p.cur.off; i < len(p.labs) && i < p.cur.off+p.cur.h; i++ {
			if i == p.cur.pos {
				lines = append(lines, stSelected.Render(">"+p.labs[i]))
			} else {
				lines = append(lines, " "+p.labs[i])
			}
		}
	}
	return box(lines, p.w, p.h)
}
