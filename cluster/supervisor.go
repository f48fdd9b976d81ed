// Package cluster is a lab's supervisor: one process per lab that holds the lab's
// object store, runs the cluster components on it, and serves the lab's state and event
// stream on a unix socket (package cluster/api has the wire types and the client). It
// is wiring only: what each component does lives in its own package.
//
// To add a component (DNS, NetworkPolicy, Ingress): write a package whose type
// implements component.Component, and add one line to buildComponents below.
package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/controllers"
	"podlab.dev/podlab/cluster/dns"
	"podlab.dev/podlab/cluster/ingress"
	"podlab.dev/podlab/cluster/kubelet"
	"podlab.dev/podlab/cluster/kubeproxy"
	"podlab.dev/podlab/cluster/netpol"
	"podlab.dev/podlab/cluster/nodelease"
	"podlab.dev/podlab/cluster/proxy"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/cni"
	"podlab.dev/podlab/deploy"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/network"
	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/plan"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/workload"
)

// Supervisor runs one lab.
type Supervisor struct {
	dir     state.Dir
	plan    *plan.Plan // what deploy built; never changed here
	log     *slog.Logger
	started time.Time
	events  *eventHub
	store   *store.Store
	reg     *services.Registry // the API server's Service admission and allocation
	regMu   sync.Mutex
	runtime Namespaces
	watcher ContainerWatcher
	broken  *brokenSet

	components []component.Component
	kubelet    *kubelet.Kubelet
	proxy      *kubeproxy.KubeProxy
	dns        *dns.Server
	ingress    *ingress.Component
	netpol     *netpol.Component
	adopted    bool // resumed from a store a previous supervisor left
	hosts      []*workload.Server
	closers    []io.Closer // the hosts' DNS servers
	queries    *queryLog   // what the DNS servers answered: podlab logs, :dns, events
	verdicts   *verdictLog // what the NetworkPolicy tables logged: podlab logs --policy, events

	// ProbeInterval is how often pods without a readinessProbe are checked again once
	// ready.
	ProbeInterval time.Duration
}

// Namespaces is what the supervisor needs of the runtime: pods' sandboxes come and go.
type Namespaces interface {
	Create(ctx context.Context, s podruntime.Sandbox) (string, error)
	Delete(ctx context.Context, name string) error
}

