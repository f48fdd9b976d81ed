package cluster

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/dns"
	"podlab.dev/podlab/cluster/ingress"
	"podlab.dev/podlab/cluster/ingress/proxy"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/workload"
)

// Query log sizes and limits.
const (
	queriesKept     = 2000 // per DNS server
	queryEventsPerS = 20   // DNS queries that become lab events each second, per lab
	followBuffer    = 4096 // queries a `logs -f` reader may fall behind by
)

// newQueryLog makes the lab's query log, whose events go to the lab's event hub.
func (s *Supervisor) newQueryLog() *queryLog {
	limit := newEventLimit(queryEventsPerS, func(hidden int, servers []string) {
		var where []string
		for _, srv := range servers {
			where = append(where, "podlab logs "+logsArgs(srv))
		}
		s.events.emit(events.Event{Type: events.DNSQuery, Kind: "Lab", Name: s.plan.Lab,
			Message: fmt.Sprintf("%s not shown; see %s", moreQueries(hidden), strings.Join(where, ", "))})
	})
	return newQueryLog(queriesKept, limit, func(q dns.Query) { s.events.emit(s.queryEvent(q)) })
}

func moreQueries(n int) string {
	if n == 1 {
		return "1 more query"
	}
	return fmt.Sprintf("%d more queries", n)
}

// logsArgs is how `podlab logs` names a server: -n NS POD, or a host's name.
func logsArgs(server string) string {
	if ns, name, ok := strings.Cut(server, "/"); ok {
		return "-n " + ns + " " + name
	}
	return server
}

// queryEvent is a query as a lab event, on the object that sent it when the lab has
// it: "A web.default.svc.cluster.local. NOERROR 0.21ms -> 10.96.12.34 (coredns-xxx)".
func (s *Supervisor) queryEvent(q dns.Query) events.Event {
	from := s.addressBook().from(q.Client)
	e := events.Event{Time: q.Time, Type: events.DNSQuery, Kind: from.Kind, Namespace: from.Namespace, Name: from.Name}
	if from.Kind == "" {
		e.Name = clientIP(q.Client)
	}
	_, server, _ := strings.Cut(q.Server, "/")
	if server == "" {
		server = q.Server
	}
	rec := wireRecord(q)
	e.Message = fmt.Sprintf("%s %s %s %s", q.Type, q.Name, q.Rcode, rec.Latency())
	if a := rec.AnswerData(); a != "" {
		e.Message += " -> " + a
	} else if q.Rcode == "NOERROR" {
		e.Message += ", no " + q.Type + " records" // NODATA
	}
	e.Message += " (" + server + ")"
	return e
}

func clientIP(client string) string {
	if ap, err := netip.ParseAddrPort(client); err == nil {
		return ap.Addr().String()
	}
	return client
}

// addressBook finds the object an address belongs to now: a pod (by status.podIP,
// not on the host network), a node (its underlay address, its cni0 gateway and its
// flannel.1 address, which it sends from to pods), a host. Queries are resolved
// when read, not when made: a pod's address can since have gone to a new pod.
type addressBook map[netip.Addr]api.ObjectRef

func newAddressBook(pods []*corev1.Pod, p *plan.Plan) addressBook {
	b := addressBook{}
	for _, n := range p.Nodes {
		ref := api.ObjectRef{Kind: "Node", Name: n.Name}
		b[n.IP.Addr()] = ref
		if n.PodCIDR.IsValid() {
			b[n.PodCIDR.Masked().Addr()] = ref
		}
		if n.Gateway.IsValid() {
			b[n.Gateway] = ref
		}
	}
	for _, h := range p.Hosts {
		b[h.IP.Addr()] = api.ObjectRef{Kind: "Host", Name: h.Name}
	}
	for _, pod := range pods {
		if pod.Spec.HostNetwork || pod.DeletionTimestamp != nil {
			continue
		}
		if a, err := netip.ParseAddr(pod.Status.PodIP); err == nil {
			b[a] = api.ObjectRef{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name}
		}
	}
	return b
}

