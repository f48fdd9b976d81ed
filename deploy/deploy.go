// Package deploy builds a planned lab through a runtime and tears it down: a list of
// small steps sharing one context, reporting progress through one callback, and
// rolling back everything it made when a step fails or the context is cancelled. It
// owns the order of creation; netlink details live in network, pod interfaces in cni.
package deploy

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cni"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/network"
	"podlab.dev/podlab/plan"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

// Progress receives one status line per step and counters for long steps.
type Progress func(step string, done, total int)

// Options tune a deploy.
type Options struct {
	Root     string // state root
	Runtime  podruntime.Runtime
	Progress Progress
	// StartSupervisor starts the lab's supervisor once the network exists; it must
	// return when the supervisor answers on its socket.
	StartSupervisor func(ctx context.Context, dir state.Dir) error
	Parallel        int
}

// Result says what was built.
type Result struct {
	Plan     *plan.Plan
	Sysctls  []SysctlChange
	Duration time.Duration
}

type deployer struct {
	opt  Options
	p    *plan.Plan
	dir  state.Dir
	log  *events.Log
	prog Progress

	mu    sync.Mutex
	paths map[string]string // netns name -> path
}

// Deploy builds p. On any failure or cancellation, what was made is removed again
// and the error returned. The caller holds the lab's lock.
func Deploy(ctx context.Context, p *plan.Plan, opt Options) (res *Result, err error) {
	start := time.Now()
	if opt.Parallel <= 0 {
		opt.Parallel = 8
	}
	if opt.Progress == nil {
		opt.Progress = func(string, int, int) {}
	}
	d := &deployer{opt: opt, p: p, dir: state.For(opt.Root, p.Lab), prog: opt.Progress, paths: map[string]string{}}
	if d.dir.Exists() {
		return nil, fmt.Errorf("lab %q is already deployed; run `podlab deploy --reconfigure` to rebuild it or `podlab destroy --name %s` first", p.Lab, p.Lab)
	}
	if left, _ := opt.Runtime.List(ctx, plan.NetnsPrefix(p.Lab)); len(left) > 0 {
		d.prog("removing leftovers of an earlier deploy", 0, 0)
		if _, err := Destroy(context.WithoutCancel(ctx), p.Lab, DestroyOptions{Root: opt.Root, Runtime: opt.Runtime}); err != nil {
			return nil, err
		}
	}
	if err := d.dir.Create(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			d.log.Close()
			d.prog("rolling back", 0, 0)
			if _, derr := Destroy(context.WithoutCancel(ctx), p.Lab, DestroyOptions{Root: opt.Root, Runtime: opt.Runtime}); derr != nil {
				err = fmt.Errorf("%w (and rollback failed: %v)", err, derr)
			}
		}
	}()
	if d.log, err = events.OpenLog(d.dir.DeployEvents()); err != nil {
		return nil, err
	}
	if err = d.dir.WritePlan(p); err != nil {
		return nil, err
	}
	changes, err := raiseNeighbourLimits(opt.Root, p.Lab, p.Neighbours)
	if err != nil {
		return nil, err
	}
	for _, c := range changes {
		d.log.Emit(events.Event{Type: events.HostLimitChanged, Kind: "Lab", Name: p.Lab, Message: c.String()})
	}
	d.prog("creating namespaces", 0, 0)
	if err = d.namespaces(ctx); err != nil {
		return nil, err
	}
	// Once the namespaces exist, the supervisor can open every pod's servers while the
	// links are being made; nodes and pods are wired at the same time too, since a
	// pod's interface needs only its node's namespace.
	g, gctx := errgroup.WithContext(ctx)
	if opt.StartSupervisor != nil {
		g.Go(func() error { return opt.StartSupervisor(gctx, d.dir) })
	}
	g.Go(func() error {
		if err := d.underlay(gctx); err != nil {
			return err
		}
		return d.nodes(gctx)
	})
	g.Go(func() error { return d.pods(gctx) })
	if err = g.Wait(); err != nil {
		return nil, err
	}
	if err = ctx.Err(); err != nil {
		return nil, err
	}
	for _, o := range p.Objects {
		if !o.Applied {
			d.log.Emit(events.Event{Type: events.ObjectNotApplied, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name, Message: topology.NotEnforced(o.Kind)})
		}
	}
	d.log.Emit(events.Event{Type: events.DeployFinished, Kind: "Lab", Name: p.Lab, Message: fmt.Sprintf("network built in %s", time.Since(start).Round(time.Millisecond))})
	if err = d.log.Close(); err != nil {
		return nil, err
	}
	return &Result{Plan: p, Sysctls: changes, Duration: time.Since(start)}, ctx.Err()
}