// NewSupervisor loads the lab's plan from its state directory.
func NewSupervisor(dir state.Dir, log *slog.Logger) (*Supervisor, error) {
	p, err := dir.ReadPlan()
	if err != nil {
		return nil, fmt.Errorf("supervisor: lab %q: %w", dir.Lab, err)
	}
	return &Supervisor{dir: dir, plan: p, log: log, runtime: netns.New(),
		reg:    services.NewRegistry(services.RegistryConfig(p)),
		broken: &brokenSet{byKey: map[string]string{}, status: map[string]string{}}, ProbeInterval: probeInterval(len(p.Pods))}, nil
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

// buildComponents lists the lab's components, in the order they start: a new
// component (DNS, NetworkPolicy, Ingress) is one more line in the list it returns.
func (s *Supervisor) buildComponents(emit component.Emit, built <-chan struct{}) []component.Component {
	p := s.plan
	var nodes []kubelet.Node
	var names []string
	for i := range p.Nodes {
		n := &p.Nodes[i]
		nn, err := deploy.NodeNetwork(p, n, s.dir, netns.Path(n.Netns))
		if err != nil {
			emit(events.Event{Type: events.Warning, Kind: "Node", Name: n.Name, Message: err.Error()})
			continue
		}
		nodes = append(nodes, kubelet.Node{Name: n.Name, Netns: netns.Path(n.Netns), IP: n.IP.Addr().String(), Subnet: n.PodCIDR, Network: nn})
		names = append(names, n.Name)
	}
	s.dns = dns.NewServer(p.Cluster.Domain, dnsTTL)
	s.queries = s.newQueryLog()
	s.verdicts = newVerdictLog(func() netpol.Cluster { return netpol.FromStore(s.store) }, func(e events.Event) { s.events.emit(e) })
	s.dns.Log = s.queries.add
	s.dns.SetUpstream(p.DNSUpstreamAddr())
	s.kubelet = kubelet.New(kubelet.Config{
		Lab: p.Lab, Nodes: nodes, Runtime: s.runtime,
		NetnsName:   func(ns, name string) string { return plan.PodNetns(p.Lab, ns, name) },
		NetnsPath:   netns.Path,
		ContainerID: func(ns, name string) string { return plan.ContainerID(p.Lab, ns, name) },
		OwnImage:    func(image string) bool { return p.RunsOwnImage(&plan.Pod{Image: image}) },
		Sysctls:     plan.Sysctls(), Built: built, Attached: s.events.isAttached, ProbeInterval: s.ProbeInterval,
		Writer: s.store, Emit: emit, Drained: s.drained,
		Serves: func(p *corev1.Pod) bool { return isCoreDNS(p) || ingress.Serves(p) },
		ServedBy: func(p *corev1.Pod, path string) (kubelet.Closer, error) {
			if isCoreDNS(p) {
				return s.dns.ServePod(p.Namespace+"/"+p.Name, path)
			}
			return s.ingress.ServePod(p, path)
		},
		Log:  func(msg string, args ...any) { s.log.Warn(msg, args...) },
		Info: func(msg string, args ...any) { s.log.Info(msg, args...) },
	})
	kick := s.kubelet.Kick // a pod deploy attached is adopted at once
	s.events.onAttached.Store(&kick)
	s.netpol = netpol.NewComponent(names, s.openEnforcer, func(pod *corev1.Pod) string {
		return cni.HostVethName(plan.ContainerID(p.Lab, pod.Namespace, pod.Name), "eth0")
	}, emit)
	s.ingress = ingress.New(defaulting{s.store}, serviceWriter{s}, emit)
	s.ingress.Controller = p.Cluster.Ingress.Controller
	s.proxy = kubeproxy.New(names, s.openProxier, emit, built)
	endpoints := controllers.NewEndpoints(s.store, emit)
	s.proxy.After(endpoints)
	s.proxy.Gate(s.kubelet.Adopted())
	return []component.Component{
		controllers.NewScheduler(s.store, emit),
		controllers.NewDeployments(defaulting{s.store}, emit),
		controllers.NewReplicaSets(defaulting{s.store}, emit),
		controllers.NewStatefulSets(defaulting{s.store}, emit),
		controllers.NewDaemonSets(defaulting{s.store}, emit),
		controllers.NewGarbageCollector(s.store),
		s.kubelet,
		endpoints,
		s.proxy,
		s.dns,
		s.netpol,
		s.ingress,
		kubeproxy.NewSpeaker(names, s.announce, emit),
		nodelease.New(names, s.store, emit),
	}
}

// openEnforcer opens the NetworkPolicy table in one node.
func (s *Supervisor) openEnforcer(node string) (netpol.NodeEnforcer, error) {
	n, ok := s.plan.Node(node)
	if !ok {
		return nil, fmt.Errorf("no node %q", node)
	}
	nft, err := network.NFT(netns.Path(n.Netns), knftables.IPv4Family, netpol.TableName)
	if err != nil {
		return nil, err
	}
	// cluster.networkPolicy.enforceEstablished: a change cuts the open connections it denies.
	// The verdict log (netpollog.go): drops and allows, rate limited, to the node's nflog group.
	e := netpol.New(nft, netpol.Options{Node: node, EnforceEstablished: s.plan.Cluster.NetworkPolicy.EnforceEstablished,
		LogDrops: true, LogAllows: true, LogGroup: netpolLogGroup})
	if !s.adopted {
		e.AssumeNew()
	}
	return e, nil
}

// openProxier opens kube-proxy's table in one node.
func (s *Supervisor) openProxier(node string) (*proxy.Proxier, error) {
	n, ok := s.plan.Node(node)
	if !ok {
		return nil, fmt.Errorf("no node %q", node)
	}
	nft, err := network.NFT(netns.Path(n.Netns), knftables.IPv4Family, "kube-proxy")
	if err != nil {
		return nil, err
	}
	// Partial syncs go to the kernel through netlink, without nft's listing of the
	// whole table before each transaction (cluster/proxy/README.md); full ones to nft.
	if fast, err := proxy.Netlink(nft, func(fn func() error) error { return nsutil.Do(netns.Path(n.Netns), fn) }); err == nil {
		nft = fast
	} else {
		s.log.Warn("kube-proxy: partial syncs through nft", "node", node, "err", err)
	}
	c := s.plan.Cluster
	px := proxy.New(nft, proxy.Node{Name: n.Name, IPs: []netip.Addr{n.IP.Addr()}, PodCIDR: n.PodCIDR, ClusterCIDR: c.PodCIDR, ServiceCIDR: c.ServiceCIDR})
	if !s.adopted { // a new lab: deploy made the node's namespace, kube-proxy's table is not there yet
		px.AssumeNew()
	}
	return px, nil
}

// Run serves until ctx ends: opens the store (seeding it from the plan on the first
// start, adopting the running lab on a later one), runs the components and the API.
func (s *Supervisor) Run(ctx context.Context) error {
	s.started = time.Now()
	hub, err := newEventHub(ctx, s.dir.Events(), s.dir.DeployEvents())
	if err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	s.events = hub
	defer s.events.close()
	t0 := time.Now()
	if s.store, err = store.Open(store.Path(s.dir.Path())); err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	defer s.store.Close()
	t1 := time.Now()
	adopted := s.store.Generation() > 0
	s.adopted = adopted
	if adopted {
		s.readmit()
	} else if err := s.seed(); err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	s.log.Info("store ready", "adopted", adopted, "open", t1.Sub(t0), "admit", time.Since(t1), "hub", t0.Sub(s.started))
	os.Remove(s.dir.Socket())
	ln, err := net.Listen("unix", s.dir.Socket())
	if err != nil {
		return fmt.Errorf("supervisor: listen on %s: %w", s.dir.Socket(), err)
	}
	defer os.Remove(s.dir.Socket())
	if err := os.WriteFile(s.dir.PIDFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("supervisor: %w", err)
	}
	s.components = s.buildComponents(s.events.emit, s.events.built)
	api := &http.Server{Handler: s.routes(), ReadHeaderTimeout: 5 * time.Second}
	go api.Serve(ln)
	if adopted {
		s.events.emit(events.Event{Type: events.SupervisorAdopted, Kind: "Lab", Name: s.plan.Lab,
			Message: fmt.Sprintf("pid %d resumed the lab from its store (%d objects, version %d)", os.Getpid(), s.objectCount(), s.store.Generation())})
	} else {
		s.events.emit(events.Event{Type: events.SupervisorStarted, Kind: "Lab", Name: s.plan.Lab, Message: fmt.Sprintf("pid %d", os.Getpid())})
	}
	s.startHosts()
	defer func() {
		for _, c := range s.closers {
			c.Close()
		}
		for _, h := range s.hosts {
			h.Close()
		}
	}()
	var wg sync.WaitGroup
	for _, c := range s.components {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(ctx, s.store); err != nil && ctx.Err() == nil {
				s.events.emit(events.Event{Type: events.Warning, Kind: "Lab", Name: s.plan.Lab, Message: c.Name() + ": " + err.Error()})
			}
		}()
	}
	if s.watcher != nil {
		go s.watchContainers(ctx)
	}
	go s.watchVerdictLog(ctx)
	go func() {
		if err := s.serveKubeAPI(ctx); err != nil {
			s.events.emit(events.Event{Type: events.Warning, Kind: "Lab", Name: s.plan.Lab, Message: "the Kubernetes API for kubectl: " + err.Error()})
		}
	}()
	<-ctx.Done()
	wg.Wait()
	s.events.emit(events.Event{Type: events.SupervisorStopped, Kind: "Lab", Name: s.plan.Lab})
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	api.Shutdown(sctx)
	return nil
}

