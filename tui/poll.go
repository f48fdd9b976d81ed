package tui

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"
)

// poller polls one view's data from the supervisor only while the view is on screen
// (the DNS query log, the NetworkPolicy counters, the access log cost a request each,
// some an nft listing per node): a request when the view comes on screen, then one a
// tick (Config.CountersEvery) after each answer. The loop stops by itself at the
// first tick or answer that finds the view hidden; the next key that shows it again
// starts a new one.
type poller struct {
	v     view   // the view polled
	label string // what failed, in the status line: "dns queries"
	// fetch asks src, off the event loop; the func it returns runs on the loop,
	// hands the answer to the view and returns the request's error.
	fetch   func(ctx context.Context, src Source) func() error
	polling bool
}

type (
	pollTickMsg struct {
		sess int
		p    *poller
	}
	pollAnswerMsg struct {
		sess  int
		p     *poller
		apply func() error
	}
)

// pollers are the lab's polled views.
func (a *App) pollers() []*poller { return []*poller{a.dnsPoll, a.netPoll, a.ingPoll} }

// polledShown says whether p's view is on screen.
func (a *App) polledShown(p *poller) bool {
	return a.inLab && p != nil && a.detail == nil && a.current() == p.v
}

// syncPolling starts polling the view on screen if it is polled and not yet.
func (a *App) syncPolling() tea.Cmd {
	var cmds []tea.Cmd
	for _, p := range a.pollers() {
		if p != nil && !p.polling && a.polledShown(p) {
			p.polling = true
			cmds = append(cmds, a.pollFetch(p))
		}
	}
	return tea.Batch(cmds...)
}

func (a *App) pollFetch(p *poller) tea.Cmd {
	src, ctx, sess := a.src, a.ctx, a.sess
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		return pollAnswerMsg{sess: sess, p: p, apply: p.fetch(c, src)}
	}
}

// onPollMsg handles the polled views' messages; ok is false for other messages.
func (a *App) onPollMsg(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case pollTickMsg:
		if msg.sess != a.sess {
			return nil, true
		}
		if !a.polledShown(msg.p) {
			msg.p.polling = false
			return nil, true
		}
		return a.pollFetch(msg.p), true
	case pollAnswerMsg:
		if msg.sess != a.sess {
			return nil, true
		}
		err := msg.apply()
		if !a.polledShown(msg.p) {
			msg.p.polling = false
			return nil, true
		}
		if err != nil {
			a.setStatus(msg.p.label+": "+err.Error(), true)
		}
		p, sess := msg.p, a.sess
		return tea.Tick(a.cfg.CountersEvery, func(time.Time) tea.Msg { return pollTickMsg{sess, p} }), true
	}
	return nil, false
}
