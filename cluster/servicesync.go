package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	"podlab.dev/podlab/cluster/proxy"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/network"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/topology"
)

// serviceSync is the Services component: the API server's Service registry
// (validation, ClusterIP/NodePort/LoadBalancer allocation), the endpoints controller
// (EndpointSlices and Endpoints from selectors and ready pods) and kube-proxy in
// nftables mode on every node, plus the MetalLB-style announcement of LoadBalancer IPs.
// Any change (a Service applied, a pod deleted, relabelled or changing readiness)
// triggers one coalesced sync.
type serviceSync struct {
	s        *Supervisor
	reg      *services.Registry
	proxiers map[string]*proxy.Proxier // by node

	mu      sync.Mutex
	manual  map[string]*discoveryv1.EndpointSlice // user-supplied, by namespace/name
	manEps  map[string]*v1.Endpoints
	gen     map[string][]byte // JSON of the generated objects, by store key, to spot changes
	lb      map[netip.Addr]string
	trigger chan struct{}
	synced  chan struct{} // closed and replaced after each sync (tests, apply)

	// wanted counts changes, done the changes the last finished sync covered: equal
	// means kube-proxy on every node has everything.
	wanted, done atomic.Int64

	ctx       context.Context // the supervisor's
	startOnce sync.Once
	built     bool // deploy has finished: kube-proxy may start
}

func newServiceSync(s *Supervisor) *serviceSync {
	c := s.plan.Cluster
	return &serviceSync{
		s:       s,
		reg:     services.NewRegistry(services.Config{ServiceCIDR: c.ServiceCIDR, LoadBalancerPool: c.LoadBalancerPool, Domain: c.Domain}),
		manual:  map[string]*discoveryv1.EndpointSlice{},
		manEps:  map[string]*v1.Endpoints{},
		gen:     map[string][]byte{},
		lb:      map[netip.Addr]string{},
		trigger: make(chan struct{}, 1),
		synced:  make(chan struct{}),
	}
}

// networkBuilt is called once deploy has built the network: kube-proxy starts then
// if the lab has Services (its nft processes would slow deploy down; measured about a
// second for 1,000 pods), else with the first Service applied.
func (ss *serviceSync) networkBuilt() {
	ss.mu.Lock()
	ss.built = true
	ss.mu.Unlock()
	if len(ss.reg.List()) > 0 || ss.hasManual() {
		ss.wanted.Add(1) // pending from now: deploy waits for the first sync
		ss.ensureStarted()
	}
}

func (ss *serviceSync) hasManual() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return len(ss.manual) > 0 || len(ss.manEps) > 0
}

// ensureStarted starts kube-proxy once, when deploy has finished.
func (ss *serviceSync) ensureStarted() {
	ss.mu.Lock()
	built := ss.built
	ss.mu.Unlock()
	if built {
		ss.startOnce.Do(func() { ss.start(ss.ctx) })
	}
}

// start opens kube-proxy's table on every node, in parallel (each is an nft process),
// and runs the sync loop until ctx ends. Failures become events: the lab runs on.
func (ss *serviceSync) start(ctx context.Context) {
	p := ss.s.plan
	proxiers := make(map[string]*proxy.Proxier, len(p.Nodes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range p.Nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nft, err := network.NFT(netns.Path(n.Netns), knftables.IPv4Family, "kube-proxy")
			if err != nil {
				ss.s.events.emit(events.Event{Type: events.Warning, Kind: "Node", Name: n.Name, Node: n.Name, Message: "kube-proxy: " + err.Error()})
				return
			}
			px := proxy.New(nft, proxy.Node{
				Name: n.Name, IPs: []netip.Addr{n.IP.Addr()}, PodCIDR: n.PodCIDR,
				ClusterCIDR: p.Cluster.PodCIDR, ServiceCIDR: p.Cluster.ServiceCIDR,
			})
			mu.Lock()
			proxiers[n.Name] = px
			mu.Unlock()
		}()
	}
	wg.Wait()
	ss.mu.Lock()
	ss.proxiers = proxiers
	ss.mu.Unlock()
	go ss.loop(ctx)
	ss.kick()
}

// nodeProxiers returns the proxiers once they exist.
func (ss *serviceSync) nodeProxiers() map[string]*proxy.Proxier {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.proxiers
}

func (ss *serviceSync) kick() {
	if ss.nodeProxiers() == nil { // not started: the first sync will cover everything
		return
	}
	ss.wanted.Add(1)
	select {
	case ss.trigger <- struct{}{}:
	default:
	}
}

// settled says whether every change so far has been synced.
func (ss *serviceSync) settled() bool { return ss.done.Load() == ss.wanted.Load() }

