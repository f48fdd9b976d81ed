// Package kubelet turns the lab's scheduled Pods into running pods, as kubelet does on
// each node: a sandbox from the runtime (a network namespace or a container), CNI ADD
// in the pod's node, the pod's servers (the images it emulates, see package workload),
// its probes (readiness, liveness, startup) and restarts with CrashLoopBackOff's
// back-off, and the Pod's status (phase, conditions, podIP, containerStatuses with
// restartCount). A Pod marked for deletion is torn down (servers, CNI DEL, sandbox) and
// then removed from the store, so its endpoints leave before its network does.
//
// It re-adopts what exists: a pod whose namespace is already there (built by deploy, or
// running before the supervisor restarted) keeps its address and its attachment; only
// its servers are opened again. It never writes objects other than Pods, and never
// touches another component's state.
package kubelet

import (
	"context"
	"fmt"
	vnetns "github.com/vishvananda/netns"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/cni"
	"podlab.dev/podlab/events"
	podruntime "podlab.dev/podlab/runtime"
)

// Runtime supplies and removes pods' sandboxes.
type Runtime interface {
	Create(ctx context.Context, s podruntime.Sandbox) (string, error)
	Delete(ctx context.Context, name string) error
}

// Network is the CNI network of one node.
type Network interface {
	Add(ctx context.Context, a cni.Attachment) (*cni.Result, error)
	Del(ctx context.Context, a cni.Attachment) error
}

// Node is one node kubelet runs pods on.
type Node struct {
	Name    string
	Netns   string       // path of the node's namespace: probes run from there, as kubelet's do
	IP      string       // its address, the pods' hostIP
	Subnet  netip.Prefix // its pod subnet: .1 is the gateway
	Network Network
}

// Config is what kubelet needs of the lab.
type Config struct {
	Lab     string
	Nodes   []Node
	Runtime Runtime
	// NetnsName and NetnsPath name a pod's sandbox (the lab's mark is in the name).
	NetnsName func(namespace, name string) string
	NetnsPath func(name string) string
	// ContainerID is the CNI container ID of a pod's sandbox.
	ContainerID func(namespace, name string) string
	// Serves and ServedBy hand a pod's containers to another component that serves
	// them in-process (the cluster DNS serves the CoreDNS pods): Serves says which pods,
	// ServedBy opens their ports in the pod's namespace.
	Serves   func(p *corev1.Pod) bool
	ServedBy func(p *corev1.Pod, netnsPath string) (Closer, error)
	// OwnImage says whether a pod's image runs itself (Docker runtime), serving its own
	// ports, instead of podlab's emulation.
	OwnImage func(image string) bool
	Sysctls  map[string]string
	// Built is closed once deploy has built the network: until then only attached
	// pods are probed (see Attached).
	Built <-chan struct{}
	// Attached says whether deploy has attached a pod's network while it still builds
	// the rest: such a pod is probed at once (nil: probes wait for Built).
	Attached func(namespace, name string) bool
	// ProbeInterval is how often a pod without a readinessProbe is checked again once
	// ready (kubelet itself does not; podlab checks its servers answer).
	ProbeInterval time.Duration
	// Drained returns once the rest of the cluster has programmed generation gen (a
	// pod marked for deletion has left every Service's endpoints on every node):
	// kubelet stops a terminating pod's servers only then, so no request is lost.
	Drained func(ctx context.Context, gen uint64)
	Writer  component.Writer
	Emit    component.Emit
	Log     func(msg string, args ...any)
	Info    func(msg string, args ...any)
}

// Kubelet runs the pods of every node of the lab.
type Kubelet struct {
	component.Loop
	cfg   Config
	nodes map[string]*Node

	mu   sync.Mutex
	pods map[types.UID]*podState
	// names maps namespace/name to the uid whose sandbox holds that name: a
	// StatefulSet's pod comes back under its name only after the old one is gone.
	names map[string]types.UID
	kick  chan struct{}
	r     store.Reader
	// cursor is each node's last allocated address: new pods take the next free one,
	// round-robin as host-local does, so a replacement gets a new address.
	cursor      map[string]netip.Addr
	handles     map[string]vnetns.NsHandle // nodes' namespaces, for probes
	probeTables sync.Map                   // node name -> its podlab-probes table is made (ProbeTraffic)
	probeKick   chan struct{}              // a container started: the probe loop looks again
	qmu         sync.Mutex
	queued      map[*podState]struct{} // statuses to write with the next batch
	qkick       chan struct{}
	handleMu    sync.Mutex
	// adopted is closed once the first sync has started (or adopted) every pod: a
	// restarted supervisor lets kube-proxy resync only then, since the kernel's rules
	// carry traffic meanwhile but the pods' servers do not exist until kubelet opens them.
	adopted     chan struct{}
	adoptedOnce sync.Once
}

// Adopted is closed once kubelet has run every pod the store had when it started.
func (k *Kubelet) Adopted() <-chan struct{} { return k.adopted }

