package tui

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

const kindService = "Service"

// svcInfo is one Service with its EndpointSlices and Endpoints object, decoded once
// per objects fetch (in the fetching goroutine, not while drawing).
type svcInfo struct {
	key    string // namespace/name
	svc    *v1.Service
	slices []*discoveryv1.EndpointSlice // by name
	eps    *v1.Endpoints
	ready  int // ready endpoint addresses, counted once each
}

// svcSet is every Service of the lab, by namespace then name.
type svcSet struct {
	list  []*svcInfo
	byKey map[string]*svcInfo
}

// decodeServices builds the set from the stored objects.
func decodeServices(svcs, eslices, eps []*api.StoredObject) *svcSet {
	set := &svcSet{byKey: map[string]*svcInfo{}}
	for _, o := range decodeObjects(svcs, nil, nil) {
		s, ok := o.(*v1.Service)
		if !ok {
			continue
		}
		si := &svcInfo{key: podKey(s.Namespace, s.Name), svc: s}
		set.list = append(set.list, si)
		set.byKey[si.key] = si
	}
	for _, o := range decodeObjects(eslices, nil, nil) {
		es, ok := o.(*discoveryv1.EndpointSlice)
		if !ok {
			continue
		}
		if si := set.byKey[podKey(es.Namespace, es.Labels[discoveryv1.LabelServiceName])]; si != nil {
			si.slices = append(si.slices, es)
		}
	}
	for _, o := range decodeObjects(eps, nil, nil) {
		if e, ok := o.(*v1.Endpoints); ok {
			if si := set.byKey[podKey(e.Namespace, e.Name)]; si != nil {
				si.eps = e
			}
		}
	}
	for _, si := range set.list {
		seen := map[string]bool{}
		for _, es := range si.slices {
			for _, e := range es.Endpoints {
				if len(e.Addresses) == 0 || seen[e.Addresses[0]] || !condTrue(e.Conditions.Ready, true) {
					continue
				}
				seen[e.Addresses[0]] = true
				si.ready++
			}
		}
	}
	return set
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func condTrue(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func lbIngress(s *v1.Service) []string {
	var ips []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		if in.IP != "" {
			ips = append(ips, in.IP)
		} else if in.Hostname != "" {
			ips = append(ips, in.Hostname)
		}
	}
	return ips
}

func protoOf(p v1.Protocol) string {
	if p == "" {
		return string(v1.ProtocolTCP)
	}
	return string(p)
}

// humanCount is at most 5 cells wide: 9999, 12.3k, 123k, 1.2M.
func humanCount(v uint64) string {
	if v < 10000 {
		return strconv.FormatUint(v, 10)
	}
	f := float64(v)
	for _, u := range []string{"k", "M", "G", "T"} {
		f /= 1000
		if f < 99.95 {
			return fmt.Sprintf("%.1f%s", f, u)
		}
		if f < 999.5 || u == "T" {
			return fmt.Sprintf("%.0f%s", f, u)
		}
	}
	return ""
}

// svcCounters is the last ServiceCounters sample and the rates from the one before.
type svcCounters struct {
	cs    *api.CounterSet
	rates map[string]float64 // "svc/ns/name", "ep/<endpoint key>" -> bytes/s
}

func computeSvcRates(prev, cur *api.CounterSet) map[string]float64 {
	dt, ok := rateWindow(prev, cur)
	if !ok {
		return nil
	}
	out := map[string]float64{}
	delta := func(p, c api.PacketCount) (uint64, bool) { return c.Bytes - p.Bytes, c.Bytes >= p.Bytes }
	addRates(out, "svc/", prev.Services, cur.Services, dt, delta)
	addRates(out, "ep/", prev.Endpoints, cur.Endpoints, dt, delta)
	return out
}

// cells returns packets, bytes and rate of a Service ("svc/") or endpoint ("ep/").
func (c *svcCounters) cells(prefix, key string) (pk, by, rate string) {
	if c == nil || c.cs == nil {
		return "-", "-", "-"
	}
	m := c.cs.Services
	if prefix == "ep/" {
		m = c.cs.Endpoints
	}
	pc, ok := m[key]
	if !ok {
		return "-", "-", "-"
	}
	rate = "-"
	if r, ok := c.rates[prefix+key]; ok {
		rate = humanBytes(r) + "/s"
	}
	return humanCount(pc.Packets), humanBytes(float64(pc.Bytes)), rate
}

// servicesView is `kubectl get svc -A -o wide` with the ready endpoints and
// kube-proxy's counters after kubectl's columns.
type servicesView struct {
	set    *svcSet
	err    error
	ctr    *svcCounters
	now    func() time.Time
	w, h   int
	filt   string
	rows   []*svcInfo
	cellsR [][]string
	sort   tableSort
	kube   kubeCols
	cols   []column
	nat    []int
	cur    cursor
	// indexes in cols
	ext, age, selector, endp, packets, bytes, rate int
}

// svcKubeLayout lays out printers' Service columns: all of them, SELECTOR (a wide
// one) included. EXTERNAL-IP keeps any IPv4 address and PORT(S) a NodePort's
// "8080:30080/TCP" whole: at 80 columns NAME is cut and ENDPOINTS (in the details)
// left out before them.
var svcKubeLayout = map[string]column{
	"NAME":        {max: 32, min: 8, prio: 11},
	"TYPE":        {max: 12, prio: 8},
	"CLUSTER-IP":  {max: 15, prio: 10},
	"EXTERNAL-IP": {max: 24, min: 15, prio: 7},
	"PORT(S)":     {max: 28, min: 15, prio: 6},
	"AGE":         {fixed: 5, prio: 1},
	"SELECTOR":    {max: 40, min: 8, prio: 0},
}

func newServicesView(now func() time.Time) *servicesView {
	v := &servicesView{now: now}
	var kube []column
	v.kube, kube = newKubeCols(kindService, svcKubeLayout)
	v.cols = append([]column{{title: "NAMESPACE", max: 16, min: 9, prio: 9}}, kube...)
	v.cols = append(v.cols,
		column{title: "ENDPOINTS", right: true, prio: 5},
		column{title: "PACKETS", fixed: 5, right: true, prio: 3},
		column{title: "BYTES", fixed: 5, right: true, prio: 2},
		column{title: "RATE", fixed: 6, right: true, prio: 4})
	v.ext, v.age, v.selector = colIndex(v.cols, "EXTERNAL-IP"), colIndex(v.cols, "AGE"), colIndex(v.cols, "SELECTOR")
	v.endp, v.packets, v.bytes, v.rate = colIndex(v.cols, "ENDPOINTS"), colIndex(v.cols, "PACKETS"), colIndex(v.cols, "BYTES"), colIndex(v.cols, "RATE")
	return v
}

func (v *servicesView) name() string       { return "svc" }
func (v *servicesView) filter() string     { return v.filt }
func (v *servicesView) setFilter(f string) { v.filt = f; v.rebuild() }
func (v *servicesView) setData(*labData)   {}

func (v *servicesView) setServices(set *svcSet, err error) {
	v.set, v.err = set, err
	v.rebuild()
}

func (v *servicesView) setSize(w, h int) {
	v.w, v.h = w, h
	v.cur.setHeight(h - 1)
	v.relayout()
}

func (v *servicesView) rebuild() {
	var keep string
	if t, ok := v.selected(); ok {
		keep = podKey(t.Namespace, t.Name)
	}
	v.rows, v.cellsR = v.rows[:0], v.cellsR[:0]
	if v.set != nil {
		f := strings.ToLower(v.filt)
		now := v.now()
		for _, s := range v.set.list {
			cells := append([]string{s.svc.Namespace}, v.kube.static(s.svc, now)...)
			cells = append(cells, strconv.Itoa(s.ready))
			if f != "" && !matches(f, cells) {
				continue
			}
			v.rows = append(v.rows, s)
			v.cellsR = append(v.cellsR, cells)
		}
	}
	ord := v.sort.order(v.cols, len(v.rows), func(r, c int) string {
		if c < len(v.cellsR[r]) {
			return v.cellsR[r][c]
		}
		return ""
	})
	v.rows, v.cellsR = permute(v.rows, ord), permute(v.cellsR, ord)
	v.sort.mark(v.cols)
	v.cur.setLen(len(v.rows))
	if keep != "" {
		for i, s := range v.rows {
			if s.key == keep {
				v.cur.pos = i
				v.cur.clamp()
				break
			}
		}
	}
	v.nat = naturalWidths(v.cols, len(v.rows), func(r, c int) string {
		if c < len(v.cellsR[r]) {
			return v.cellsR[r][c]
		}
		return ""
	})
	v.relayout()
}

// relayout lays the columns out, leaving out the optional ones (selector, age,
// bytes, packets, in that order) while they keep a kubectl column from its full width.
func (v *servicesView) relayout() {
	if v.nat == nil || v.w <= 0 {
		return
	}
	drop := []int{v.selector, v.age, v.bytes, v.packets}
	for n := 0; ; n++ {
		var idx []int
		for i := range v.cols {
			if !slices.Contains(drop[:n], i) {
				idx = append(idx, i)
			}
		}
		sub := make([]column, len(idx))
		nat := make([]int, len(idx))
		for j, i := range idx {
			sub[j], nat[j] = v.cols[i], v.nat[i]
		}
		layout(sub, nat, v.w-1)
		full := true
		for j, i := range idx {
			if !slices.Contains(drop, i) && sub[j].width < fullWidth(sub[j], nat[j]) {
				full = false
			}
		}
		if full || n == len(drop) {
			for i := range v.cols {
				v.cols[i].width = 0
			}
			for j, i := range idx {
				v.cols[i].width = sub[j].width
			}
			return
		}
	}
}

// fullWidth is the width layout wants for a column.
func fullWidth(c column, nat int) int {
	tw := len(c.title)
	w := max(nat, tw, c.fixed)
	if c.max > 0 && w > c.max {
		w = max(c.max, tw)
	}
	return w
}

func (v *servicesView) cell(r, c int) string {
	switch {
	case c == v.packets || c == v.bytes || c == v.rate:
		pk, by, rate := v.ctr.cells("svc/", v.rows[r].key)
		switch c {
		case v.packets:
			return pk
		case v.bytes:
			return by
		}
		return rate
	case c >= 1 && c <= len(v.kube.at):
		return v.kube.cell(v.rows[r].svc, c-1)
	}
	return v.cellsR[r][c]
}

func (v *servicesView) style(r, c int, s string) string {
	if c == v.endp && v.rows[r].ready == 0 && v.rows[r].svc.Spec.Type != v1.ServiceTypeExternalName {
		return stWarn.Render(s)
	}
	if c == v.ext && strings.Contains(s, "<pending>") {
		return stWarn.Render(s)
	}
	return s
}

func (v *servicesView) key(msg tea.KeyPressMsg) tea.Cmd {
	tableKey(msg, &v.sort, v.cols, &v.cur, v.rebuild)
	return nil
}

func (v *servicesView) render() string {
	if v.set == nil {
		if v.err != nil {
			return box([]string{stErr.Render(" services: " + v.err.Error())}, v.w, v.h)
		}
		return box([]string{" loading…"}, v.w, v.h)
	}
	v.kube.frame(v.now())
	lines := renderTable(v.cols, &v.cur, v.cell, v.style)
	if len(v.rows) == 0 {
		if v.filt != "" {
			lines = append(lines, stDim.Render(" no service matches /"+v.filt))
		} else {
			lines = append(lines, stDim.Render(" this lab has no services (podlab apply -f a Service manifest)"))
		}
	}
	return box(lines, v.w, v.h)
}

func (v *servicesView) selected() (target, bool) {
	if v.cur.pos >= len(v.rows) {
		return target{}, false
	}
	s := v.rows[v.cur.pos]
	return target{kindService, s.svc.Namespace, s.svc.Name}, true
}

// serviceLines is the details of one Service: its spec, its endpoints from the
// EndpointSlices with their counters, and the Endpoints object.
func serviceLines(si *svcInfo, ctr *svcCounters, w int) []string {
	if si == nil {
		return []string{"  this service is gone from the lab"}
	}
	s := si.svc
	var l []string
	kv := func(k, v string) { l = append(l, "  "+fit(k, 25)+v) }
	kube := kubeCells(kindService, s)
	kv("type", kube["TYPE"])
	kv("cluster IP", kube["CLUSTER-IP"])
	if len(s.Spec.ClusterIPs) > 1 {
		kv("cluster IPs", strings.Join(s.Spec.ClusterIPs, ","))
	}
	kv("external IP", kube["EXTERNAL-IP"])
	if ips := lbIngress(s); len(ips) > 0 {
		kv("load balancer ingress", strings.Join(ips, ","))
	}
	for _, p := range s.Spec.Ports {
		desc := fmt.Sprintf("%d/%s → %s", p.Port, protoOf(p.Protocol), p.TargetPort.String())
		if p.TargetPort.String() == "0" || p.TargetPort.String() == "" {
			desc = fmt.Sprintf("%d/%s", p.Port, protoOf(p.Protocol))
		}
		if p.NodePort != 0 {
			desc += fmt.Sprintf("  nodePort %d", p.NodePort)
		}
		kv("port "+orDash(p.Name), desc)
	}
	kv("selector", kube["SELECTOR"])
	kv("session affinity", orNone(string(s.Spec.SessionAffinity)))
	if s.Spec.SessionAffinityConfig != nil && s.Spec.SessionAffinityConfig.ClientIP != nil && s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds != nil {
		kv("affinity timeout", fmt.Sprintf("%ds", *s.Spec.SessionAffinityConfig.ClientIP.TimeoutSeconds))
	}
	if s.Spec.ExternalTrafficPolicy != "" {
		kv("external traffic policy", string(s.Spec.ExternalTrafficPolicy))
	}
	if s.Spec.InternalTrafficPolicy != nil {
		kv("internal traffic policy", string(*s.Spec.InternalTrafficPolicy))
	}
	if s.Spec.PublishNotReadyAddresses {
		kv("publish not ready", "yes")
	}
	if len(s.Labels) > 0 {
		kv("labels", labelString(s.Labels))
	}
	pk, by, rate := ctr.cells("svc/", si.key)
	kv("traffic", fmt.Sprintf("%s packets  %s bytes  %s", pk, by, rate))

	// The endpoints, one row per slice port and address, as kube-proxy counts them.
	type epRow struct{ addr, port, node, pod, r, s, t, pk, by, rate string }
	var rows []epRow
	addrs := map[string]bool{}
	for _, es := range si.slices {
		for _, sp := range es.Ports {
			name := ""
			if sp.Name != nil {
				name = *sp.Name
			}
			port := 0
			if sp.Port != nil {
				port = int(*sp.Port)
			}
			proto := v1.ProtocolTCP
			if sp.Protocol != nil {
				proto = *sp.Protocol
			}
			for _, e := range es.Endpoints {
				if len(e.Addresses) == 0 {
					continue
				}
				addrs[e.Addresses[0]] = true
				ep := e.Addresses[0] + ":" + strconv.Itoa(port)
				key := si.key
				if name != "" {
					key += ":" + name
				}
				key += "@" + ep
				r := epRow{addr: ep, port: orDash(name) + "/" + string(proto), node: "-", pod: "-"}
				if e.NodeName != nil {
					r.node = *e.NodeName
				}
				if e.TargetRef != nil {
					r.pod = e.TargetRef.Name
				}
				ready := condTrue(e.Conditions.Ready, true)
				r.r, r.s, r.t = yesNo(ready), yesNo(condTrue(e.Conditions.Serving, ready)), yesNo(condTrue(e.Conditions.Terminating, false))
				r.pk, r.by, r.rate = ctr.cells("ep/", key)
				rows = append(rows, r)
			}
		}
	}
	l = append(l, "", stTitle.Render(fmt.Sprintf("endpoints (%d ready of %d, EndpointSlices: %d)", si.ready, len(addrs), len(si.slices))))
	if len(rows) == 0 {
		if s.Spec.Type == v1.ServiceTypeExternalName {
			l = append(l, "  (none: an ExternalName service is a DNS CNAME)")
		} else {
			l = append(l, "  (none: no ready pod matches the selector)")
		}
	} else {
		wd := [4]int{len("ADDRESS"), len("PORT"), len("NODE"), len("POD")}
		for _, r := range rows {
			wd[0], wd[1], wd[2], wd[3] = max(wd[0], len(r.addr)), max(wd[1], len(r.port)), max(wd[2], len(r.node)), max(wd[3], len(r.pod))
		}
		wd[3] = min(wd[3], 40)
		line := func(r epRow) string {
			return strings.TrimRight("  "+fit(r.addr, wd[0])+"  "+fit(r.port, wd[1])+"  "+fit(r.r, 5)+"  "+fitRight(r.pk, 7)+"  "+fitRight(r.by, 5)+
				"  "+fitRight(r.rate, 6)+"  "+fit(r.node, wd[2])+"  "+fit(r.pod, wd[3])+"  "+fit(r.s, 7)+"  "+r.t, " ")
		}
		l = append(l, stColHead.Render(line(epRow{"ADDRESS", "PORT", "NODE", "POD", "READY", "SERVING", "TERMINATING", "PACKETS", "BYTES", "RATE"})))
		for _, r := range rows {
			l = append(l, line(r))
		}
	}
	if len(si.slices) > 0 {
		l = append(l, "", stTitle.Render("EndpointSlices"))
		for _, es := range si.slices {
			l = append(l, fmt.Sprintf("  %s  %s  %d endpoints", es.Name, es.AddressType, len(es.Endpoints)))
		}
	}
	l = append(l, "", stTitle.Render("Endpoints "+si.key))
	if si.eps == nil {
		l = append(l, "  (no Endpoints object)")
	} else if len(si.eps.Subsets) == 0 {
		l = append(l, "  subsets  <none>")
	}
	if si.eps != nil {
		for i, ss := range si.eps.Subsets {
			var ready, notReady, ports []string
			for _, a := range ss.Addresses {
				ready = append(ready, a.IP)
			}
			for _, a := range ss.NotReadyAddresses {
				notReady = append(notReady, a.IP)
			}
			for _, p := range ss.Ports {
				ports = append(ports, strings.TrimPrefix(orDash(p.Name)+" ", "- ")+strconv.Itoa(int(p.Port))+"/"+protoOf(p.Protocol))
			}
			l = append(l, fmt.Sprintf("  subset %d", i+1))
			l = append(l, wrapKV("    addresses        ", orNone(strings.Join(ready, ",")), w)...)
			l = append(l, wrapKV("    not ready        ", orNone(strings.Join(notReady, ",")), w)...)
			l = append(l, wrapKV("    ports            ", orNone(strings.Join(ports, ",")), w)...)
		}
	}
	return l
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// wrapKV writes a long comma list under its key, wrapped at commas to w cells.
func wrapKV(key, val string, w int) []string {
	room := w - len(key)
	if room < 20 || len(val) <= room {
		return []string{key + val}
	}
	var out []string
	pad := strings.Repeat(" ", len(key))
	cur := key
	curLen := 0
	for i, part := range strings.Split(val, ",") {
		if i > 0 {
			part = "," + part
		}
		if curLen > 0 && curLen+len(part) > room {
			out = append(out, cur)
			cur, curLen = pad, 0
			part = strings.TrimPrefix(part, ",")
		}
		cur += part
		curLen += len(part)
	}
	return append(out, cur)
}

// --- fetching ---

type (
	objectsMsg struct {
		sess int
		set  *svcSet
		err  error
	}
	objFetchNowMsg     struct{ sess int }
	svcCountersTickMsg struct{ sess int }
	svcCountersMsg     struct {
		sess int
		cs   *api.CounterSet
		err  error
	}
)

func (a *App) fetchObjects() tea.Cmd {
	src, ctx, sess := a.src, a.ctx, a.sess
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		var lists [3][]*api.StoredObject
		for i, kind := range []string{"Service", "EndpointSlice", "Endpoints"} {
			l, err := src.Objects(c, kind, "")
			if err != nil {
				return objectsMsg{sess: sess, err: err}
			}
			lists[i] = l
		}
		return objectsMsg{sess: sess, set: decodeServices(lists[0], lists[1], lists[2])}
	}
}

// requestObjects fetches the Services again, coalesced like the state: one request
// in flight, at most one per coalescing period.
func (a *App) requestObjects() tea.Cmd {
	if a.objFetching {
		a.objDirty = true
		return nil
	}
	if a.objScheduled {
		return nil
	}
	wait := a.cfg.Coalesce - time.Since(a.objLast)
	if wait <= 0 {
		a.objFetching = true
		return a.fetchObjects()
	}
	a.objScheduled = true
	sess := a.sess
	return tea.Tick(wait, func(time.Time) tea.Msg { return objFetchNowMsg{sess} })
}

// servicesShown says whether the screen shows service counters (the view or a
// Service's details): only then are they polled.
func (a *App) servicesShown() bool {
	if !a.inLab || a.svcv == nil {
		return false
	}
	if a.detail != nil {
		return a.detail.t.Kind == kindService
	}
	return a.current() == view(a.svcv)
}

// syncSvcPolling starts the counters loop when the services are shown; the loop
// stops by itself at its next tick once they are not.
func (a *App) syncSvcPolling() tea.Cmd {
	if a.svcPolling || !a.servicesShown() {
		return nil
	}
	a.svcPolling = true
	return a.fetchSvcCounters()
}

func (a *App) fetchSvcCounters() tea.Cmd {
	src, ctx, sess := a.src, a.ctx, a.sess
	return func() tea.Msg {
		c, cancel := context.WithTimeout(ctx, requestTimeout)
		defer cancel()
		cs, err := src.ServiceCounters(c)
		return svcCountersMsg{sess: sess, cs: cs, err: err}
	}
}

// onServiceMsg handles the services' messages; ok is false for other messages.
func (a *App) onServiceMsg(msg tea.Msg) (cmd tea.Cmd, ok bool) {
	switch msg := msg.(type) {
	case objectsMsg:
		if msg.sess != a.sess {
			return nil, true
		}
		a.objFetching = false
		a.objLast = time.Now()
		if msg.err != nil {
			a.svcv.setServices(a.svcs, msg.err)
			if a.svcs == nil || a.servicesShown() {
				a.setStatus("services: "+msg.err.Error(), true)
			}
		} else {
			a.svcs = msg.set
			a.svcv.setServices(msg.set, nil)
			a.topov.setServices(msg.set)
			a.refreshServiceDetails()
		}
		if a.objDirty {
			a.objDirty = false
			return a.requestObjects(), true
		}
		return nil, true
	case objFetchNowMsg:
		if msg.sess == a.sess {
			a.objScheduled = false
			return a.requestObjects(), true
		}
		return nil, true
	case svcCountersTickMsg:
		if msg.sess != a.sess {
			return nil, true
		}
		if !a.servicesShown() {
			a.svcPolling = false
			return nil, true
		}
		return a.fetchSvcCounters(), true
	case svcCountersMsg:
		if msg.sess != a.sess {
			return nil, true
		}
		if msg.err != nil {
			if a.servicesShown() {
				a.setStatus("service counters: "+msg.err.Error(), true)
			}
		} else if msg.cs != nil {
			var prev *api.CounterSet
			if a.svcCtr != nil {
				prev = a.svcCtr.cs
			}
			a.svcCtr = &svcCounters{cs: msg.cs, rates: computeSvcRates(prev, msg.cs)}
			a.svcv.ctr = a.svcCtr
			a.refreshServiceDetails()
		}
		if !a.servicesShown() {
			a.svcPolling = false
			return nil, true
		}
		sess := a.sess
		return tea.Tick(a.cfg.CountersEvery, func(time.Time) tea.Msg { return svcCountersTickMsg{sess} }), true
	}
	return nil, false
}

// refreshServiceDetails rebuilds the open Service details.
func (a *App) refreshServiceDetails() {
	if a.detail == nil || a.detail.t.Kind != kindService {
		return
	}
	var si *svcInfo
	if a.svcs != nil {
		si = a.svcs.byKey[podKey(a.detail.t.Namespace, a.detail.t.Name)]
	}
	a.detail.setService(si, a.svcCtr, a.svcs == nil)
}

// serviceEvent says whether an event changes the Services, their slices or status.
func serviceEvent(typ, kind string) bool {
	switch typ {
	case events.EndpointsChanged, events.LoadBalancerAnnounced:
		return true
	case events.ObjectApplied, events.ObjectDeleted:
		return kind == kindService || kind == "EndpointSlice" || kind == "Endpoints" || kind == ""
	}
	return false
}
