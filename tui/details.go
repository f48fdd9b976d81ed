package tui

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"podlab.dev/podlab/cluster/api"
)

// detailsView shows one object: what the state says about it, then the sections the
// supervisor reads from the kernel (interfaces, routes, neighbours, nft, resolv.conf,
// CNI result). It scrolls by line.
type detailsView struct {
	t     target
	w, h  int
	head  []string // from the state
	det   *api.Details
	err   error
	lines []string // wrapped, built on change
	top   int
	// A Service's details come from the objects, not from Details.
	svc        *svcInfo
	svcCtr     *svcCounters
	svcLoading bool
}

func newDetailsView(t target) *detailsView { return &detailsView{t: t} }

func (v *detailsView) setSize(w, h int) {
	v.w, v.h = w, h
	v.build()
}

// setState refreshes the summary from the lab state.
func (v *detailsView) setState(d *labData) {
	v.head = v.head[:0]
	if d == nil {
		return
	}
	st := d.st
	switch v.t.Kind {
	case kindPod:
		for _, p := range d.pods {
			if p.Namespace == v.t.Namespace && p.Name == v.t.Name {
				r := "yes"
				if !p.Ready {
					r = "no (" + p.Reason + ")"
				}
				v.head = append(v.head, "node      "+p.Node, "ip        "+p.IP.String(), "ready     "+r,
					"ports     "+orDash(p.Ports), "labels    "+orDash(labelString(p.Labels)), "owner     "+orDash(p.Owner),
					"image     "+orDash(p.Image), "netns     "+p.Netns)
			}
		}
		if len(v.head) == 0 {
			v.head = append(v.head, "this pod is gone from the lab")
		}
	case kindNode:
		for _, n := range st.Nodes {
			if n.Name == v.t.Name {
				v.head = append(v.head, "role      "+n.Role, "ip        "+n.IP.String(), "pod CIDR  "+n.PodCIDR.String(),
					"pods      "+fmt.Sprint(len(d.perNd[n.Name])), "overlay   "+overlayOf(st.Overlay),
					"labels    "+orDash(labelString(n.Labels)), "netns     "+n.Netns)
			}
		}
	case kindHost:
		for _, h := range st.Hosts {
			if h.Name == v.t.Name {
				v.head = append(v.head, "ip        "+h.IP.String(), "serves    "+orDash(h.Ports), "netns     "+h.Netns)
			}
		}
	}
	if c, ok := d.counters(v.t); ok {
		v.head = append(v.head, fmt.Sprintf("eth0      rx %s (%d packets)  tx %s (%d packets)",
			humanBytes(float64(c.RxBytes)), c.RxPackets, humanBytes(float64(c.TxBytes)), c.TxPackets))
	}
	v.build()
}

func (v *detailsView) setService(si *svcInfo, ctr *svcCounters, loading bool) {
	v.svc, v.svcCtr, v.svcLoading = si, ctr, loading
	v.build()
}

func (v *detailsView) setDetails(det *api.Details, err error) {
	v.det, v.err = det, err
	v.build()
}

func (v *detailsView) build() {
	v.lines = v.lines[:0]
	v.lines = append(v.lines, stTitle.Render(v.t.String()))
	if v.t.Kind == kindService {
		if v.svcLoading {
			v.lines = append(v.lines, stDim.Render("  reading services from the supervisor…"))
		} else {
			v.lines = append(v.lines, serviceLines(v.svc, v.svcCtr, v.w)...)
		}
		v.top = max(min(v.top, len(v.lines)-v.h), 0)
		return
	}
	for _, l := range v.head {
		v.lines = append(v.lines, "  "+l)
	}
	switch {
	case v.err != nil:
		v.lines = append(v.lines, "", stErr.Render("  details: "+v.err.Error()))
	case v.det == nil:
		v.lines = append(v.lines, "", stDim.Render("  reading details from the supervisor…"))
	default:
		for _, s := range v.det.Sections {
			v.lines = append(v.lines, "", stTitle.Render(s.Title))
			body := strings.TrimRight(s.Body, "\n")
			if body == "" {
				body = "(empty)"
			}
			for l := range strings.SplitSeq(body, "\n") {
				l = strings.ReplaceAll(l, "\t", "    ")
				if v.w > 4 && ansi.StringWidth(l) > v.w-2 {
					l = ansi.Hardwrap(l, v.w-2, true)
				}
				for p := range strings.SplitSeq(l, "\n") {
					v.lines = append(v.lines, "  "+p)
				}
			}
		}
	}
	v.top = max(min(v.top, len(v.lines)-v.h), 0)
}

func (v *detailsView) key(msg tea.KeyPressMsg) { v.top = scrollKey(msg, v.top, v.h, len(v.lines)) }

func (v *detailsView) render() string { return scrollRender(v.lines, v.top, v.w, v.h) }

// scrollKey is top after a scrolling key, in a page h lines high over n lines.
func scrollKey(msg tea.KeyPressMsg, top, h, n int) int {
	switch msg.String() {
	case "up", "k":
		top--
	case "down", "j":
		top++
	case "pgup", "ctrl+b":
		top -= h
	case "pgdown", "ctrl+f", "space":
		top += h
	case "home", "g":
		top = 0
	case "end", "G":
		top = n
	}
	return max(min(top, n-h), 0)
}

// scrollRender draws the h lines from top.
func scrollRender(lines []string, top, w, h int) string {
	return box(lines[top:min(top+h, len(lines))], w, h)
}
