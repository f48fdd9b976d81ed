package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// View draws the whole screen. The program downsamples the colours to what the
// terminal supports and strips them on a dumb one.
func (a *App) View() tea.View {
	v := tea.NewView(a.render())
	v.AltScreen = true
	v.WindowTitle = "podlab"
	if a.inLab {
		v.WindowTitle = "podlab " + a.lab
	}
	return v
}

// render is the screen as text: header, tabs, body, status line.
func (a *App) render() string {
	if a.w == 0 || a.h == 0 {
		return ""
	}
	if a.w < 40 || a.h < 8 {
		return "podlab: the terminal is too small (40x8 at least)"
	}
	var b strings.Builder
	b.Grow(a.w * a.h * 2)
	b.WriteString(cut(a.header(), a.w))
	b.WriteByte('\n')
	b.WriteString(cut(a.tabs(), a.w))
	b.WriteByte('\n')
	b.WriteString(a.body())
	b.WriteByte('\n')
	b.WriteString(cut(a.footer(), a.w))
	return b.String()
}

func (a *App) header() string {
	if !a.inLab {
		return stHeader.Render(" podlab") + "  choose a lab"
	}
	if a.st == nil {
		return stHeader.Render(" podlab") + "  lab " + a.lab + "  " + stDim.Render("connecting…")
	}
	st := a.st
	hosts := "hosts"
	if len(st.Hosts) == 1 {
		hosts = "host"
	}
	s := fmt.Sprintf("%s  lab %s  %s %s  pods %d/%d ready  %d nodes  %d %s",
		stHeader.Render(" podlab"), stHeader.Render(st.Lab), st.Runtime, st.Overlay,
		st.ReadyCount(), len(st.Pods), len(st.Nodes), len(st.Hosts), hosts)
	if !st.Supervisor.Running {
		s += "  " + stErr.Render(orDash(st.Supervisor.Message))
	}
	return s
}

func (a *App) tabs() string {
	if !a.inLab {
		return ""
	}
	// With a filter or the details' title after the views the line can pass 80
	// columns: then the views' tabs lose their padding, so that what follows shows.
	if s := a.tabLine(true); ansi.StringWidth(s) <= a.w {
		return s
	}
	return a.tabLine(false)
}

func (a *App) tabLine(padded bool) string {
	pad := " "
	if !padded {
		pad = ""
	}
	var b strings.Builder
	b.WriteByte(' ')
	for i, v := range a.views {
		if i == a.cur && a.detail == nil && a.text == nil {
			b.WriteString(stTabOn.Render("[" + v.name() + "]"))
		} else {
			b.WriteString(stTab.Render(pad + v.name() + pad))
		}
		b.WriteByte(' ')
	}
	if a.text != nil {
		b.WriteString(stTabOn.Render("[" + a.text.title + "]"))
	} else if a.detail != nil {
		b.WriteString(stTabOn.Render("[details " + a.detail.t.String() + "]"))
	} else {
		if a.current() == view(a.ev) && a.ev.obj != nil {
			b.WriteString(" of " + a.ev.obj.String())
		}
		if f := a.current().filter(); f != "" {
			b.WriteString(" filter /" + f)
		}
	}
	return b.String()
}

func (a *App) body() string {
	h := a.bodyHeight()
	switch {
	case a.help:
		return box(helpLines(a.inLab), a.w, h)
	case !a.inLab:
		return a.picker.render()
	case a.text != nil:
		return a.text.render()
	case a.detail != nil:
		return a.detail.render()
	}
	return a.current().render()
}

func (a *App) footer() string {
	switch a.mode {
	case promptCommand, promptFilter, promptLabels:
		if a.inErr != "" {
			return stErr.Render(a.inErr) + "  " + a.in.render()
		}
		return a.in.render()
	case promptConfirm:
		return stWarn.Render("delete " + a.pending.String() + "? y/N")
	}
	if a.status != "" {
		if a.bad {
			return stErr.Render(" " + a.status)
		}
		return " " + a.status
	}
	if !a.inLab {
		return stDim.Render(" enter open  r refresh  : command  ? help  q quit")
	}
	if a.text != nil {
		return stDim.Render(" ↑↓ scroll  pgup pgdn page  g G first, last  esc back  ? help")
	}
	if a.detail != nil && a.detail.t.Kind == kindService {
		return stDim.Render(" ↑↓ scroll  r reload  esc back  ? help  (delete: podlab delete svc NAME)")
	}
	if a.detail != nil {
		return stDim.Render(" ↑↓ scroll  r reload  s shell  esc back  ? help")
	}
	if a.current() == view(a.deployv) {
		return stDim.Render(" : command  / filter  r refresh  ? help  q quit  (scale: podlab scale deploy NAME --replicas=N)")
	}
	if a.current() == view(a.dnsv) {
		return stDim.Render(" : command  / filter  enter client  s shell  ? help  q quit  (all: podlab logs -n kube-system POD)")
	}
	if a.current() == view(a.ingv) {
		return stDim.Render(" : command  / filter  enter client  s shell  ? help  q quit  (one proxy: podlab logs -n NS POD)")
	}
	if a.current() == view(a.svcv) {
		return stDim.Render(" : command  / filter  enter details  r refresh  ? help  q quit  (delete: podlab delete svc NAME)")
	}
	return stDim.Render(" : command  / filter  enter details  y yaml  l logs  ctrl-d delete  ? help")
}

func helpLines(inLab bool) []string {
	l := []string{
		stTitle.Render(" keys"),
		"",
		"   :           command line: " + CommandList(),
		"   :netpol     NetworkPolicy counters: allowed per policy, drops per pod (podlab trace: why)",
		"   :ingress    Ingress and Gateway access log: the rule each request matched",
		"   /           filter the current view (esc clears it)",
		"   enter       details of the selected pod, node, host or service",
		"   y           YAML of the selected object as stored (esc back)",
		"   l           logs of the selected pod (podlab logs; a note when it keeps none)",
		"   s           shell in the selected pod, node or host (exit returns here)",
		"   ctrl-d      delete the selected object (asks y/N); d: the same for a pod",
		"   e           edit the selected pod's labels: k=v,k2=v2",
		"   E           events of the selected object (any view; esc: every event)",
		"   r           refresh (reload the details)",
		"   N A S R T   shift+letter sorts, as k9s (again inverts): NAME, AGE, STATUS,",
		"   I O P       READY, RESTARTS or TYPE, IP, NODE, NAMESPACE; ↑ ↓ in the header",
		"   tab         next view",
		"   ↑↓ j k      move   pgup pgdn  page   g G  first, last",
		"   esc         back: close details, clear the filter, all events, the labs",
		"   q           back from details, else quit",
		"   ?           this help (? or esc closes it)",
	}
	if !inLab {
		l = append(l, "", "   enter opens the selected lab")
	}
	return l
}
