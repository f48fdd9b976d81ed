package kubelet

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/probe"
	"podlab.dev/podlab/cni"
	"podlab.dev/podlab/events"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/workload"
)

// Annotation that pins a pod's address (the lab file's documented pin).
const AnnotationIP = "podlab.dev/ip"

// podState is what kubelet knows of one running pod.
type podState struct {
	mu       sync.Mutex
	reqlog   *workload.RequestLog // what its built-in servers answered, across restarts
	rewire   sync.Mutex           // held while the sandbox is re-wired (Recreate) or torn down
	pod      *corev1.Pod          // the latest object seen
	node     *Node
	netns    string // name
	path     string
	cid      string
	ip       netip.Addr
	started  time.Time // sandbox ready
	deleting bool
	// attached: its interface exists (this kubelet attached it, or deploy said so);
	// while deploy builds, only such pods are probed.
	attached bool

	// The pod's "containers": podlab runs one server for all of a pod's containers,
	// so they share one state.
	server      Closer
	running     bool
	startedAt   time.Time
	everReady   bool // ready at least once since the container (re)started
	restarts    int32
	lastTerm    *corev1.ContainerStateTerminated
	waiting     string // reason while not running: ContainerCreating, CrashLoopBackOff
	waitingMsg  string
	backoff     time.Duration
	generation  int // bumped at each container start: stale exits are ignored
	terminal    bool
	reported    bool
	implicit    bool // no readinessProbe: podlab checks its servers answer
	ready       bool
	readiness   *probe.Worker
	liveness    *probe.Worker
	startup     *probe.Worker
	lastProbe   time.Time
	probeFailed string
	probing     bool
}

func (ps *podState) stopServer() {
	if ps.server != nil {
		ps.server.Close()
		ps.server = nil
	}
}

func (ps *podState) key() string { return ps.pod.Namespace + "/" + ps.pod.Name }

// start creates (or adopts) a pod's sandbox, attaches it and starts its containers.
func (k *Kubelet) start(ctx context.Context, p *corev1.Pod) {
	node := k.nodes[p.Spec.NodeName]
	ps := &podState{pod: p, node: node, netns: k.cfg.NetnsName(p.Namespace, p.Name), cid: k.cfg.ContainerID(p.Namespace, p.Name)}
	ps.path = k.cfg.NetnsPath(ps.netns)
	ps.rewire.Lock() // Recreate waits until the pod is wired
	defer ps.rewire.Unlock()
	k.mu.Lock()
	k.pods[p.UID] = ps
	k.names[p.Namespace+"/"+p.Name] = p.UID
	k.mu.Unlock()
	adopt := k.sandboxExists(p) && p.Status.PodIP != ""
	if !adopt && !k.sandboxExists(p) && p.Status.PodIP == "" && p.Status.Phase == corev1.PodPending {
		ps.waiting = "ContainerCreating"
		k.writeStatus(ps)
	}
	if adopt {
		k.mu.Lock()
		ps.ip = podIP(p)
		k.mu.Unlock()
		ps.started = time.Now()
		if p.Status.StartTime != nil {
			ps.started = p.Status.StartTime.Time
		}
		for _, cs := range p.Status.ContainerStatuses {
			ps.restarts = max(ps.restarts, cs.RestartCount)
		}
		ps.ready = podReadyCond(p) // keep serving as before until a probe says otherwise
		k.advanceCursor(ps.node, ps.ip)
		// The container keeps its start time: it is adopted, not started again.
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Running != nil {
				ps.startedAt = cs.State.Running.StartedAt.Time
			}
		}
	} else if err := k.createSandbox(ctx, ps); err != nil {
		k.emit(events.Warning, p, "FailedCreatePodSandBox: %v", err)
		k.cfg.Log("create sandbox", "pod", ps.key(), "err", err)
		ps.waiting, ps.waitingMsg = "ContainerCreating", err.Error()
		k.writeStatus(ps)
		k.mu.Lock()
		delete(k.pods, p.UID)
		delete(k.names, p.Namespace+"/"+p.Name)
		k.mu.Unlock()
		k.Loop.After(2 * time.Second) // try again, as kubelet does
		return
	}
	k.setupProbes(ps)
	k.startContainers(ps)
}

