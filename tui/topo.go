package tui

import (
	"fmt"
	"net/netip"
	"strings"

	tea "charm.land/bubbletea/v2"
	v1 "k8s.io/api/core/v1"
)

// topoView draws the lab as a tree: the underlay, each node on it with its pod CIDR,
// bridge and overlay, the pods on each node, then the hosts, and below the tree the
// Services kube-proxy serves on every node, with their external and LoadBalancer
// addresses (on the underlay). Nodes, hosts, pods and Services are selectable; the
// lines are built on data change and only the visible ones drawn.
type topoView struct {
	d     *labData
	svcs  *svcSet
	w, h  int
	filt  string
	lines []topoLine
	sel   []int // indexes of selectable lines
	cur   cursor
	top   int
}

type topoLine struct {
	text string
	t    target
	ok   int // 0: no readiness, 1 ready, 2 not ready (coloured)
}

func newTopoView() *topoView { return &topoView{} }

func (v *topoView) name() string       { return "topo" }
func (v *topoView) filter() string     { return v.filt }
func (v *topoView) setFilter(f string) { v.filt = f; v.rebuild() }
func (v *topoView) setData(d *labData) { v.d = d; v.rebuild() }

func (v *topoView) setServices(set *svcSet) { v.svcs = set; v.rebuild() }

func (v *topoView) setSize(w, h int) {
	wide := (v.w >= 120) != (w >= 120)
	v.w, v.h = w, h
	v.cur.setHeight(h)
	if wide {
		v.rebuild()
	}
	v.scroll()
}

// gateway is the first address of a prefix: cni0's address on a node.
func gateway(p netip.Prefix) string {
	if !p.IsValid() {
		return "-"
	}
	return netip.PrefixFrom(p.Addr().Next(), p.Bits()).String()
}

func (v *topoView) rebuild() {
	keep, had := v.selected()
	v.lines, v.sel = v.lines[:0], v.sel[:0]
	if v.d == nil {
		return
	}
	st := v.d.st
	add := func(l topoLine) {
		if l.t.Kind != "" {
			v.sel = append(v.sel, len(v.lines))
		}
		v.lines = append(v.lines, l)
	}
	f := strings.ToLower(v.filt)
	add(topoLine{text: fmt.Sprintf("underlay %s (bridge br0)", st.Underlay)})
	add(topoLine{text: fmt.Sprintf("│  overlay %s · cni %s · pods %s · services %s", st.Overlay, st.CNI, st.PodCIDR, st.ServiceCIDR)})
	add(topoLine{text: "│"})
	last := len(st.Hosts) == 0
	for i, n := range st.Nodes {
		branch, rail := "├─", "│ "
		if last && i == len(st.Nodes)-1 {
			branch, rail = "└─", "  "
		}
		add(topoLine{text: fmt.Sprintf("%s node %s  eth0 %s  %s", branch, n.Name, n.IP, n.Role), t: target{Kind: kindNode, Name: n.Name}})
		var peers []string
		for _, o := range st.Nodes {
			if o.Name != n.Name {
				peers = append(peers, o.Name)
			}
		}
		ov := "flannel.1 " + netip.PrefixFrom(n.PodCIDR.Addr(), 32).String()
		if st.Overlay == "host-gw" {
			ov = "host-gw routes"
		}
		if len(peers) > 0 {
			ov += " → " + strings.Join(peers, ", ")
		}
		pods := v.d.perNd[n.Name]
		add(topoLine{text: fmt.Sprintf("%s   │  pod CIDR %s  cni0 %s", rail, n.PodCIDR, gateway(n.PodCIDR))})
		add(topoLine{text: fmt.Sprintf("%s   │  %s", rail, ov)})
		var shown []int
		for j, p := range pods {
			if f == "" || matches(f, []string{p.Namespace, p.Name, p.IP.String(), labelString(p.Labels)}) {
				shown = append(shown, j)
			}
		}
		if len(shown) == 0 {
			what := "(no pods)"
			if len(pods) > 0 {
				what = fmt.Sprintf("(%d pods, none matches /%s)", len(pods), v.filt)
			}
			add(topoLine{text: rail + "   └─ " + what})
		}
		for k, j := range shown {
			p := pods[j]
			b := "├─"
			if k == len(shown)-1 {
				b = "└─"
			}
			state, ok := "ready", 1
			if !p.Ready {
				state, ok = "not ready", 2
				if p.Reason != "" {
					state += " (" + p.Reason + ")"
				}
			}
			text := fmt.Sprintf("%s   %s pod %s  %s  %s", rail, b, podKey(p.Namespace, p.Name), p.IP, state)
			if v.w >= 120 {
				text += "  ports " + orDash(p.Ports)
				if l := labelString(p.Labels); l != "" {
					text += "  " + l
				}
			}
			add(topoLine{text: text, t: target{kindPod, p.Namespace, p.Name}, ok: ok})
		}
		add(topoLine{text: strings.TrimRight(rail, " ")})
	}
	for i, h := range st.Hosts {
		branch := "├─"
		if i == len(st.Hosts)-1 {
			branch = "└─"
		}
		add(topoLine{text: fmt.Sprintf("%s host %s  eth0 %s  serves %s", branch, h.Name, h.IP, orDash(h.Ports)), t: target{Kind: kindHost, Name: h.Name}})
	}
	v.addServices(add, f)
	v.cur.setLen(len(v.sel))
	if had {
		for i, li := range v.sel {
			if v.lines[li].t == keep {
				v.cur.pos = i
				v.cur.clamp()
				break
			}
		}
	}
	v.scroll()
}