// from is the object that has the address of client ("ip:port"); none: Kind empty.
func (b addressBook) from(client string) api.ObjectRef {
	a, err := netip.ParseAddr(clientIP(client))
	if err != nil {
		return api.ObjectRef{}
	}
	return b[a.Unmap()]
}

func (s *Supervisor) addressBook() addressBook {
	var pods []*corev1.Pod
	for _, o := range s.store.List("Pod", "") {
		pods = append(pods, o.(*corev1.Pod))
	}
	return newAddressBook(pods, s.plan)
}

func wireQuery(q dns.Query, b addressBook) *api.DNSQuery {
	return &api.DNSQuery{QueryRecord: wireRecord(q), From: b.from(q.Client)}
}

// wireRecord is q on the wire, its answer made text.
func wireRecord(q dns.Query) api.QueryRecord {
	q.Text()
	return api.QueryRecord{Time: q.Time, Server: q.Server, Client: q.Client, Proto: q.Proto, ID: q.ID, Name: q.Name, Type: q.Type,
		Class: q.Class, Size: q.Size, DO: q.DO, BufSize: q.BufSize, Rcode: q.Rcode, Flags: q.Flags, Answers: q.Answers,
		RespSize: q.RespSize, Took: q.Took, Upstream: q.Upstream}
}

// logRoutes serves `podlab logs` and the TUI's :dns and :ingress views.
func (s *Supervisor) logRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET "+api.PathLogs+"pod/{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		ns, name := r.PathValue("namespace"), r.PathValue("name")
		o, ok := s.store.Get("Pod", ns, name)
		if !ok {
			reply(w, nil, fmt.Errorf("pod %s/%s: %w", ns, name, api.ErrNotFound))
			return
		}
		pod := o.(*corev1.Pod)
		if ingress.Serves(pod) {
			s.serveAccessLog(w, r, ns+"/"+name)
			return
		}
		if !isCoreDNS(pod) {
			s.serveRequestLog(w, r, ns, name)
			return
		}
		s.serveQueryLog(w, r, ns+"/"+name, s.coreDNSStartup(pod))
	})
	mux.HandleFunc("GET "+api.PathLogs+"host/{name}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		h, ok := s.plan.Host(name)
		if !ok {
			reply(w, nil, fmt.Errorf("host %s: %w", name, api.ErrNotFound))
			return
		}
		if len(h.Zones) == 0 {
			s.writeNote(w, fmt.Sprintf("host %s serves no DNS zones, and its built-in servers keep no logs", name))
			return
		}
		s.serveQueryLog(w, r, name, nil)
	})
	mux.HandleFunc("GET "+api.PathDNSQueries, func(w http.ResponseWriter, r *http.Request) {
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit <= 0 || limit > queriesKept {
			limit = 500
		}
		b := s.addressBook()
		out := []*api.DNSQuery{}
		for _, q := range s.queries.recent(limit) {
			out = append(out, wireQuery(q, b))
		}
		reply(w, out, nil)
	})
	mux.HandleFunc("GET "+api.PathAccessLog, func(w http.ResponseWriter, r *http.Request) {
		limit, err := strconv.Atoi(r.URL.Query().Get("limit"))
		if err != nil || limit <= 0 {
			limit = 500
		}
		out := []*api.AccessEntry{}
		if s.ingress == nil {
			reply(w, out, nil)
			return
		}
		es := s.ingress.Log().All(limit)
		b := s.addressBook()
		for i := len(es) - 1; i >= 0; i-- { // newest first, as the DNS queries
			out = append(out, wireAccess(es[i], b))
		}
		reply(w, out, nil)
	})
}

