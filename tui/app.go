package tui

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// Config wires the TUI to podlab. Only Labs and Open are required.
type Config struct {
	Lab  string                   // open this lab at once; empty: the picker, or the only lab
	Labs func() ([]string, error) // the deployed labs
	Open func(lab string) Source
	// Shell makes the command that opens a shell in a pod, node or host (`podlab exec`);
	// nil: no shells.
	Shell         func(lab, kind, namespace, name string) *exec.Cmd
	Now           func() time.Time
	CountersEvery time.Duration // default 1s
	Coalesce      time.Duration // least time between two state fetches; default 50ms
}

// Run runs the TUI until the user quits.
func Run(ctx context.Context, cfg Config) error {
	a := New(cfg)
	defer a.closeLab()
	_, err := tea.NewProgram(a, tea.WithContext(ctx), tea.WithFPS(20)).Run()
	return err
}

type promptMode int

const (
	promptNone promptMode = iota
	promptCommand
	promptFilter
	promptConfirm
	promptLabels
)

const (
	viewPods = iota
	viewNodes
	viewSvc
	viewDeploy
	viewTopo
	viewEvents
	viewDNS
	viewNetpol
	viewEp
	viewIngress
)

// App is the TUI's root model: the lab picker, or one lab's views around a header and
// a status line. It owns the data; the views only draw it.
type App struct {
	cfg  Config
	w, h int

	inLab   bool
	picker  picker
	pickGen int
	started bool // the first lab listing: open the only lab

	lab        string
	fromPicker bool
	sess       int
	src        Source
	ctx        context.Context
	cancel     context.CancelFunc
	evCh       chan events.Event
	evDone     chan error

	st      *api.LabState
	stAt    time.Time
	objs    map[string][]store.Object // listed with the state
	decoded decodedObjects            // of objs
	cs      *api.CounterSet
	rates   map[string]float64
	csErr   error
	data    *labData
	views   []view
	cur     int
	ev      *eventsView
	deployv *kindView
	epv     *kindView
	detail  *detailsView
	text    *textView // y (YAML) or l (logs) over the views
	help    bool

	mode    promptMode
	in      lineInput
	inErr   string
	pending target
	status  string
	bad     bool // status is an error

	fetching, dirty, scheduled bool
	lastFetch                  time.Time

	// Services: objects fetched on open and on their events, counters polled only
	// while shown.
	svcv                                *servicesView
	svcs                                *svcSet
	topov                               *topoView
	svcCtr                              *svcCounters
	svcPolling                          bool
	objFetching, objDirty, objScheduled bool
	objLast                             time.Time

	// The DNS queries, the NetworkPolicy counters and the ingress and gateway
	// access log: each polled only while its view is shown.
	dnsv                      *dnsView
	netv                      *netpolView
	ingv                      *ingressView
	dnsPoll, netPoll, ingPoll *poller
}

// New returns the TUI's model.
func New(cfg Config) *App {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CountersEvery <= 0 {
		cfg.CountersEvery = time.Second
	}
	if cfg.Coalesce <= 0 {
		cfg.Coalesce = 50 * time.Millisecond
	}
	return &App{cfg: cfg}
}

func (a *App) Init() tea.Cmd {
	if a.cfg.Lab != "" {
		return a.openLab(a.cfg.Lab, false)
	}
	return a.toPicker("")
}

// openLab starts a session on lab: state, event stream and counters.
func (a *App) openLab(lab string, fromPicker bool) tea.Cmd {
	a.closeLab()
	a.inLab, a.lab, a.fromPicker = true, lab, fromPicker
	a.src = a.cfg.Open(lab)
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.st, a.data, a.cs, a.rates, a.csErr = nil, nil, nil, nil, nil
	a.objs, a.decoded = nil, nil
	a.ev = newEventsView()
	a.svcv = newServicesView(a.cfg.Now)
	a.svcs, a.svcCtr, a.svcPolling = nil, nil, false
	a.objFetching, a.objDirty, a.objScheduled = true, false, false
	a.deployv = newDeployView(a.cfg.Now)
	a.epv = newEndpointsView(a.cfg.Now)
	a.dnsv, a.netv, a.ingv = newDNSView(), newNetpolView(), newIngressView()
	a.dnsPoll, a.netPoll, a.ingPoll = dnsPoller(a.dnsv), netpolPoller(a.netv), ingressPoller(a.ingv)
	a.topov = newTopoView()
	a.views = []view{newPodsView(a.cfg.Now), newNodesView(), a.svcv, a.deployv, a.topov, a.ev, a.dnsv, a.netv, a.epv, a.ingv}
	a.cur = viewPods
	a.detail, a.text, a.help, a.mode, a.status = nil, nil, false, promptNone, ""
	a.fetching, a.dirty, a.scheduled = true, false, false
	a.resize()
	return tea.Batch(a.fetchState(), a.startStream(), a.fetchCounters(), a.fetchObjects())
}