func (s *Supervisor) objectCount() int {
	n := 0
	for _, k := range s.store.Kinds() {
		n += len(s.store.List(k, ""))
	}
	return n
}

// startHosts opens the built-in servers of the lab's hosts.
func (s *Supervisor) startHosts() {
	if len(s.plan.Nodes) > 0 {
		cp := controlPlane(s.plan)
		if a, err := serveAPIEndpoint(s.plan, cp, netns.Path(cp.Netns)); err != nil {
			s.events.emit(events.Event{Type: events.Warning, Kind: "Node", Name: cp.Name, Message: err.Error()})
		} else {
			s.closers = append(s.closers, a)
		}
	}
	for _, h := range s.plan.Hosts {
		if len(h.Zones) > 0 {
			s.startAuthority(h)
		}
		var ports []workload.Port
		for _, pt := range h.Ports {
			ports = append(ports, workload.Port{Port: pt.Port, Protocol: pt.Protocol})
		}
		if len(ports) == 0 {
			continue
		}
		srv, err := workload.Start(netns.Path(h.Netns), h.Name, ports)
		if err != nil {
			s.events.emit(events.Event{Type: events.Warning, Kind: "Host", Name: h.Name, Message: err.Error()})
		}
		if srv != nil {
			s.hosts = append(s.hosts, srv)
		}
	}
}

// startAuthority serves host h's zones on its port 53.
func (s *Supervisor) startAuthority(h plan.Host) {
	a, err := dns.NewAuthority(h.Zones)
	if err == nil {
		a.Log = s.queries.served(h.Name)
		var srv *dns.AuthorityServer
		if srv, err = a.ServeNetns(netns.Path(h.Netns)); err == nil {
			s.closers = append(s.closers, srv)
			return
		}
	}
	s.events.emit(events.Event{Type: events.Warning, Kind: "Host", Name: h.Name, Message: err.Error()})
}

// settle returns once every component has programmed generation gen and what they
// wrote in turn (a Service's endpoints, then kube-proxy's rules), or when ctx ends.
func (s *Supervisor) settle(ctx context.Context, gen uint64) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s.waitFor(ctx, s.components, gen, 8)
}

// drained returns once every component but kubelet has programmed generation gen
// and what they wrote in turn (the EndpointSlices must reach kube-proxy too).
func (s *Supervisor) drained(ctx context.Context, gen uint64) {
	var others []component.Component
	for _, c := range s.components {
		if c != component.Component(s.kubelet) {
			others = append(others, c)
		}
	}
	s.waitFor(ctx, others, gen, 4)
}

// waitFor returns once cs have all programmed gen, then the generation their own
// writes made, for at most rounds rounds, or when ctx ends.
func (s *Supervisor) waitFor(ctx context.Context, cs []component.Component, gen uint64, rounds int) {
	for round := 0; round < rounds; round++ {
		for !component.Settled(cs, gen) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Millisecond):
			}
		}
		next := s.store.Generation()
		if next == gen {
			return
		}
		gen = next
	}
}

// Settled says whether every component has programmed every change.
func (s *Supervisor) Settled() bool {
	return component.Settled(s.components, s.store.Generation())
}
