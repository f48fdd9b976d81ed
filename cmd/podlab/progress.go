package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"
)

// progress shows one status line: rewritten in place on a terminal, one line per step
// (and a counter at most every second) otherwise, so CI logs stay short.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	start    time.Time
	last     string
	lastText string
	lastLine time.Time
	open     bool
}

func newProgress(w *os.File) *progress {
	return &progress{w: w, tty: term.IsTerminal(int(w.Fd())), start: time.Now()}
}

func (p *progress) step(name string, done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := name
	if total > 0 {
		line = fmt.Sprintf("%s %d/%d", name, done, total)
	}
	el := time.Since(p.start).Seconds()
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K[%5.2fs] %s", el, line)
		p.open = true
		return
	}
	// One line per step, the final count of a step, and a counter at most every second.
	if line == p.lastText || (name == p.last && done != total && time.Since(p.lastLine) <= time.Second) {
		return
	}
	fmt.Fprintf(p.w, "[%5.2fs] %s\n", el, line)
	p.last, p.lastText, p.lastLine = name, line, time.Now()
}

func (p *progress) note(msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
	fmt.Fprintln(p.w, msg)
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
}