// scroll keeps the selected line on screen, and the header when at the top.
func (v *topoView) scroll() {
	if len(v.sel) == 0 || v.h <= 0 {
		v.top = 0
		return
	}
	line := v.sel[v.cur.pos]
	if v.cur.pos == 0 {
		v.top = 0
	}
	if line < v.top {
		v.top = line
	}
	if line >= v.top+v.h {
		v.top = line - v.h + 1
	}
	v.top = max(min(v.top, len(v.lines)-v.h), 0)
}

func (v *topoView) key(msg tea.KeyPressMsg) tea.Cmd {
	if v.cur.key(msg) {
		v.scroll()
	}
	return nil
}

func (v *topoView) render() string {
	if v.d == nil {
		return box([]string{" loading…"}, v.w, v.h)
	}
	selLine := -1
	if len(v.sel) > 0 {
		selLine = v.sel[v.cur.pos]
	}
	out := make([]string, 0, v.h)
	for i := v.top; i < len(v.lines) && i < v.top+v.h; i++ {
		l := v.lines[i]
		text := " " + l.text
		if i == selLine {
			out = append(out, stSelected.Render(cut(">"+l.text, v.w)))
			continue
		}
		switch l.ok {
		case 1:
			text = strings.Replace(cut(text, v.w), "ready", stOK.Render("ready"), 1)
		case 2:
			text = strings.Replace(cut(text, v.w), "not ready", stBad.Render("not ready"), 1)
		}
		out = append(out, text)
	}
	return box(out, v.w, v.h)
}

func (v *topoView) selected() (target, bool) {
	if v.cur.pos >= len(v.sel) {
		return target{}, false
	}
	return v.lines[v.sel[v.cur.pos]].t, true
}

// addServices adds the Services matching f (lower case) below the tree: kube-proxy
// serves each on every node, so none hangs from one node. A LoadBalancer address is
// announced on the underlay, where hosts reach it.
func (v *topoView) addServices(add func(topoLine), f string) {
	if v.svcs == nil || len(v.svcs.list) == 0 {
		return
	}
	type row struct {
		si   *svcInfo
		kube map[string]string
	}
	var shown []row
	for _, si := range v.svcs.list {
		kube := kubeCells(kindService, si.svc)
		if f == "" || matches(f, []string{si.key, kube["TYPE"], kube["CLUSTER-IP"], kube["EXTERNAL-IP"], kube["PORT(S)"]}) {
			shown = append(shown, row{si, kube})
		}
	}
	add(topoLine{})
	add(topoLine{text: fmt.Sprintf("services %s (kube-proxy on every node)", v.d.st.ServiceCIDR)})
	if len(shown) == 0 {
		add(topoLine{text: fmt.Sprintf("└─ (%d services, none matches /%s)", len(v.svcs.list), v.filt)})
	}
	for i, r := range shown {
		b := "├─"
		if i == len(shown)-1 {
			b = "└─"
		}
		si, s, kube := r.si, r.si.svc, r.kube
		text := fmt.Sprintf("%s svc %s  %s %s", b, si.key, kube["TYPE"], kube["CLUSTER-IP"])
		switch {
		case s.Spec.Type == v1.ServiceTypeExternalName:
			add(topoLine{text: fmt.Sprintf("%s svc %s  ExternalName → %s", b, si.key, s.Spec.ExternalName), t: target{kindService, s.Namespace, s.Name}})
			continue
		case s.Spec.Type == v1.ServiceTypeLoadBalancer:
			text += "  LB " + kube["EXTERNAL-IP"]
		case kube["EXTERNAL-IP"] != "<none>":
			text += "  external " + kube["EXTERNAL-IP"]
		}
		text += fmt.Sprintf("  %s  → %d ready", kube["PORT(S)"], si.ready)
		add(topoLine{text: text, t: target{kindService, s.Namespace, s.Name}})
	}
}