// waitSettled returns once every change so far has been synced, or after a timeout
// (a sync that fails still settles: its errors become events).
func (ss *serviceSync) waitSettled(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for !ss.settled() {
		ss.mu.Lock()
		ch := ss.synced
		ss.mu.Unlock()
		if ss.settled() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

func (ss *serviceSync) loop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-ss.trigger:
		}
		time.Sleep(5 * time.Millisecond) // coalesce a burst of changes into one sync
		select {
		case <-ss.trigger:
		default:
		}
		covered := ss.wanted.Load()
		ss.sync(ctx)
		ss.done.Store(covered)
		ss.mu.Lock()
		close(ss.synced)
		ss.synced = make(chan struct{})
		ss.mu.Unlock()
	}
}

// pods is the endpoints controller's view of the lab's pods.
func (ss *serviceSync) pods() []services.Pod {
	s := ss.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]services.Pod, 0, len(s.plan.Pods))
	for _, p := range s.plan.Pods {
		out = append(out, services.Pod{Namespace: p.Namespace, Name: p.Name, Node: p.Node, IP: p.IP, Labels: p.Labels, Ready: s.ready[p.Key()].Ready, Ports: p.Ports})
	}
	return out
}

func (ss *serviceSync) sync(ctx context.Context) {
	svcs := ss.reg.List()
	pods := ss.pods()
	var slices []*discoveryv1.EndpointSlice
	seen := map[string]bool{}
	now := time.Now()
	for _, svc := range svcs {
		if !services.Managed(svc) {
			continue
		}
		sl := services.EndpointSlices(svc, pods)
		slices = append(slices, sl...)
		changed := false
		for _, e := range sl {
			changed = ss.storeGenerated(topoObject("discovery.k8s.io/v1", "EndpointSlice", e.Namespace, e.Name, e), seen, now) || changed
		}
		if eps := services.Endpoints(svc, pods); eps != nil {
			changed = ss.storeGenerated(topoObject("v1", "Endpoints", eps.Namespace, eps.Name, eps), seen, now) || changed
		}
		if changed {
			ss.s.events.emit(events.Event{Type: events.EndpointsChanged, Kind: "Service", Namespace: svc.Namespace, Name: svc.Name, Message: endpointList(sl)})
		}
	}
	ss.mu.Lock()
	for k := range ss.gen { // objects of Services gone or slices no longer needed
		if !seen[k] {
			delete(ss.gen, k)
			parts := strings.SplitN(k, "/", 3)
			ss.s.objects.remove(ObjectRef{Kind: parts[0], Namespace: parts[1], Name: parts[2]})
		}
	}
	for _, sl := range ss.manual {
		slices = append(slices, sl)
	}
	ss.mu.Unlock()
	for _, ep := range ss.manualEndpointsAsSlices(svcs) {
		slices = append(slices, ep)
	}
	var wg sync.WaitGroup
	for node, px := range ss.nodeProxiers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := px.Sync(ctx, svcs, slices); err != nil && ctx.Err() == nil {
				ss.s.events.emit(events.Event{Type: events.Warning, Kind: "Node", Name: node, Node: node, Message: "kube-proxy sync: " + err.Error()})
			}
		}()
	}
	wg.Wait()
	ss.announce(svcs, pods)
}

// storeGenerated keeps a controller-made object in the object store; it says whether
// it changed.
func (ss *serviceSync) storeGenerated(o topology.Object, seen map[string]bool, now time.Time) bool {
	k := o.Kind + "/" + o.Namespace + "/" + o.Name
	seen[k] = true
	ss.mu.Lock()
	old, ok := ss.gen[k]
	ss.gen[k] = o.Raw
	ss.mu.Unlock()
	if ok && bytes.Equal(old, o.Raw) {
		return false
	}
	ss.s.objects.apply(o, now)
	return true
}

// manualEndpointsAsSlices turns user-supplied v1 Endpoints of selectorless Services
// into EndpointSlices, as the EndpointSlice mirroring controller does.
func (ss *serviceSync) manualEndpointsAsSlices(svcs []*v1.Service) []*discoveryv1.EndpointSlice {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var out []*discoveryv1.EndpointSlice
	for key, eps := range ss.manEps {
		has := false
		for _, sl := range ss.manual {
			if sl.Labels[discoveryv1.LabelServiceName] == eps.Name && sl.Namespace == eps.Namespace {
				has = true
			}
		}
		if has {
			continue // slices given for the same Service win
		}
		for i, sub := range eps.Subsets {
			sl := &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4}
			sl.Name = fmt.Sprintf("%s-mirror-%d", eps.Name, i)
			sl.Namespace = eps.Namespace
			sl.Labels = map[string]string{discoveryv1.LabelServiceName: eps.Name, discoveryv1.LabelManagedBy: "endpointslicemirroring-controller.k8s.io"}
			for _, p := range sub.Ports {
				name, port, proto := p.Name, p.Port, p.Protocol
				sl.Ports = append(sl.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto})
			}
			ready := true
			for _, a := range sub.Addresses {
				sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{a.IP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: a.NodeName})
			}
			out = append(out, sl)
		}
		_ = key
	}
	return out
}

