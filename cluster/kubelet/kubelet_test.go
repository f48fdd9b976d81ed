package kubelet

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/cni"
	"podlab.dev/podlab/events"
	podruntime "podlab.dev/podlab/runtime"
)

// countingRuntime and countingNetwork record what kubelet asks of the runtime and of CNI.
type countingRuntime struct {
	mu      sync.Mutex
	created []string
	deleted []string
}

func (f *countingRuntime) Create(_ context.Context, s podruntime.Sandbox) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.created = append(f.created, s.Name)
	return "", nil // the current namespace: the pods of these tests serve nothing
}

func (f *countingRuntime) Delete(_ context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, name)
	return nil
}

type countingNetwork struct {
	mu   sync.Mutex
	adds []cni.Attachment
	dels []cni.Attachment
	fail error
}

func (f *countingNetwork) Add(_ context.Context, a cni.Attachment) (*cni.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	f.adds = append(f.adds, a)
	return &cni.Result{IP: netip.PrefixFrom(a.IP, 24)}, nil
}

func (f *countingNetwork) Del(_ context.Context, a cni.Attachment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dels = append(f.dels, a)
	return nil
}

type harness struct {
	s       *store.Store
	k       *Kubelet
	rt      *countingRuntime
	net     *countingNetwork
	mu      sync.Mutex
	evs     []events.Event
	drained int
}

func newHarness(t *testing.T) *harness {
	h := &harness{s: store.New(), rt: &countingRuntime{}, net: &countingNetwork{}}
	h.k = New(Config{
		Lab: "t", Runtime: h.rt,
		Nodes:       []Node{{Name: "n1", IP: "172.30.0.11", Subnet: netip.MustParsePrefix("10.244.1.0/24"), Network: h.net}},
		NetnsName:   func(ns, name string) string { return "podlab_t_pod_" + ns + "_" + name },
		NetnsPath:   func(name string) string { return "/nonexistent/" + name },
		ContainerID: func(ns, name string) string { return ns + "-" + name },
		Writer:      h.s,
		Emit: func(e events.Event) {
			h.mu.Lock()
			h.evs = append(h.evs, e)
			h.mu.Unlock()
		},
		Drained: func(context.Context, uint64) { h.drained++ },
	})
	h.k.r = h.s
	return h
}

func (h *harness) pod(name string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
	if _, err := h.s.Create(p); err != nil {
		panic(err)
	}
	return p
}

func (h *harness) get(t *testing.T, name string) *corev1.Pod {
	t.Helper()
	o, ok := h.s.Get("Pod", "default", name)
	if !ok {
		return nil
	}
	return o.(*corev1.Pod)
}

func TestKubeletRunsAndDeletesPods(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.pod("a")
	h.k.sync(ctx, h.s)
	a := h.get(t, "a")
	if len(h.rt.created) != 1 || len(h.net.adds) != 1 {
		t.Fatalf("sandboxes %v, CNI ADDs %v", h.rt.created, h.net.adds)
	}
	if a.Status.PodIP != "10.244.1.2" || a.Status.HostIP != "172.30.0.11" || a.Status.Phase != corev1.PodRunning {
		t.Fatalf("status %+v", a.Status)
	}
	if cs := a.Status.ContainerStatuses; len(cs) != 1 || cs[0].State.Running == nil || cs[0].RestartCount != 0 {
		t.Fatalf("container status %+v", cs)
	}
	// Deleted: drained first, then torn down, then the object goes.
	h.s.MarkDeleted("Pod", "default", "a")
	h.k.sync(ctx, h.s)
	if h.get(t, "a") != nil || h.drained != 1 || len(h.net.dels) != 1 || len(h.rt.deleted) != 1 {
		t.Fatalf("after delete: pod %v, drained %d, CNI DELs %d, sandboxes deleted %d", h.get(t, "a"), h.drained, len(h.net.dels), len(h.rt.deleted))
	}
	// A new pod gets the next address, not the one just freed.
	h.pod("b")
	h.k.sync(ctx, h.s)
	if ip := h.get(t, "b").Status.PodIP; ip != "10.244.1.3" {
		t.Fatalf("replacement got %s, want the next address 10.244.1.3", ip)
	}
	// A pod for a node this lab does not have stays Pending, untouched.
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "lost"},
		Spec: corev1.PodSpec{NodeName: "nowhere", Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
	h.s.Create(p)
	h.k.sync(ctx, h.s)
	if lost := h.get(t, "lost"); lost.Status.PodIP != "" || len(h.rt.created) != 2 {
		t.Fatalf("a pod of a missing node was run: %+v", lost.Status)
	}
	// Deleting it needs no teardown: it goes at once.
	h.s.MarkDeleted("Pod", "default", "lost")
	h.k.sync(ctx, h.s)
	if h.get(t, "lost") != nil {
		t.Fatal("a deleted pod of a missing node stays")
	}
}