// wireAccess is a proxy's log entry on the wire, its rule and backend made text.
func wireAccess(e proxy.Entry, b addressBook) *api.AccessEntry {
	a := &api.AccessEntry{Time: e.Time, Pod: e.Pod, Frontend: e.Frontend, Listener: e.Listener, Client: e.Client,
		Method: e.Method, Host: e.Host, Path: e.Path, Proto: e.Proto, Status: e.Status, Bytes: e.BytesSent,
		DurationMs: float64(e.Duration) / float64(time.Millisecond), Upstream: e.Upstream, UpstreamStatus: e.UpstreamStatus,
		From: b.from(e.Client)}
	if e.Matched.Kind != "" {
		a.Matched = proxy.Matched(e.Matched)
	}
	if e.Service != "" {
		a.Backend = e.Namespace + "/" + e.Service + ":" + strconv.Itoa(int(e.ServicePort))
	}
	return a
}

func (s *Supervisor) writeNote(w http.ResponseWriter, note string) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	json.NewEncoder(w).Encode(api.LogLine{Time: time.Now(), Note: note})
}

// serveQueryLog streams a DNS server's log as NDJSON api.LogLines: the startup lines,
// then one line per query as CoreDNS's log plugin writes it, selected by the
// request's since and tail as kubectl logs does; with follow, each new query as it
// comes.
func (s *Supervisor) serveQueryLog(w http.ResponseWriter, r *http.Request, server string, startup []api.LogLine) {
	follow, since, tail, ok := logParams(w, r)
	if !ok {
		return
	}
	var past []dns.Query
	var sub *querySub
	if follow {
		var stop func()
		past, sub, stop = s.queries.follow(server, followBuffer)
		defer stop()
	} else {
		past = s.queries.queries(server)
	}
	b := s.addressBook()
	lines := make([]api.LogLine, 0, len(startup)+len(past))
	for _, l := range startup {
		if !l.Time.Before(since) {
			lines = append(lines, l)
		}
	}
	for _, q := range past {
		if !q.Time.Before(since) {
			lines = append(lines, api.LogLine{Time: q.Time, Line: q.String(), Query: wireQuery(q, b)})
		}
	}
	if tail >= 0 && tail < len(lines) {
		lines = lines[len(lines)-tail:]
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, l := range lines {
		if enc.Encode(l) != nil {
			return
		}
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	if sub == nil {
		return
	}
	built := time.Now()
	for {
		select {
		case <-r.Context().Done():
			return
		case q := <-sub.ch:
			if n := sub.dropped.Swap(0); n > 0 {
				enc.Encode(api.LogLine{Time: time.Now(), Note: fmt.Sprintf("%d queries not shown: this reader fell behind", n)})
			}
			if b.from(q.Client).Kind == "" && time.Since(built) > time.Second { // a pod made since
				b, built = s.addressBook(), time.Now()
			}
			if enc.Encode(api.LogLine{Time: q.Time, Line: q.String(), Query: wireQuery(q, b)}) != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
	}
}

// coreDNSBuilds are the build lines CoreDNS prints at startup, by version, for the
// images kubeadm deploys.
var coreDNSBuilds = map[string]string{
	"1.11.3": "go1.21.11, a6338e9",
}

// coreDNSStartup is what a CoreDNS pod prints when it starts, as `kubectl logs` shows
// for kubeadm's add-on: the server block, the reload plugin's hash of the Corefile,
// the version and the build.
func (s *Supervisor) coreDNSStartup(pod *corev1.Pod) []api.LogLine {
	at := s.started
	if pod.Status.StartTime != nil {
		at = pod.Status.StartTime.Time
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running != nil {
			at = cs.State.Running.StartedAt.Time
		}
	}
	corefile := ""
	for _, v := range pod.Spec.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		if o, ok := s.store.Get("ConfigMap", pod.Namespace, v.ConfigMap.Name); ok {
			corefile = o.(*corev1.ConfigMap).Data["Corefile"]
		}
	}
	sum := sha512.Sum512([]byte(corefile))
	version := CoreDNSImage[strings.LastIndex(CoreDNSImage, ":")+2:]
	if img := pod.Spec.Containers[0].Image; strings.Contains(img, ":v") {
		version = img[strings.LastIndex(img, ":v")+2:]
	}
	text := []string{".:53", "[INFO] plugin/reload: Running configuration SHA512 = " + hex.EncodeToString(sum[:]), "CoreDNS-" + version}
	if build, ok := coreDNSBuilds[version]; ok {
		text = append(text, "linux/"+runtime.GOARCH+", "+build)
	}
	out := make([]api.LogLine, len(text))
	for i, t := range text {
		out[i] = api.LogLine{Time: at, Line: t}
	}
	return out
}

// logParams reads a log request's follow, since and tail (-1: all), as kubectl logs
// takes them; false after answering a bad one.
func logParams(w http.ResponseWriter, r *http.Request) (follow bool, since time.Time, tail int, ok bool) {
	qv := r.URL.Query()
	follow, tail = qv.Get("follow") != "", -1
	if v := qv.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			http.Error(w, "since: expected an RFC 3339 time", http.StatusBadRequest)
			return
		}
		since = t
	}
	if v := qv.Get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			http.Error(w, "tail: expected a number", http.StatusBadRequest)
			return
		}
		tail = n
	}
	return follow, since, tail, true
}