// sandbox is what the runtime makes for pod p in the namespace named name.
func (k *Kubelet) sandbox(p *corev1.Pod, name string) podruntime.Sandbox {
	sb := podruntime.Sandbox{Lab: k.cfg.Lab, Name: name, Kind: podruntime.KindPod, Node: p.Spec.NodeName, Sysctls: k.cfg.Sysctls, Security: podruntime.SecurityFromPod(&p.Spec)}
	if len(p.Spec.Containers) > 0 && !k.served(p) { // a served pod runs podlab's own image
		sb.Image = p.Spec.Containers[0].Image
	}
	return sb
}

// createSandbox makes the pod's namespace and attaches it through CNI in its node.
func (k *Kubelet) createSandbox(ctx context.Context, ps *podState) error {
	p := ps.pod
	sb := k.sandbox(p, ps.netns)
	if sb.Security != nil && sb.Security.Privileged {
		return fmt.Errorf("pod %s/%s asks for a privileged container, which podlab does not run: grant only what it needs with securityContext.capabilities.add", p.Namespace, p.Name)
	}
	path, err := k.cfg.Runtime.Create(ctx, sb)
	if err != nil {
		return err
	}
	ps.path = path
	k.emit(events.NetnsCreated, p, "%s", ps.netns)
	a := cni.Attachment{ContainerID: ps.cid, Netns: path, IfName: "eth0", PodNamespace: p.Namespace, PodName: p.Name}
	if s, ok := p.Annotations[AnnotationIP]; ok {
		a.IP, _ = netip.ParseAddr(s)
	} else if p.Status.PodIP != "" { // recreated after a crash: keep its address if free
		a.IP = podIP(p)
	} else {
		a.IP = k.nextIP(ps.node)
	}
	res, err := ps.node.Network.Add(ctx, a)
	// Any free address is taken only once deploy is done: before, it could be one that
	// deploy has yet to give a planned pod.
	if err != nil && a.IP.IsValid() && p.Annotations[AnnotationIP] == "" && k.isBuilt() {
		a.IP = netip.Addr{}
		res, err = ps.node.Network.Add(ctx, a)
	}
	if err != nil {
		k.cfg.Runtime.Delete(context.WithoutCancel(ctx), ps.netns)
		return fmt.Errorf("CNI ADD: %w", err)
	}
	k.mu.Lock() // nextIP reads every pod's address under k.mu
	ps.ip = res.IP.Addr()
	k.mu.Unlock()
	ps.mu.Lock()
	ps.attached = true
	ps.mu.Unlock()
	ps.started = time.Now()
	k.emit(events.PodNetworkReady, p, "%s on eth0", res.IP)
	return nil
}

// teardown stops a pod: its endpoints already left (it is terminating, so not ready),
// then servers, CNI DEL, the sandbox, and finally the object.
func (k *Kubelet) teardown(ctx context.Context, p *corev1.Pod, ps *podState) {
	if ps != nil {
		ps.rewire.Lock() // a re-wiring in progress finishes first: nothing is attached after the DEL
		defer ps.rewire.Unlock()
		ps.mu.Lock()
		ps.generation++ // no restart of a pod going away
		ps.stopServer()
		if p == nil {
			p = ps.pod
		}
		ps.running = false
		ps.mu.Unlock()
		var errs []error
		if ps.node != nil {
			errs = append(errs, ps.node.Network.Del(ctx, cni.Attachment{ContainerID: ps.cid, Netns: ps.path, IfName: "eth0", IP: ps.ip, PodNamespace: p.Namespace, PodName: p.Name}))
		}
		errs = append(errs, k.cfg.Runtime.Delete(ctx, ps.netns))
		if err := errors.Join(errs...); err != nil {
			k.emit(events.Warning, p, "delete: %v", err)
		}
		k.mu.Lock()
		delete(k.pods, p.UID)
		if k.names[p.Namespace+"/"+p.Name] == p.UID {
			delete(k.names, p.Namespace+"/"+p.Name)
		}
		k.mu.Unlock()
		k.emit(events.PodDeleted, p, "%s", ps.ip)
	} else if p != nil && k.sandboxExists(p) && p.Spec.NodeName != "" {
		// Marked for deletion before this kubelet ran it (a restart in between).
		node := k.nodes[p.Spec.NodeName]
		name := k.cfg.NetnsName(p.Namespace, p.Name)
		node.Network.Del(ctx, cni.Attachment{ContainerID: k.cfg.ContainerID(p.Namespace, p.Name), Netns: k.cfg.NetnsPath(name), IfName: "eth0", PodNamespace: p.Namespace, PodName: p.Name})
		k.cfg.Runtime.Delete(ctx, name)
	}
	if p != nil && p.DeletionTimestamp != nil {
		k.cfg.Writer.Delete("Pod", p.Namespace, p.Name)
	}
}

