package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	vnetns "github.com/vishvananda/netns"

	"podlab.dev/podlab/events"
	"podlab.dev/podlab/plan"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/workload"
)

// Supervisor runs one lab.
type Supervisor struct {
	dir     state.Dir
	plan    *plan.Plan
	log     *slog.Logger
	started time.Time
	events  *eventHub
	nodeNS  map[string]vnetns.NsHandle
	runtime Namespaces
	objects *objectStore
	svc     *serviceSync
	watcher ContainerWatcher
	broken  *brokenSet

	// mu guards the plan (pods come and go, labels change), the servers and readiness.
	mu      sync.RWMutex
	servers map[string]*workload.Server // "Pod/ns/name" or "Host/name"
	ready   map[string]Readiness

	// ProbeInterval is how often every pod is checked again once ready.
	ProbeInterval time.Duration
}

// NewSupervisor loads the lab's plan from its state directory.
func NewSupervisor(dir state.Dir, log *slog.Logger) (*Supervisor, error) {
	p, err := dir.ReadPlan()
	if err != nil {
		return nil, fmt.Errorf("supervisor: lab %q: %w", dir.Lab, err)
	}
	return &Supervisor{dir: dir, plan: p, log: log, runtime: netns.New(), objects: newObjectStore(), ready: map[string]Readiness{}, servers: map[string]*workload.Server{}, nodeNS: map[string]vnetns.NsHandle{}, broken: &brokenSet{byKey: map[string]string{}, status: map[string]string{}}, ProbeInterval: probeInterval(len(p.Pods))}, nil
}

// probeInterval is how often ready pods are checked again: every second in a lab of a
// few hundred pods, so that a pod that stops answering leaves its Services within a
// second; kubelet's default of 10 s in large labs, where checking every pod each
// second would cost a core.
func probeInterval(pods int) time.Duration {
	if pods <= 200 {
		return time.Second
	}
	return 10 * time.Second
}

// SetRuntime replaces the netns runtime the supervisor uses for pods it adds or
// deletes (the Docker runtime for a Docker lab).
func (s *Supervisor) SetRuntime(rt Namespaces) { s.runtime = rt }

// Namespaces is what the supervisor needs of the runtime: pods' namespaces come and go.
type Namespaces interface {
	Create(ctx context.Context, s podruntime.Sandbox) (string, error)
	Delete(ctx context.Context, name string) error
}

// Run serves until ctx ends: starts the servers of every pod and host, the API, and
// the readiness checks.
func (s *Supervisor) Run(ctx context.Context) error {
	s.started = time.Now()
	hub, err := newEventHub(ctx, s.dir.Events(), s.dir.DeployEvents())
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	s.events = hub
	defer s.events.close()
	os.Remove(s.dir.Socket())
	ln, err := net.Listen("unix", s.dir.Socket())
	if err != nil {
		return fmt.Errorf("supervisor: listen on %s: %w", s.dir.Socket(), err)
	}
	defer os.Remove(s.dir.Socket())
	if err := os.WriteFile(s.dir.PIDFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	for _, n := range s.plan.Nodes {
		h, err := vnetns.GetFromPath(netns.Path(n.Netns))
		if err != nil {
			return fmt.Errorf("supervisor: node %s: %w", n.Name, err)
		}
		s.nodeNS[n.Name] = h
	}
	defer func() {
		for _, h := range s.nodeNS {
			h.Close()
		}
	}()
	s.svc = newServiceSync(s)
	s.svc.ctx = ctx
	s.loadObjects()
	// The API answers at once (deploy waits for it while it attaches pods); the
	// servers, kube-proxy and readiness checks start meanwhile.
	api := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second}
	go api.Serve(ln)
	s.events.emit(events.Event{Type: events.SupervisorStarted, Kind: "Lab", Name: s.plan.Lab, Message: fmt.Sprintf("pid %d", os.Getpid())})
	go func() {
		select {
		case <-s.events.built:
			s.svc.networkBuilt()
		case <-ctx.Done():
		}
	}()
	s.startServers()
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, srv := range s.servers {
			srv.Close()
		}
	}()
	go s.probeLoop(ctx)
	if s.watcher != nil {
		go s.watchContainers(ctx)
	}
	<-ctx.Done()
	s.events.emit(events.Event{Type: events.SupervisorStopped, Kind: "Lab", Name: s.plan.Lab})
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	api.Shutdown(sctx)
	return nil
}

func toWorkloadPorts(p *plan.Pod) []workload.Port {
	out := make([]workload.Port, 0, len(p.Ports))
	for _, pt := range p.Ports {
		out = append(out, workload.Port{Port: pt.Port, Protocol: pt.Protocol})
	}
	return out
}

