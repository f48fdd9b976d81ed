package cluster

import (
	"context"
	"encoding/json"
	"errors"
	corev1 "k8s.io/api/core/v1"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/internal/labtest"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/topology"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/events"
	"podlab.dev/podlab/state"
)

// newHub makes an event hub over files in dir and stops it when the test ends.
func newHub(t *testing.T, dir state.Dir) *eventHub {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h, err := newEventHub(ctx, dir.Events(), dir.DeployEvents())
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); h.close() })
	return h
}

func newDir(t *testing.T, lab string) state.Dir {
	t.Helper()
	d := state.For(t.TempDir(), lab)
	if err := d.Create(); err != nil {
		t.Fatal(err)
	}
	return d
}

func receive(t *testing.T, ch <-chan events.Event) events.Event {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
		return events.Event{}
	}
}

func appendEvents(t *testing.T, path string, evs ...events.Event) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, e := range evs {
		b, _ := json.Marshal(e)
		if _, err := f.Write(append(b, '\n')); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHubEmitAndPublish(t *testing.T) {
	dir := newDir(t, "lab1")
	// What an earlier supervisor of the lab recorded is part of the past.
	appendEvents(t, dir.Events(), events.Event{Time: time.Now().Add(-time.Hour), Type: events.SupervisorStopped, Name: "earlier"})
	h := newHub(t, dir)
	past, ch := h.subscribe()
	t.Cleanup(func() { h.unsubscribe(ch) })
	if len(past) != 1 || past[0].Name != "earlier" {
		t.Errorf("past %+v, want the earlier supervisor's event", past)
	}

	before := time.Now()
	h.emit(events.Event{Type: events.PodReady, Name: "web-1"})
	e := receive(t, ch)
	if e.Type != events.PodReady || e.Name != "web-1" || e.Time.Before(before) {
		t.Errorf("emitted %+v, want PodReady web-1 stamped after %v", e, before)
	}
	// emit writes the supervisor's own file at once.
	onDisk, err := events.Read(dir.Events())
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != 2 || onDisk[1].Name != "web-1" {
		t.Errorf("own file %+v, want the earlier event and web-1", onDisk)
	}

	// publish (deploy's events) reaches followers without being written again.
	h.publish(events.Event{Type: events.LinkUp, Name: "w1/eth0"})
	if e := receive(t, ch); e.Name != "w1/eth0" {
		t.Errorf("published %+v", e)
	}
	if onDisk, _ := events.Read(dir.Events()); len(onDisk) != 2 {
		t.Errorf("publish wrote to the supervisor's file: %+v", onDisk)
	}
	// A later subscriber gets everything so far as its past.
	past2, ch2 := h.subscribe()
	h.unsubscribe(ch2)
	if len(past2) != 3 || past2[2].Name != "w1/eth0" {
		t.Errorf("past of a later subscriber %+v", past2)
	}
	// Unsubscribed channels get nothing more.
	h.emit(events.Event{Type: events.Warning, Name: "after"})
	select {
	case e := <-ch2:
		t.Errorf("unsubscribed channel received %+v", e)
	default:
	}
}

func TestHubFollowsDeployUntilFinished(t *testing.T) {
	dir := newDir(t, "lab1")
	h := newHub(t, dir)
	_, ch := h.subscribe()
	t.Cleanup(func() { h.unsubscribe(ch) })
	appendEvents(t, dir.DeployEvents(),
		events.Event{Type: events.NetnsCreated, Name: "ns"},
		events.Event{Type: events.LinkUp, Name: "link"},
	)
	for _, want := range []string{"ns", "link"} {
		if e := receive(t, ch); e.Name != want {
			t.Fatalf("event %+v, want %s", e, want)
		}
	}
	select {
	case <-h.built:
		t.Fatal("built before DeployFinished")
	default:
	}
	appendEvents(t, dir.DeployEvents(),
		events.Event{Type: events.DeployFinished, Name: "lab1"},
		events.Event{Type: events.Warning, Name: "after the end"},
	)
	if e := receive(t, ch); e.Type != events.DeployFinished {
		t.Fatalf("event %+v, want DeployFinished", e)
	}
	select {
	case <-h.built:
	case <-time.After(5 * time.Second):
		t.Fatal("built not closed after DeployFinished")
	}
	select {
	case e := <-ch:
		t.Errorf("hub followed past DeployFinished: %+v", e)
	case <-time.After(100 * time.Millisecond): // several of Follow's polls
	}
}

// serve runs s's API on the lab's socket, as Run does, until the test ends.
func serve(t *testing.T, s *Supervisor) {
	t.Helper()
	ln, err := net.Listen("unix", s.dir.Socket())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s.routes())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
}