// parallel runs fn over n items with the deploy's bound, counting progress.
func (d *deployer) parallel(ctx context.Context, step string, n int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(d.opt.Parallel)
	var done atomic.Int64
	for i := 0; i < n; i++ {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			if err := fn(gctx, i); err != nil {
				return err
			}
			d.prog(step, int(done.Add(1)), n)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func (d *deployer) path(name string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.paths[name]
}

func (d *deployer) namespaces(ctx context.Context) error {
	p := d.p
	var boxes []podruntime.Sandbox
	boxes = append(boxes, podruntime.Sandbox{Lab: p.Lab, Name: p.Underlay.Netns, Kind: podruntime.KindUnderlay})
	for _, n := range p.Nodes {
		boxes = append(boxes, podruntime.Sandbox{Lab: p.Lab, Name: n.Netns, Kind: podruntime.KindNode, Node: n.Name})
	}
	for _, h := range p.Hosts {
		boxes = append(boxes, podruntime.Sandbox{Lab: p.Lab, Name: h.Netns, Kind: podruntime.KindHost})
	}
	for _, pod := range p.Pods {
		boxes = append(boxes, podruntime.Sandbox{Lab: p.Lab, Name: pod.Netns, Kind: podruntime.KindPod, Node: pod.Node, Image: pod.Image, Security: security(&pod)})
	}
	for i := range boxes {
		boxes[i].Sysctls = plan.Sysctls()
	}
	return d.parallel(ctx, "creating namespaces", len(boxes), func(ctx context.Context, i int) error {
		path, err := d.opt.Runtime.Create(ctx, boxes[i])
		if err != nil {
			return err
		}
		d.mu.Lock()
		d.paths[boxes[i].Name] = path
		d.mu.Unlock()
		d.log.Emit(events.Event{Type: events.NetnsCreated, Kind: strings.ToUpper(boxes[i].Kind[:1]) + boxes[i].Kind[1:], Name: boxes[i].Name, Node: boxes[i].Node})
		return nil
	})
}

// security is what a planned pod's container may do, as kubelet gives it to the
// runtime for the pods it creates itself.
func security(pod *plan.Pod) *podruntime.Security {
	return podruntime.SecurityFromPod(&corev1.PodSpec{
		SecurityContext: pod.SecurityContext,
		Containers:      []corev1.Container{{SecurityContext: pod.ContainerSecurity}},
	})
}

func (d *deployer) underlay(ctx context.Context) error {
	p := d.p
	upath := d.path(p.Underlay.Netns)
	if err := network.Underlay(upath, p.Underlay.Bridge, p.Lab, p.Cluster.MTU); err != nil {
		return err
	}
	type member struct {
		name, netns string
		ip          netip.Prefix
		host        bool
	}
	var ms []member
	for _, n := range p.Nodes {
		ms = append(ms, member{n.Name, n.Netns, n.IP, false})
	}
	for _, h := range p.Hosts {
		ms = append(ms, member{h.Name, h.Netns, h.IP, true})
	}
	d.prog("wiring the underlay", 0, 0)
	return d.parallel(ctx, "wiring the underlay", len(ms), func(ctx context.Context, i int) error {
		m := ms[i]
		port := fmt.Sprintf("p%d", i) // bridge port in the underlay namespace
		if err := network.Uplink(upath, p.Underlay.Bridge, d.path(m.netns), port, plan.Uplink, p.Lab, m.ip, p.Cluster.MTU); err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		d.log.Emit(events.Event{Type: events.LinkUp, Kind: "Link", Name: m.name + "/" + plan.Uplink, Message: m.ip.String() + " on the underlay"})
		if m.host {
			if err := network.ApplyOverlay(d.path(m.netns), p.HostRoutes()); err != nil {
				return fmt.Errorf("host %s: %w", m.name, err)
			}
		}
		return nil
	})
}

func (d *deployer) nodes(ctx context.Context) error {
	p := d.p
	d.prog("setting up nodes and the "+p.Cluster.Overlay+" overlay", 0, 0)
	return d.parallel(ctx, "setting up nodes", len(p.Nodes), func(ctx context.Context, i int) error {
		n := &p.Nodes[i]
		path := d.path(n.Netns)
		if err := network.Sysctls(path, map[string]string{
			"net/ipv4/ip_forward":                 "1",
			"net/bridge/bridge-nf-call-iptables":  "1",
			"net/bridge/bridge-nf-call-ip6tables": "1",
			"net/ipv4/conf/all/rp_filter":         "0",
			"net/ipv4/conf/default/rp_filter":     "0",
		}); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		if p.Cluster.Overlay != "host-gw" {
			if err := network.SetupVXLAN(path, p.Lab, network.VXLAN{
				Name: plan.VXLANDevice, VNI: plan.VXLANVNI, Port: plan.VXLANPort, Local: n.IP.Addr(), Dev: plan.Uplink,
				MAC: n.VTEPMAC, Addr: netip.PrefixFrom(n.PodCIDR.Masked().Addr(), 32), MTU: p.Cluster.MTU - plan.VXLANOverhead,
			}); err != nil {
				return fmt.Errorf("node %s: %w", n.Name, err)
			}
			d.log.Emit(events.Event{Type: events.LinkUp, Kind: "Link", Name: n.Name + "/" + plan.VXLANDevice, Node: n.Name})
		}
		o := p.OverlayFor(n)
		o.Routes = append(o.Routes, p.ServiceRoute())
		if err := network.ApplyOverlay(path, o); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		if err := network.Masquerade(ctx, path, p.Lab, p.Cluster.PodCIDR); err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		d.log.Emit(events.Event{Type: events.NodeReady, Kind: "Node", Name: n.Name, Node: n.Name, Message: "pod subnet " + n.PodCIDR.String()})
		return nil
	})
}

func (d *deployer) pods(ctx context.Context) error {
	p := d.p
	nets := map[string]*cni.NodeNetwork{}
	for i := range p.Nodes {
		n := &p.Nodes[i]
		nn, err := NodeNetwork(p, n, d.dir, d.path(n.Netns))
		if err != nil {
			return err
		}
		nets[n.Name] = nn
	}
	d.prog("attaching pods through CNI", 0, 0)
	return d.parallel(ctx, "attaching pods", len(p.Pods), func(ctx context.Context, i int) error {
		pod := &p.Pods[i]
		res, err := nets[pod.Node].Add(ctx, Attachment(pod, d.path(pod.Netns)))
		if err != nil {
			return fmt.Errorf("pod %s: CNI ADD: %w", pod.Key(), err)
		}
		if res.IP.Addr() != pod.IP {
			return fmt.Errorf("pod %s: CNI gave %s, the plan says %s", pod.Key(), res.IP, pod.IP)
		}
		d.log.Emit(events.Event{Type: events.PodNetworkReady, Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, Node: pod.Node, Message: res.IP.String() + " on " + plan.PodInterface})
		return nil
	})
}

// NodeNetwork is the CNI network of node n, as deploy attaches its pods and as the
// supervisor detaches them: one conflist per node in the lab's state directory.
func NodeNetwork(p *plan.Plan, n *plan.Node, dir state.Dir, nodeNetns string) (*cni.NodeNetwork, error) {
	nn, err := cni.NewNodeNetwork(cni.NodeConfig{
		Lab: p.Lab, Node: n.Name, NodeNetns: nodeNetns, Dir: dir.CNI(n.Name),
		Subnet: n.PodCIDR, ClusterCIDR: p.Cluster.PodCIDR, MTU: n.PodMTU, Plugins: p.Cluster.CNI,
	})
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	return nn, nil
}

// Attachment is the CNI attachment of a pod.
func Attachment(pod *plan.Pod, netnsPath string) cni.Attachment {
	return cni.Attachment{
		ContainerID: pod.ContainerID, Netns: netnsPath, IfName: plan.PodInterface,
		IP: pod.IP, PodNamespace: pod.Namespace, PodName: pod.Name,
	}
}