// startContainers opens the pod's servers: the container is running.
func (k *Kubelet) startContainers(ps *podState) {
	ps.mu.Lock()
	p := ps.pod
	ps.generation++
	gen := ps.generation
	ps.mu.Unlock()
	var c corev1.Container
	if len(p.Spec.Containers) > 0 {
		c = p.Spec.Containers[0]
	}
	own := k.cfg.OwnImage != nil && k.cfg.OwnImage(c.Image)
	exitCode := -1
	if k.cfg.ServedBy != nil && k.served(p) {
		srv, err := k.cfg.ServedBy(p, ps.path)
		for try := 0; try < 20 && err != nil && strings.Contains(err.Error(), "address already in use"); try++ {
			time.Sleep(50 * time.Millisecond)
			srv, err = k.cfg.ServedBy(p, ps.path)
		}
		if err != nil {
			k.emit(events.Warning, p, "%v", err)
		} else {
			ps.mu.Lock()
			ps.server = srv
			ps.mu.Unlock()
		}
	} else if !own {
		hostname := p.Name
		if p.Spec.Hostname != "" {
			hostname = p.Spec.Hostname
		}
		opts := workload.Options{
			NetnsPath: ps.path, Hostname: hostname, Image: c.Image, Command: c.Command, Args: c.Args,
			Ports: declaredPorts(p), Env: containerEnv(p, c), Namespace: p.Namespace, PodName: p.Name,
			OnExit:    func(code int) { k.exited(ps, gen, int32(code), "") },
			OnRequest: ps.requests(),
		}
		srv, err := workload.StartPod(opts)
		// A socket of the previous run may linger a moment: try again briefly.
		for try := 0; try < 20 && err != nil && strings.Contains(err.Error(), "address already in use"); try++ {
			srv.Close()
			time.Sleep(50 * time.Millisecond)
			srv, err = workload.StartPod(opts)
		}
		var exit *workload.ExitError
		if errors.As(err, &exit) {
			exitCode = exit.Code
		} else if err != nil {
			k.emit(events.Warning, p, "%v", err)
		}
		ps.mu.Lock()
		ps.server = srv
		ps.mu.Unlock()
	}
	ps.mu.Lock()
	if ps.startedAt.IsZero() || gen > 1 { // adopted: the container keeps its start time
		ps.startedAt = time.Now()
	}
	ps.running, ps.waiting, ps.waitingMsg = true, "", ""
	ps.mu.Unlock()
	if exitCode >= 0 { // the program exits as soon as it starts (bad arguments, a one-shot command)
		k.exited(ps, gen, int32(exitCode), "")
		return
	}
	k.writeStatus(ps)
	select {
	case k.probeKick <- struct{}{}:
	default:
	}
	if ps.restarts > 0 {
		k.emit(events.ContainerStarted, p, "Started container %s (restart %d)", c.Name, ps.restarts)
	}
}

// declaredPorts are the containerPorts of every container.
func declaredPorts(p *corev1.Pod) []workload.Port {
	var out []workload.Port
	for _, c := range p.Spec.Containers {
		for _, pt := range c.Ports {
			proto := string(pt.Protocol)
			if proto == "" {
				proto = "TCP"
			}
			out = append(out, workload.Port{Port: int(pt.ContainerPort), Protocol: proto})
		}
	}
	return out
}