// announce answers ARP for each LoadBalancer IP from one node, as MetalLB's layer-2
// mode does: the address is put on that node's uplink (a /32 without a prefix route),
// on a node with a local endpoint for externalTrafficPolicy Local, else on a node
// picked by a hash of the IP so the choice is stable.
func (ss *serviceSync) announce(svcs []*v1.Service, pods []services.Pod) {
	want := map[netip.Addr]string{}
	nodes := ss.s.plan.Nodes
	for _, svc := range svcs {
		for _, in := range svc.Status.LoadBalancer.Ingress {
			ip, err := netip.ParseAddr(in.IP)
			if err != nil || len(nodes) == 0 {
				continue
			}
			h := fnv.New32a()
			h.Write(ip.AsSlice())
			node := nodes[int(h.Sum32())%len(nodes)].Name
			if svc.Spec.ExternalTrafficPolicy == v1.ServiceExternalTrafficPolicyLocal {
				var local []string
				for i := range pods {
					if pods[i].Ready && services.Selects(svc, &pods[i]) {
						local = append(local, pods[i].Node)
					}
				}
				sort.Strings(local)
				if len(local) > 0 {
					node = local[0]
				}
			}
			want[ip] = node
		}
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for ip, node := range ss.lb {
		if want[ip] != node {
			if err := lbAddr(ss.s.plan, node, ip, false); err == nil {
				delete(ss.lb, ip)
			}
		}
	}
	for ip, node := range want {
		if ss.lb[ip] == node {
			continue
		}
		if err := lbAddr(ss.s.plan, node, ip, true); err != nil {
			ss.s.events.emit(events.Event{Type: events.Warning, Kind: "Node", Name: node, Node: node, Message: fmt.Sprintf("announce %s: %v", ip, err)})
			continue
		}
		ss.lb[ip] = node
		ss.s.events.emit(events.Event{Type: events.LoadBalancerAnnounced, Kind: "Node", Name: node, Node: node, Message: ip.String()})
	}
}

// lbAddr adds or removes a LoadBalancer IP on a node's uplink.
func lbAddr(p *plan.Plan, node string, ip netip.Addr, add bool) error {
	n, ok := p.Node(node)
	if !ok {
		return fmt.Errorf("no node %q", node)
	}
	h, done, err := handleIn(n.Netns)
	if err != nil {
		return err
	}
	defer done()
	l, err := h.LinkByName(plan.Uplink)
	if err != nil {
		return err
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(32, 32)}, Flags: 0x200 /* IFA_F_NOPREFIXROUTE */, Label: plan.Uplink}
	if add {
		return h.AddrReplace(l, a)
	}
	return h.AddrDel(l, a)
}

func topoObject(apiVersion, kind, ns, name string, v any) topology.Object {
	raw, _ := json.Marshal(v)
	return topology.Object{APIVersion: apiVersion, Kind: kind, Namespace: ns, Name: name, Applied: true, Raw: raw}
}

func endpointList(sl []*discoveryv1.EndpointSlice) string {
	var addrs []string
	for _, s := range sl {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				addrs = append(addrs, e.Addresses...)
			}
		}
	}
	sort.Strings(addrs)
	if len(addrs) == 0 {
		return "no ready endpoints"
	}
	return strings.Join(addrs, ",")
}

// counters sums kube-proxy's per-endpoint counters of every node into cs.
func (ss *serviceSync) counters(ctx context.Context, cs *CounterSet) error {
	cs.Services, cs.Endpoints = map[string]PacketCount{}, map[string]PacketCount{}
	for node, px := range ss.nodeProxiers() {
		m, err := px.Counters(ctx)
		if err != nil {
			return fmt.Errorf("node %s: %w", node, err)
		}
		for key, c := range m {
			if strings.Contains(key, "@") {
				e := cs.Endpoints[key]
				e.Packets, e.Bytes = e.Packets+c.Packets, e.Bytes+c.Bytes
				cs.Endpoints[key] = e
				continue
			}
			svc, _, _ := strings.Cut(key, ":") // "ns/name:port": a Service sums its ports
			t := cs.Services[svc]
			t.Packets, t.Bytes = t.Packets+c.Packets, t.Bytes+c.Bytes
			cs.Services[svc] = t
		}
	}
	return nil
}