func TestKubeletRestartsWithBackOff(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.pod("a")
	h.k.sync(ctx, h.s)
	ps := h.k.pods[h.get(t, "a").UID]
	exit := func(code int32) {
		ps.mu.Lock()
		gen := ps.generation
		ps.mu.Unlock()
		h.k.exited(ps, gen, code, "")
	}
	exit(3) // the first restart is at once
	deadline := time.Now().Add(2 * time.Second)
	for {
		a := h.get(t, "a")
		cs := a.Status.ContainerStatuses[0]
		if cs.RestartCount == 1 && cs.State.Running != nil {
			if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 3 {
				t.Fatalf("last state %+v", cs.LastTerminationState)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not restarted: %+v", cs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	exit(1) // the second waits 10 s: CrashLoopBackOff meanwhile
	cs := h.get(t, "a").Status.ContainerStatuses[0]
	if cs.State.Waiting == nil || cs.State.Waiting.Reason != "CrashLoopBackOff" || cs.Ready {
		t.Fatalf("after a second exit: %+v", cs)
	}
	// restartPolicy Never: an exit is final.
	n := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "once"},
		Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyNever, Containers: []corev1.Container{{Name: "app", Image: "busybox"}}}}
	h.s.Create(n)
	h.k.sync(ctx, h.s)
	ps = h.k.pods[h.get(t, "once").UID]
	ps.mu.Lock()
	gen := ps.generation
	ps.mu.Unlock()
	h.k.exited(ps, gen, 0, "")
	if ph := h.get(t, "once").Status.Phase; ph != corev1.PodSucceeded {
		t.Fatalf("restartPolicy Never, exit 0: phase %s", ph)
	}
}

func TestKubeletReportsSandboxFailures(t *testing.T) {
	h := newHarness(t)
	h.net.fail = errors.New("no IP addresses available")
	h.pod("a")
	h.k.sync(context.Background(), h.s)
	a := h.get(t, "a")
	cs := a.Status.ContainerStatuses
	if a.Status.Phase != corev1.PodPending || len(cs) != 1 || cs[0].State.Waiting == nil || cs[0].State.Waiting.Reason != "ContainerCreating" {
		t.Fatalf("status after a failed CNI ADD: %+v", a.Status)
	}
	found := false
	for _, e := range h.evs {
		found = found || e.Type == events.Warning
	}
	if !found || len(h.rt.deleted) != 1 {
		t.Fatalf("a failed sandbox is reported and removed: events %v, deleted %v", h.evs, h.rt.deleted)
	}
}

type fakeServed struct{ closed int }

func (f *fakeServed) Close() { f.closed++ }

// A pod another component serves in-process gets no emulated servers and no image of
// its own: the component's servers run it, and stop with it.
func TestServedPods(t *testing.T) {
	h := newHarness(t)
	served := &fakeServed{}
	var paths []string
	h.k.cfg.Serves = func(p *corev1.Pod) bool { return p.Labels["k8s-app"] == "kube-dns" }
	h.k.cfg.ServedBy = func(p *corev1.Pod, path string) (Closer, error) {
		paths = append(paths, path)
		return served, nil
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "coredns-x", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "coredns", Image: "registry.k8s.io/coredns/coredns:v1.11.3",
			Ports: []corev1.ContainerPort{{ContainerPort: 53, Protocol: corev1.ProtocolUDP}}}}}}
	h.s.Create(p)
	ctx := context.Background()
	h.k.sync(ctx, h.s)
	if len(paths) != 1 {
		t.Fatalf("ServedBy called %d times", len(paths))
	}
	o, _ := h.s.Get("Pod", "kube-system", "coredns-x")
	if cs := o.(*corev1.Pod).Status.ContainerStatuses; len(cs) != 1 || cs[0].State.Running == nil {
		t.Fatalf("served pod not running: %+v", cs)
	}
	h.s.MarkDeleted("Pod", "kube-system", "coredns-x")
	h.k.sync(ctx, h.s)
	if served.closed != 1 {
		t.Fatalf("the served pod's servers closed %d times on delete", served.closed)
	}
}

// A status write that loses to another writer of the pod (the ReplicaSet controller
// adopting it between kubelet's read and its write) is retried with the pod as stored
// now, so Ready is not lost until the pod's state next changes.
func TestStatusRetriedAfterConflict(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h.pod("a")
	h.k.sync(ctx, h.s)
	adopted := h.get(t, "a").DeepCopy()
	adopted.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "rs-uid"}}
	if _, err := h.s.Update(adopted); err != nil { // kubelet has not seen it: its copy is stale
		t.Fatal(err)
	}
	h.k.mu.Lock()
	ps := h.k.pods[adopted.UID]
	h.k.mu.Unlock()
	ps.mu.Lock()
	ps.ready = true
	ps.mu.Unlock()
	go h.k.flushStatuses(ctx)
	h.k.queueStatus(ps)
	for deadline := time.Now().Add(2 * time.Second); ; {
		p := h.get(t, "a")
		ready := false
		for _, c := range p.Status.Conditions {
			ready = ready || c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
		}
		if ready && len(p.OwnerReferences) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Ready lost to a conflicting write: %+v", p.Status.Conditions)
		}
		time.Sleep(time.Millisecond)
	}
}