// exited handles the container's exit (its /exit endpoint, or a liveness kill):
// restart with back-off per restartPolicy.
func (k *Kubelet) exited(ps *podState, gen int, code int32, reason string) {
	ps.mu.Lock()
	if gen != ps.generation || !ps.running || ps.deleting {
		ps.mu.Unlock()
		return
	}
	ps.generation++
	gen = ps.generation
	ps.running, ps.ready = false, false
	srv := ps.server
	ps.server = nil
	if reason == "" {
		reason = "Error"
		if code == 0 {
			reason = "Completed"
		}
	}
	ran := time.Since(ps.startedAt)
	ps.lastTerm = &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: metaTime(ps.startedAt), FinishedAt: metaTime(time.Now())}
	policy := ps.pod.Spec.RestartPolicy
	restart := policy == "" || policy == corev1.RestartPolicyAlways || policy == corev1.RestartPolicyOnFailure && code != 0
	if !restart {
		ps.terminal = true
	}
	// Back-off: the first restart at once, then 10 s doubling to 5 minutes; reset
	// after 10 minutes of running well, as kubelet does.
	if ran > 10*time.Minute {
		ps.backoff = 0
	}
	delay := ps.backoff
	if ps.backoff == 0 {
		ps.backoff = 10 * time.Second
	} else {
		ps.backoff = min(2*ps.backoff, 5*time.Minute)
	}
	if restart && delay > 0 {
		ps.waiting = "CrashLoopBackOff"
		ps.waitingMsg = fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, containerName(ps.pod), ps.pod.Name, ps.pod.Namespace, ps.pod.UID)
	}
	ps.mu.Unlock()
	if srv != nil {
		srv.Close() // the ports are free before the container starts again
	}
	k.writeStatus(ps)
	if !restart {
		return
	}
	if delay > 0 {
		ps.mu.Lock()
		p := ps.pod
		ps.mu.Unlock()
		k.emit(events.BackOff, p, "Back-off restarting failed container %s in pod %s/%s", containerName(p), p.Namespace, p.Name)
	}
	time.AfterFunc(delay, func() {
		ps.mu.Lock()
		stale := gen != ps.generation || ps.deleting
		if !stale {
			ps.restarts++
		}
		ps.mu.Unlock()
		if stale {
			return
		}
		k.setupProbes(ps)
		k.startContainers(ps)
	})
}

func containerName(p *corev1.Pod) string {
	if len(p.Spec.Containers) > 0 {
		return p.Spec.Containers[0].Name
	}
	return "app"
}

// requestLogSize is how many requests a pod's log keeps.
const requestLogSize = 1000

// requests is the hook that records the pod's requests in its log (made at the
// container's first start, kept across restarts as kubectl logs --previous would).
func (ps *podState) requests() func(workload.Request) {
	ps.mu.Lock()
	if ps.reqlog == nil {
		ps.reqlog = workload.NewRequestLog(requestLogSize)
	}
	l := ps.reqlog
	ps.mu.Unlock()
	return l.Add
}

// Requests are the requests pod namespace/name's built-in servers answered, oldest
// first, with the way its image logs them; false when kubelet runs no such pod.
func (k *Kubelet) Requests(namespace, name string) ([]workload.Request, workload.LogStyle, bool) {
	k.mu.Lock()
	all := make([]*podState, 0, len(k.pods))
	for _, s := range k.pods {
		all = append(all, s)
	}
	k.mu.Unlock()
	var l *workload.RequestLog
	var p *corev1.Pod
	for _, s := range all {
		s.mu.Lock()
		if s.pod.Namespace == namespace && s.pod.Name == name {
			l, p = s.reqlog, s.pod
		}
		s.mu.Unlock()
	}
	if p == nil {
		return nil, workload.StylePlain, false
	}
	if l == nil {
		return nil, workload.StylePlain, true
	}
	var c corev1.Container
	if len(p.Spec.Containers) > 0 {
		c = p.Spec.Containers[0]
	}
	return l.Requests(), workload.StyleOf(workload.Options{Image: c.Image, Command: c.Command, Args: c.Args, Ports: declaredPorts(p), Env: containerEnv(p, c)}), true
}

// ContainerExited says that pod namespace/name's main process ended with code, as
// when the command a client attached to (`kubectl run -it ... -- sh`) exits: the
// container restarts or the pod completes, per its restartPolicy. False when the
// pod is not running here.
func (k *Kubelet) ContainerExited(namespace, name string, code int32) bool {
	k.mu.Lock()
	ps := k.pods[k.names[namespace+"/"+name]]
	k.mu.Unlock()
	if ps == nil {
		return false
	}
	ps.mu.Lock()
	gen, running := ps.generation, ps.running
	ps.mu.Unlock()
	if !running {
		return false
	}
	k.exited(ps, gen, code, "")
	return true
}