// startServers opens the built-in servers inside every pod's and host's namespace.
func (s *Supervisor) startServers() {
	type target struct {
		kind, name, netns string
		ports             []workload.Port
	}
	var ts []target
	for i := range s.plan.Pods {
		p := &s.plan.Pods[i]
		if len(p.Ports) > 0 && !s.plan.RunsOwnImage(p) {
			ts = append(ts, target{"Pod", p.Key(), p.Netns, toWorkloadPorts(p)})
		}
	}

	for _, h := range s.plan.Hosts {
		var ports []workload.Port
		for _, pt := range h.Ports {
			ports = append(ports, workload.Port{Port: pt.Port, Protocol: pt.Protocol})
		}
		if len(ports) > 0 {
			ts = append(ts, target{"Host", h.Name, h.Netns, ports})
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, t := range ts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name := t.name
			if t.kind == "Pod" {
				_, name, _ = cut(t.name)
			}
			srv, err := workload.Start(netns.Path(t.netns), name, t.ports)
			if err != nil {
				s.log.Warn("server", "kind", t.kind, "name", t.name, "err", err)
				s.events.emit(events.Event{Type: events.Warning, Kind: t.kind, Name: t.name, Message: err.Error()})
			}
			if srv != nil {
				s.mu.Lock()
				s.servers[t.kind+"/"+t.name] = srv
				s.mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func cut(key string) (string, string, bool) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return "", key, false
}

// probeLoop checks pods until all are ready: at first only those not ready yet, every
// few milliseconds, then every pod each ProbeInterval. Transitions become events.
func (s *Supervisor) probeLoop(ctx context.Context) {
	// Probing a pod whose interface does not exist yet only waits for ARP to fail, and
	// probing while deploy attaches pods slows both down (measured): start once deploy
	// says the network is built.
	select {
	case <-ctx.Done():
		return
	case <-s.events.built:
	}
	delay := 10 * time.Millisecond
	full := false
	for {
		allReady := s.probeAll(ctx, full)
		if allReady {
			delay, full = s.ProbeInterval, true
		} else {
			delay, full = min(delay*2, 100*time.Millisecond), false
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// probeAll probes every pod (full) or only those not ready, and says whether all are
// ready now.
func (s *Supervisor) probeAll(ctx context.Context, full bool) bool {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var mu sync.Mutex
	all := true
	s.mu.RLock()
	pods := append([]plan.Pod(nil), s.plan.Pods...)
	s.mu.RUnlock()
	for i := range pods {
		p := &pods[i]
		s.mu.RLock()
		old := s.ready[p.Key()]
		s.mu.RUnlock()
		if !full && old.Ready {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if !s.probeOne(ctx, p) {
				mu.Lock()
				all = false
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return all
}

// probeOne checks one pod, records the result and turns a change into an event.
func (s *Supervisor) probeOne(ctx context.Context, p *plan.Pod) bool {
	r := probe(ctx, s.nodeNS[p.Node], p)
	s.mu.Lock()
	if _, exists := s.plan.Pod(p.Namespace, p.Name); !exists {
		s.mu.Unlock()
		return true // deleted while it was being probed
	}
	old, seen := s.ready[p.Key()]
	s.ready[p.Key()] = r
	s.mu.Unlock()
	if s.svc != nil && r.Ready != old.Ready {
		s.svc.kick() // endpoints follow readiness
	}
	switch {
	case r.Ready && (!seen || !old.Ready):
		s.events.emit(events.Event{Type: events.PodReady, Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Node: p.Node, Message: p.IP.String()})
	case !r.Ready && seen && old.Ready:
		s.events.emit(events.Event{Type: events.PodNotReady, Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Node: p.Node, Message: r.Reason})
	}
	return r.Ready
}

// ReadyCount says how many of the lab's pods are ready.
func (s *Supervisor) ReadyCount() ReadyCount {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, p := range s.plan.Pods {
		if s.ready[p.Key()].Ready {
			n++
		}
	}
	return ReadyCount{Ready: n, Total: len(s.plan.Pods), Settled: s.svc == nil || s.svc.settled()}
}

// ReadyCount is how many pods are ready out of how many, and whether the Services
// component has programmed every change (endpoints follow readiness).
type ReadyCount struct {
	Ready   int  `json:"ready"`
	Total   int  `json:"total"`
	Settled bool `json:"settled"`
}

// State returns the live state.
func (s *Supervisor) State() *LabState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := StateFromPlan(s.plan, s.ready, SupervisorState{PID: os.Getpid(), Running: true, Started: s.started})
	s.markBroken(st)
	return st
}