// closeLab ends the session: its goroutine and requests stop, late answers are dropped.
func (a *App) closeLab() {
	if a.cancel != nil {
		a.cancel()
		a.cancel = nil
	}
	a.sess++
}

func (a *App) toPicker(msg string) tea.Cmd {
	a.closeLab()
	a.inLab = false
	a.picker.msg = msg
	a.mode, a.help, a.detail, a.text = promptNone, false, nil, nil
	a.pickGen++
	a.resize()
	return tea.Batch(a.listLabs(), a.pickerTick())
}

func (a *App) bodyHeight() int { return max(a.h-3, 1) }

func (a *App) resize() {
	if a.w == 0 {
		return
	}
	a.picker.setSize(a.w, a.bodyHeight())
	for _, v := range a.views {
		v.setSize(a.w, a.bodyHeight())
	}
	if a.detail != nil {
		a.detail.setSize(a.w, a.bodyHeight())
	}
	if a.text != nil {
		a.text.setSize(a.w, a.bodyHeight())
	}
}

func (a *App) setStatus(s string, bad bool) { a.status, a.bad = s, bad }

// refresh rebuilds what the views show from the last state and counters.
func (a *App) refresh() {
	if a.st == nil {
		return
	}
	a.data = newLabData(a.st, a.objs, a.cs, a.rates)
	for _, v := range a.views {
		v.setData(a.data)
	}
	if a.detail != nil {
		a.detail.setState(a.data)
	}
}

func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, ok := a.onServiceMsg(msg); ok {
		return a, cmd
	}
	if cmd, ok := a.onPollMsg(msg); ok {
		return a, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.w, a.h = msg.Width, msg.Height
		a.resize()
	case tea.KeyPressMsg:
		cmd := a.onKey(msg)
		if poll := a.syncSvcPolling(); poll != nil {
			cmd = tea.Batch(cmd, poll)
		}
		if poll := a.syncPolling(); poll != nil {
			cmd = tea.Batch(cmd, poll)
		}
		return a, cmd
	case tea.PasteMsg:
		if a.mode == promptCommand || a.mode == promptFilter || a.mode == promptLabels {
			a.in.paste(msg.Content)
			a.onInput()
		}

	case labsMsg:
		if a.inLab {
			return a, nil
		}
		a.picker.setLabs(msg.labs, msg.err)
		if !a.started && a.cfg.Lab == "" && msg.err == nil && len(msg.labs) == 1 {
			a.started = true
			return a, a.openLab(msg.labs[0], true)
		}
		a.started = true
	case pickerTickMsg:
		if !a.inLab && msg.gen == a.pickGen {
			return a, tea.Batch(a.listLabs(), a.pickerTick())
		}

	case stateMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		a.fetching = false
		a.lastFetch = time.Now()
		if msg.err != nil {
			return a, a.checkGone("state", msg.err)
		}
		a.st, a.stAt = msg.st, msg.at
		if msg.objErr != nil {
			a.setStatus(msg.objErr.Error(), true) // the last listing stays shown
		} else {
			a.objs, a.decoded = msg.objs, msg.decoded
		}
		a.refresh()
		if a.dirty {
			a.dirty = false
			return a, a.requestFetch()
		}
	case fetchNowMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		a.scheduled = false
		return a, a.requestFetch()
	case eventsMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		return a, a.onEvents(msg.evs)
	case streamEndMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		return a, a.checkGone("stream", msg.err)
	case retryStreamMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		// The stream replays the whole history: start the list again.
		a.ev.reset()
		return a, tea.Batch(a.startStream(), a.requestFetch(), a.requestObjects())
	case goneMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		if msg.gone {
			return a, a.toPicker(fmt.Sprintf("lab %s was destroyed", a.lab))
		}
		a.setStatus(msg.err.Error(), true)
		sess := a.sess
		if msg.from == "stream" {
			return a, tea.Tick(time.Second, func(time.Time) tea.Msg { return retryStreamMsg{sess} })
		}
		a.scheduled = true
		return a, tea.Tick(time.Second, func(time.Time) tea.Msg { return fetchNowMsg{sess} })
	case countersTickMsg:
		if msg.sess == a.sess {
			return a, a.fetchCounters()
		}
	case countersMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		a.csErr = msg.err
		if msg.err == nil && msg.cs != nil {
			a.rates = computeRates(a.cs, msg.cs)
			a.cs = msg.cs
			a.refreshCounters()
		}
		// No event says a Deployment's status changed: list it again while shown.
		if (a.current() == view(a.deployv) || a.current() == view(a.epv)) && a.detail == nil {
			return a, tea.Batch(a.countersTick(), a.requestFetch())
		}
		return a, a.countersTick()
	case textMsg:
		if msg.sess == a.sess && a.text != nil && a.text.title == msg.title {
			a.text.set(msg)
		}
	case detailsMsg:
		if msg.sess == a.sess && a.detail != nil && a.detail.t == msg.t {
			a.detail.setDetails(msg.det, msg.err)
		}
	case actionMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		if msg.err != nil {
			a.setStatus(msg.err.Error(), true)
		} else {
			a.setStatus(msg.done, false)
		}
	case shellDoneMsg:
		if msg.sess != a.sess {
			return a, nil
		}
		if msg.err != nil {
			a.setStatus(fmt.Sprintf("shell in %s: %v", msg.t, msg.err), true)
		} else {
			a.setStatus("back from the shell in "+msg.t.String(), false)
		}
	}
	return a, nil
}