// New returns a kubelet for the lab's nodes.
func New(cfg Config) *Kubelet {
	k := &Kubelet{cfg: cfg, nodes: map[string]*Node{}, pods: map[types.UID]*podState{}, names: map[string]types.UID{}, kick: make(chan struct{}, 1), cursor: map[string]netip.Addr{}, handles: map[string]vnetns.NsHandle{}, probeKick: make(chan struct{}, 1), queued: map[*podState]struct{}{}, qkick: make(chan struct{}, 1), adopted: make(chan struct{})}
	for i := range cfg.Nodes {
		k.nodes[cfg.Nodes[i].Name] = &cfg.Nodes[i]
	}
	// Its own status writes (and the scheduler's) change nothing kubelet runs.
	k.Interest = func(_ store.Reader, c store.Change) bool { return c.Key.Kind == "Pod" && !c.Status }
	if k.cfg.ProbeInterval == 0 {
		k.cfg.ProbeInterval = time.Second
	}
	if k.cfg.Log == nil {
		k.cfg.Log = func(string, ...any) {}
	}
	if k.cfg.Info == nil {
		k.cfg.Info = func(string, ...any) {}
	}
	return k
}

func (k *Kubelet) Name() string { return "kubelet" }

// Run runs pods until ctx ends; their servers close then, their sandboxes stay (a
// restarted supervisor adopts them).
func (k *Kubelet) Run(ctx context.Context, r store.Reader) error {
	k.r = r
	go k.probeLoop(ctx)
	go k.flushStatuses(ctx)
	go func() {
		select {
		case <-k.built():
			k.Loop.Kick()
		case <-ctx.Done():
		}
	}()
	first := time.Now()
	err := k.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) {
		k.sync(ctx, r)
		k.adoptedOnce.Do(func() {
			k.mu.Lock()
			n := len(k.pods)
			k.mu.Unlock()
			k.cfg.Info("kubelet: first sync", "pods", n, "took", time.Since(first))
			close(k.adopted)
		})
	})
	k.mu.Lock()
	for _, ps := range k.pods {
		ps.stopServer()
	}
	k.mu.Unlock()
	k.handleMu.Lock()
	for _, h := range k.handles {
		h.Close()
	}
	clear(k.handles)
	k.handleMu.Unlock()
	return err
}

func (k *Kubelet) built() <-chan struct{} {
	if k.cfg.Built == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	return k.cfg.Built
}

func (k *Kubelet) isBuilt() bool {
	select {
	case <-k.built():
		return true
	default:
		return false
	}
}

func (k *Kubelet) emit(typ string, p *corev1.Pod, format string, args ...any) {
	if k.cfg.Emit != nil {
		k.cfg.Emit(events.Event{Type: typ, Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName, Message: fmt.Sprintf(format, args...)})
	}
}

// acceptGrace is how long a deleted pod's servers keep accepting once the rest of
// the cluster stopped sending it connections.
const acceptGrace = 100 * time.Millisecond

// sync makes the sandboxes match the store: new pods are started, pods marked for
// deletion or gone are torn down, in parallel, before sync returns.
func (k *Kubelet) sync(ctx context.Context, r store.Reader) {
	objs := r.List("Pod", "")
	seen := make(map[types.UID]bool, len(objs))
	var work []func()
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if p.Spec.NodeName != "" && k.nodes[p.Spec.NodeName] == nil && p.DeletionTimestamp != nil {
			// Bound to a node this lab does not have: nothing ever ran, nothing to tear
			// down (the API server's pod GC removes such pods on a cluster).
			k.cfg.Writer.Delete("Pod", p.Namespace, p.Name)
			continue
		}
		if p.Spec.NodeName == "" || k.nodes[p.Spec.NodeName] == nil {
			continue // not scheduled, or to a node this lab does not have: stays Pending
		}
		seen[p.UID] = true
		k.mu.Lock()
		ps := k.pods[p.UID]
		if ps != nil {
			ps.mu.Lock() // writeStatus sets it too
			ps.pod = p
			ps.mu.Unlock()
		}
		holder, taken := k.names[p.Namespace+"/"+p.Name]
		k.mu.Unlock()
		switch {
		case p.DeletionTimestamp != nil:
			work = append(work, func() {
				if ps != nil && k.cfg.Drained != nil {
					rv, _ := strconv.ParseUint(p.ResourceVersion, 10, 64)
					dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
					k.cfg.Drained(dctx, rv)
					cancel()
					// Connections kube-proxy sent here just before it stopped are
					// still in the listeners' accept queues: serve them before the
					// servers close (closing a listener resets what it had not
					// accepted; a rollout lost a request in about one run in ten).
					time.Sleep(acceptGrace)
				}
				k.teardown(ctx, p, ps)
			})
		case ps != nil:
			if ps.terminal && !ps.reported {
				work = append(work, func() { k.writeStatus(ps) })
			}
		case taken && holder != p.UID:
			// The name's previous pod is still being torn down.
		case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
		case !k.isBuilt() && p.Status.PodIP != "" && !k.deployAttached(p):
			// A pod deploy plans (seeded with its address) whose sandbox deploy has not
			// made yet: deploy makes it; kubelet adopts it once it exists or the build is
			// done. Creating it here too raced deploy for the same namespace (under load,
			// a planned pod failed and its ReplicaSet replaced it).
		default:
			// Created at once, also while deploy builds (the cluster DNS's pods): the
			// node's namespace exists, and the address kubelet picks is none of the
			// store's, which holds every pod deploy plans.
			work = append(work, func() { k.start(ctx, p) })
		}
	}
	k.mu.Lock()
	for uid, ps := range k.pods {
		if !seen[uid] && !ps.deleting { // deleted from the store directly (a cascade)
			ps.deleting = true
			work = append(work, func() { k.teardown(ctx, nil, ps) })
		}
	}
	k.mu.Unlock()
	// Adopting a running pod is cheap (its servers only): many at once. Creating one
	// costs a namespace and CNI ADD: fewer.
	n := 8
	if k.isBuilt() && len(work) > 64 { // a restarted supervisor adopting a running lab
		n = 32
	}
	parallel(work, n)
}