func newSupervisor(t *testing.T) *Supervisor {
	t.Helper()
	dir := newDir(t, "x")
	p := testPlan("x")
	if err := dir.WritePlan(p); err != nil {
		t.Fatal(err)
	}
	s := &Supervisor{
		dir: dir, plan: p, log: slog.New(slog.DiscardHandler), started: time.Now(),
		events: newHub(t, dir), store: store.New(), reg: services.NewRegistry(services.RegistryConfig(p)),
		broken: &brokenSet{byKey: map[string]string{}, status: map[string]string{}},
	}
	if err := s.seed(); err != nil {
		t.Fatal(err)
	}
	// web-1 is ready, as its kubelet would report.
	o, _ := s.store.Get("Pod", "default", "web-1")
	pod := o.(*corev1.Pod).DeepCopy()
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if _, err := s.store.UpdateStatus(pod); err != nil {
		t.Fatal(err)
	}
	return s
}

// testPlan is a small lab: three nodes (pods on two), a host with ports, three pods
// and three objects (a Pod manifest, a Service, a NetworkPolicy).
func testPlan(lab string) *plan.Plan {
	p := labtest.Plan(lab)
	p.Objects = []topology.Object{
		{APIVersion: "v1", Kind: "Pod", Namespace: "default", Name: "web-1", Applied: true,
			Raw: []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1"},"spec":{"containers":[{"name":"web","image":"nginx","ports":[{"containerPort":80}]}]}}`)},
		{APIVersion: "v1", Kind: "Service", Namespace: "default", Name: "web", Applied: true,
			Raw: []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web"},"spec":{"selector":{"app":"web-1"},"ports":[{"port":80}]}}`)},
		{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "default", Name: "deny", Applied: false,
			Raw: []byte(`{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"deny"},"spec":{"podSelector":{}}}`)},
	}
	return p
}

func TestAPIState(t *testing.T) {
	s := newSupervisor(t)
	serve(t, s)
	got, err := api.NewClient(s.dir).State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !got.Supervisor.Running || got.Supervisor.PID != os.Getpid() || !got.Supervisor.Started.Equal(s.started) {
		t.Errorf("supervisor %+v, want running as pid %d since %v", got.Supervisor, os.Getpid(), s.started)
	}
	if got.Lab != "x" || len(got.Nodes) != 3 || len(got.Pods) != 3 || got.ReadyCount() != 1 {
		t.Errorf("state %+v", got)
	}
	// The lab's objects, and what kubeadm installs in every cluster.
	objs := map[string]bool{}
	for _, o := range got.Objects {
		objs[o.Kind+" "+o.Namespace+"/"+o.Name] = o.Applied
	}
	for k, applied := range map[string]bool{"Service default/web": true, "NetworkPolicy default/deny": true,
		"Service default/kubernetes": true, "EndpointSlice default/kubernetes": true, "Endpoints default/kubernetes": true,
		"Service kube-system/kube-dns": true, "Deployment kube-system/coredns": true, "ConfigMap kube-system/coredns": true} {
		if a, ok := objs[k]; !ok || a != applied {
			t.Errorf("object %s: present %v applied %v, want applied %v", k, ok, a, applied)
		}
	}
	// Pods sort by namespace and name; the manifest's container is kept.
	if got.Pods[0].Name != "web-1" || !got.Pods[0].Ready || got.Pods[0].Image != "nginx" || got.Pods[2].Name != "api" || got.Pods[2].Reason != "not checked yet" {
		t.Errorf("pods %+v", got.Pods)
	}
	for _, o := range got.Objects {
		if o.Kind == "Service" && !o.Applied || o.Kind == "NetworkPolicy" && !o.Applied {
			t.Errorf("object %+v", o)
		}
	}
	var nodes int
	for _, o := range s.store.List("Node", "") {
		n := o.(*corev1.Node)
		nodes++
		if tainted := len(n.Spec.Taints) > 0; tainted != (n.Name == "cp") {
			t.Errorf("node %s taints %v: only the control plane of a lab with workers is tainted", n.Name, n.Spec.Taints)
		}
	}
	if nodes != 3 {
		t.Errorf("%d Node objects", nodes)
	}
	svc, ok := s.store.Get("Service", "default", "web")
	if !ok || svc.(*corev1.Service).Spec.ClusterIP == "" {
		t.Errorf("Service not admitted: %+v", svc)
	}
}

func TestAPIEvents(t *testing.T) {
	s := newSupervisor(t)
	serve(t, s)
	s.events.emit(events.Event{Type: events.SupervisorStarted, Name: "x"})
	s.events.publish(events.Event{Type: events.LinkUp, Name: "w1/eth0"})
	c := api.NewClient(s.dir)

	var names []string
	if err := c.Events(context.Background(), false, func(e events.Event) error {
		names = append(names, e.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "x,w1/eth0" {
		t.Errorf("events %q, want x then w1/eth0", names)
	}

	// An error from fn ends the stream with that error.
	stop := errors.New("stop")
	if err := c.Events(context.Background(), false, func(events.Event) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("Events with fn failing: %v, want %v", err, stop)
	}

	// follow: the past, then what happens next, until the context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	got := make(chan events.Event, 16)
	done := make(chan error, 1)
	go func() {
		done <- c.Events(ctx, true, func(e events.Event) error {
			got <- e
			if e.Name == "live" {
				cancel()
			}
			return nil
		})
	}()
	for _, want := range []string{"x", "w1/eth0"} {
		if e := receive(t, got); e.Name != want {
			t.Fatalf("followed %+v, want %s", e, want)
		}
	}
	s.events.emit(events.Event{Type: events.PodReady, Name: "live"})
	if e := receive(t, got); e.Name != "live" || e.Type != events.PodReady {
		t.Fatalf("followed %+v, want the live PodReady", e)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Events(follow) after cancel: %v, want nil", err)
		}
		if ctx.Err() != context.Canceled {
			t.Errorf("Events(follow) returned before the context was cancelled: %v", ctx.Err())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Events(follow) did not return after the context was cancelled")
	}
}

func TestClientStateWithoutSupervisor(t *testing.T) {
	dir := newDir(t, "x")
	if err := dir.WritePlan(testPlan("x")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir.PIDFile(), []byte("4242\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A socket file nobody listens on answers no better than none.
	ln, err := net.Listen("unix", dir.Socket())
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()

	got, err := api.NewClient(dir).State(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got.Supervisor.Running || got.Supervisor.PID != 4242 || !strings.Contains(got.Supervisor.Message, "supervisor is not running") {
		t.Errorf("supervisor %+v, want not running, pid 4242 and the message", got.Supervisor)
	}
	if got.Lab != "x" || len(got.Pods) != 3 || got.ReadyCount() != 0 {
		t.Errorf("state from the plan %+v", got)
	}
	for _, p := range got.Pods {
		if p.Reason != "supervisor not running" {
			t.Errorf("pod %s reason %q", p.Name, p.Reason)
		}
	}

	// Without a plan the lab is not deployed.
	_, err = api.NewClient(state.For(t.TempDir(), "nope")).State(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not deployed") {
		t.Errorf("State of a lab without a plan: %v", err)
	}
}

func TestClientEventsWithoutSupervisor(t *testing.T) {
	dir := newDir(t, "x")
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	appendEvents(t, dir.DeployEvents(),
		events.Event{Time: t0, Type: events.NetnsCreated, Name: "d0"},
		events.Event{Time: t0.Add(2 * time.Second), Type: events.DeployFinished, Name: "d2"},
	)
	appendEvents(t, dir.Events(),
		events.Event{Time: t0.Add(time.Second), Type: events.SupervisorStarted, Name: "s1"},
		events.Event{Time: t0.Add(3 * time.Second), Type: events.SupervisorStopped, Name: "s3"},
	)
	c := api.NewClient(dir)
	var names []string
	if err := c.Events(context.Background(), false, func(e events.Event) error {
		names = append(names, e.Name)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(names, ","); got != "d0,s1,d2,s3" {
		t.Errorf("events from the files %s, want d0,s1,d2,s3", got)
	}
	// Following needs a supervisor: there is nothing that would send more.
	err := c.Events(context.Background(), true, func(events.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("Events(follow) without a supervisor: %v", err)
	}
	// A lab without a state directory has no events: the error says why.
	err = api.NewClient(state.For(t.TempDir(), "nope")).Events(context.Background(), false, func(events.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("Events of a lab that does not exist: %v", err)
	}
}