// refreshCounters hands the new counters to the views without rebuilding their rows:
// counters cells are read while drawing, for the visible rows only.
func (a *App) refreshCounters() {
	if a.data == nil {
		return
	}
	a.data.cs, a.data.rates = a.cs, a.rates
	if a.detail != nil {
		a.detail.setState(a.data)
	}
}

func (a *App) onEvents(evs []events.Event) tea.Cmd {
	a.ev.add(evs)
	refetch, objects := false, false
	for _, e := range evs {
		objects = objects || serviceEvent(e.Type, e.Kind)
		refetch = refetch || stateEvent(e.Type)
	}
	if a.applyEvents(evs) {
		a.refresh()
	}
	cmds := []tea.Cmd{a.waitEvents()}
	if refetch {
		cmds = append(cmds, a.requestFetch())
	}
	if objects {
		cmds = append(cmds, a.requestObjects())
	}
	return tea.Batch(cmds...)
}

func (a *App) current() view { return a.views[a.cur] }

// selected is the object enter, s, d and l act on.
func (a *App) selected() (target, bool) {
	if a.detail != nil {
		return a.detail.t, true
	}
	return a.current().selected()
}

func (a *App) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := msg.String()
	if k == "ctrl+c" {
		return a.quit()
	}
	if a.mode != promptNone {
		return a.onPromptKey(msg)
	}
	a.status, a.bad = "", false
	if a.help {
		if k == "?" || k == "esc" || k == "q" {
			a.help = false
		}
		return nil
	}
	if !a.inLab {
		switch k {
		case "q":
			return a.quit()
		case "enter":
			if lab, ok := a.picker.selected(); ok {
				return a.openLab(lab, true)
			}
		case "r":
			return a.listLabs()
		case "?":
			a.help = true
		case ":":
			// Typed here, a command line must not fall through to the list, where its
			// enter opened the selected lab.
			a.mode, a.in, a.inErr = promptCommand, lineInput{prompt: ":"}, ""
		default:
			a.picker.key(msg)
		}
		return nil
	}
	if a.text != nil {
		switch k {
		case "esc", "q":
			a.text = nil
		case "?":
			a.help = true
		default:
			a.text.key(msg)
		}
		return nil
	}
	switch k {
	case "q":
		if a.detail != nil {
			a.detail = nil
			return nil
		}
		return a.quit()
	case "esc":
		switch {
		case a.detail != nil:
			a.detail = nil
		case a.current() == view(a.ev) && a.ev.obj != nil:
			a.ev.setObject(nil)
		case a.current().filter() != "":
			a.current().setFilter("")
		case a.fromPicker:
			return a.toPicker("")
		}
		return nil
	case "?":
		a.help = true
		return nil
	case ":":
		a.mode, a.in, a.inErr = promptCommand, lineInput{prompt: ":"}, ""
		return nil
	case "/":
		if a.detail == nil {
			a.mode, a.in, a.inErr = promptFilter, lineInput{prompt: "/"}, ""
			a.in.set(a.current().filter())
		}
		return nil
	case "tab":
		a.detail = nil
		a.cur = (a.cur + 1) % len(a.views)
		return nil
	case "shift+tab":
		a.detail = nil
		a.cur = (a.cur + len(a.views) - 1) % len(a.views)
		return nil
	case "enter":
		if t, ok := a.selected(); ok && a.detail == nil {
			if t.Kind == kindDeployment || t.Kind == kindEndpoints {
				a.setStatus("no details of "+strings.ToLower(t.Kind)+" here: y shows its YAML", false)
				return nil
			}
			a.detail = newDetailsView(t)
			a.detail.setSize(a.w, a.bodyHeight())
			if t.Kind == kindService {
				a.refreshServiceDetails()
				return nil
			}
			a.detail.setState(a.data)
			return a.fetchDetails(t)
		}
		return nil
	case "r":
		if a.detail != nil && a.detail.t.Kind == kindService {
			return a.requestObjects()
		}
		if a.current() == view(a.svcv) && a.detail == nil {
			return tea.Batch(a.requestFetch(), a.requestObjects())
		}
		if a.detail != nil {
			a.detail.setDetails(nil, nil)
			return a.fetchDetails(a.detail.t)
		}
		return a.requestFetch()
	case "s":
		return a.shell()
	case "d":
		if t, ok := a.selected(); ok && t.Kind == kindPod {
			a.mode, a.pending = promptConfirm, t
		} else if ok && t.Kind == kindService {
			a.setStatus("the TUI does not delete services: use podlab delete svc "+t.Name+" -n "+t.Namespace, false)
		} else {
			a.setStatus("d deletes a pod: select one in :pods", true)
		}
		return nil
	case "ctrl+d":
		if t, ok := a.selected(); ok && t.Kind != kindNode && t.Kind != kindHost {
			a.mode, a.pending = promptConfirm, t
		} else if ok {
			a.setStatus("a "+strings.ToLower(t.Kind)+" is the lab's own: podlab destroy removes it", true)
		} else {
			a.setStatus("ctrl-d deletes the selected object: select one", true)
		}
		return nil
	case "E":
		a.objectEvents()
		return nil
	case "y":
		return a.showYAML()
	case "l":
		return a.showLogs()
	case "e":
		if t, ok := a.selected(); ok && t.Kind == kindPod {
			a.mode, a.pending, a.inErr = promptLabels, t, ""
			a.in = lineInput{prompt: "labels of " + t.String() + " (k=v,...): "}
			a.in.set(a.podLabels(t))
		} else {
			a.setStatus("e edits a pod's labels: select one in :pods", true)
		}
		return nil
	}
	if a.detail != nil {
		a.detail.key(msg)
		return nil
	}
	return a.current().key(msg)
}