// serveRequestLog streams an ordinary pod's log: a line per request its built-in
// servers answered, as its image logs them (nginx's access log, agnhost's lines,
// podlab's own), kubelet's probes included (user agent kube-probe), as kubectl logs
// shows a container's output; with follow, new requests as they come (read every
// quarter of a second).
func (s *Supervisor) serveRequestLog(w http.ResponseWriter, r *http.Request, ns, name string) {
	follow, since, tail, ok := logParams(w, r)
	if !ok {
		return
	}
	var reqs []workload.Request
	var style workload.LogStyle
	running := false
	if s.kubelet != nil {
		reqs, style, running = s.kubelet.Requests(ns, name)
	}
	if !running {
		s.writeNote(w, fmt.Sprintf("pod %s/%s has no running container yet", ns, name))
		return
	}
	var lines []api.LogLine
	for _, q := range reqs {
		if !q.Time.Before(since) {
			lines = append(lines, api.LogLine{Time: q.Time, Line: q.Format(style)})
		}
	}
	if tail >= 0 && tail < len(lines) {
		lines = lines[len(lines)-tail:]
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	last := since
	for _, l := range lines {
		if enc.Encode(l) != nil {
			return
		}
		last = l.Time
	}
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	for follow {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
		reqs, style, _ = s.kubelet.Requests(ns, name)
		for _, q := range reqs {
			if q.Time.After(last) {
				if enc.Encode(api.LogLine{Time: q.Time, Line: q.Format(style)}) != nil {
					return
				}
				last = q.Time
			}
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// serveAccessLog streams a proxy pod's access log (ingress-nginx's log format, with
// the rule that matched), as serveRequestLog streams a pod's requests.
func (s *Supervisor) serveAccessLog(w http.ResponseWriter, r *http.Request, pod string) {
	follow, since, tail, ok := logParams(w, r)
	if !ok {
		return
	}
	entries, seen := s.ingress.Log().Entries(pod)
	var lines []api.LogLine
	for _, e := range entries {
		if !e.Time.Before(since) {
			lines = append(lines, api.LogLine{Time: e.Time, Line: e.String()})
		}
	}
	if tail >= 0 && tail < len(lines) {
		lines = lines[len(lines)-tail:]
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	enc := json.NewEncoder(w)
	for _, l := range lines {
		if enc.Encode(l) != nil {
			return
		}
	}
	flusher, _ := w.(http.Flusher)
	for follow {
		if flusher != nil {
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(250 * time.Millisecond):
		}
		entries, n := s.ingress.Log().Entries(pod)
		fresh := int(n - seen)
		seen = n
		if fresh > len(entries) {
			fresh = len(entries)
		}
		for _, e := range entries[len(entries)-fresh:] {
			if enc.Encode(api.LogLine{Time: e.Time, Line: e.String()}) != nil {
				return
			}
		}
	}
}