func parallel(fns []func(), n int) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, n)
	for _, fn := range fns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			fn()
		}()
	}
	wg.Wait()
}

func (k *Kubelet) sandboxExists(p *corev1.Pod) bool {
	_, err := os.Stat(k.cfg.NetnsPath(k.cfg.NetnsName(p.Namespace, p.Name)))
	return err == nil
}

// Closer is a pod's running servers.
type Closer interface{ Close() }

func (k *Kubelet) served(p *corev1.Pod) bool { return k.cfg.Serves != nil && k.cfg.Serves(p) }

// Ready counts the lab's pods and those ready, for deploy's wait. A pod the
// scheduler found no node for, or bound to a node the lab does not have, is Pending
// by design (the lesson is why): it is not counted.
func Ready(r store.Reader) (ready, total int) {
	nodes := map[string]bool{}
	for _, n := range r.List("Node", "") {
		nodes[n.GetName()] = true
	}
	for _, o := range r.List("Pod", "") {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp != nil || p.Spec.NodeName != "" && !nodes[p.Spec.NodeName] {
			continue
		}
		unschedulable := false
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				unschedulable = true
			}
		}
		if unschedulable && p.Spec.NodeName == "" {
			continue
		}
		total++
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	return ready, total
}

// podIP is the pod's address as its status says.
func podIP(p *corev1.Pod) netip.Addr {
	a, _ := netip.ParseAddr(p.Status.PodIP)
	return a
}

// nextIP picks a new pod's address on node: the first free one after the node's
// cursor, wrapping around, skipping the gateway and the broadcast address.
func (k *Kubelet) nextIP(node *Node) netip.Addr {
	if !node.Subnet.IsValid() {
		return netip.Addr{}
	}
	used := map[netip.Addr]bool{}
	var highest netip.Addr
	if k.r != nil {
		for _, o := range k.r.List("Pod", "") {
			p := o.(*corev1.Pod)
			if ip := podIP(p); ip.IsValid() && p.Spec.NodeName == node.Name {
				used[ip] = true
				if !highest.IsValid() || highest.Less(ip) {
					highest = ip
				}
			}
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, ps := range k.pods {
		if ps.ip.IsValid() {
			used[ps.ip] = true
		}
	}
	cur, ok := k.cursor[node.Name]
	if !ok {
		cur = highest
	}
	first := node.Subnet.Masked().Addr().Next().Next() // .2
	last := lastAddr(node.Subnet).Prev()               // before broadcast
	if !cur.IsValid() || !node.Subnet.Contains(cur) {
		cur = first.Prev()
	}
	ip := cur
	for range 1 << min(16, 32-node.Subnet.Bits()) {
		ip = ip.Next()
		if !node.Subnet.Contains(ip) || last.Less(ip) {
			ip = first
		}
		if !used[ip] {
			k.cursor[node.Name] = ip
			return ip
		}
	}
	return netip.Addr{}
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	bits := 32 - p.Bits()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= (1 << bits) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// advanceCursor moves node's allocation cursor past ip, an address in use: a new pod
// then never takes an address a pod had since this kubelet started.
func (k *Kubelet) advanceCursor(node *Node, ip netip.Addr) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if cur, ok := k.cursor[node.Name]; !ok || cur.Less(ip) {
		k.cursor[node.Name] = ip
	}
}

// deployAttached says whether deploy has attached planned pod p yet: what deploy
// reported (a map lookup, for every pending pod on every sync during the build), else
// whether its sandbox exists.
func (k *Kubelet) deployAttached(p *corev1.Pod) bool {
	if k.cfg.Attached != nil {
		return k.cfg.Attached(p.Namespace, p.Name)
	}
	return k.sandboxExists(p)
}