// objectEvents opens the events view on the selected object's events only (esc shows
// them all again), what kubectl describe and k9s's describe end with.
func (a *App) objectEvents() {
	t, ok := a.selected()
	if a.detail == nil && a.current() == view(a.ev) {
		t, ok = a.ev.object()
	}
	if !ok {
		a.setStatus("E shows the events of the selected object: select one", true)
		return
	}
	a.detail = nil
	a.ev.setObject(&t)
	a.cur = viewEvents
}

func (a *App) podLabels(t target) string {
	if a.data == nil {
		return ""
	}
	for _, p := range a.data.pods {
		if p.Namespace == t.Namespace && p.Name == t.Name {
			return labelString(p.Labels)
		}
	}
	return ""
}

func (a *App) quit() tea.Cmd {
	a.closeLab()
	return tea.Quit
}

func (a *App) shell() tea.Cmd {
	t, ok := a.selected()
	if !ok {
		a.setStatus("nothing selected to open a shell in", true)
		return nil
	}
	if t.Kind != kindPod && t.Kind != kindNode && t.Kind != kindHost {
		a.setStatus("a "+strings.ToLower(t.Kind)+" has no shell: select a pod, node or host", true)
		return nil
	}
	if a.cfg.Shell == nil {
		a.setStatus("shells are not available here", true)
		return nil
	}
	sess := a.sess
	return tea.ExecProcess(a.cfg.Shell(a.lab, t.Kind, t.Namespace, t.Name), func(err error) tea.Msg {
		return shellDoneMsg{sess: sess, t: t, err: err}
	})
}

// onInput applies the filter as it is typed.
func (a *App) onInput() {
	if a.mode == promptFilter {
		a.current().setFilter(a.in.String())
	}
}

func (a *App) onPromptKey(msg tea.KeyPressMsg) tea.Cmd {
	if a.mode == promptConfirm {
		a.mode = promptNone
		if msg.String() != "y" && msg.String() != "Y" {
			a.setStatus("not deleted", false)
			return nil
		}
		t := a.pending
		a.setStatus("deleting "+t.String()+"…", false)
		return a.action("deleted "+t.String(), func(ctx context.Context, src Source) error {
			return deleteObject(ctx, src, t)
		})
	}
	done, cancel := a.in.key(msg)
	switch {
	case cancel:
		if a.mode == promptFilter {
			a.current().setFilter("")
		}
		a.mode = promptNone
	case done:
		mode := a.mode
		a.mode = promptNone
		switch mode {
		case promptCommand:
			return a.command(strings.TrimSpace(a.in.String()))
		case promptLabels:
			labels, err := parseLabels(a.in.String())
			if err != nil {
				a.mode, a.inErr = promptLabels, err.Error()
				return nil
			}
			t := a.pending
			a.setStatus("setting the labels of "+t.String()+"…", false)
			return a.action("labels of "+t.String()+" set to "+orDash(labelString(labels)), func(ctx context.Context, src Source) error {
				return src.SetLabels(ctx, t.Namespace, t.Name, labels)
			})
		}
	default:
		a.inErr = ""
		a.onInput()
	}
	return nil
}

// command runs a `:` command line.
func (a *App) command(c string) tea.Cmd {
	a.status, a.bad = "", false
	show := func(v int) tea.Cmd {
		a.cur, a.detail = v, nil
		return nil
	}
	switch c {
	case "":
		return nil
	case "help", "h":
		a.help = true
		return nil
	case "q", "quit", "q!", "exit":
		return a.quit()
	}
	if !a.inLab {
		return a.pickerCommand(c)
	}
	switch c {
	case "pods", "pod", "po":
		return show(viewPods)
	case "nodes", "node", "no", "hosts", "host":
		return show(viewNodes)
	case "topo", "topology", "top", "t":
		return show(viewTopo)
	case "events", "event", "ev":
		return show(viewEvents)
	case "ep", "endpoints", "eps":
		show(viewEp)
		return a.requestFetch()
	case "svc", "service", "services", "endpointslices":
		return show(viewSvc)
	case "dns", "queries", "coredns":
		return show(viewDNS)
	case "netpol", "networkpolicy", "networkpolicies", "policies", "policy":
		return show(viewNetpol)
	case "ingress", "ing", "access", "gateway", "gw":
		return show(viewIngress)
	case "deploy", "deployment", "deployments":
		show(viewDeploy)
		return a.requestFetch()
	case "labs", "lab", "ctx":
		return a.toPicker("")
	}
	a.setStatus(fmt.Sprintf("unknown command :%s (try %s)", c, strings.Join(Commands, ", ")), true)
	return nil
}

// pickerCommand runs a command line typed in the picker, where no lab is open: the
// views need one.
func (a *App) pickerCommand(c string) tea.Cmd {
	if c == "labs" || c == "lab" || c == "ctx" {
		return a.listLabs()
	}
	a.setStatus(fmt.Sprintf(":%s needs a lab: choose one and press enter (here: :labs, :q)", c), true)
	return nil
}

// deleteObject deletes t: a pod through DeletePod (its events and the row go at
// once), any other object through DeleteObjects, as `podlab delete` does.
func deleteObject(ctx context.Context, src Source, t target) error {
	if t.Kind == kindPod {
		return src.DeletePod(ctx, t.Namespace, t.Name)
	}
	res, err := src.DeleteObjects(ctx, []api.ObjectRef{{Kind: t.Kind, Namespace: t.Namespace, Name: t.Name}})
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.Error != "" {
			return errors.New(r.Error)
		}
	}
	return nil
}
