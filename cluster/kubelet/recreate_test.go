package kubelet

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
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

// fakeRuntime makes sandboxes as files in dir; with remount set it can mount them
// again, as the Docker runtime does after `docker restart`.
type fakeRuntime struct {
	dir     string
	mu      sync.Mutex
	changed bool // what the next Remount says
	remount int
}

func (r *fakeRuntime) Create(_ context.Context, s podruntime.Sandbox) (string, error) {
	path := filepath.Join(r.dir, s.Name)
	return path, os.WriteFile(path, nil, 0o644)
}

func (r *fakeRuntime) Delete(_ context.Context, name string) error {
	os.Remove(filepath.Join(r.dir, name))
	return nil
}

type remountRuntime struct{ *fakeRuntime }

func (r remountRuntime) Remount(_ context.Context, s podruntime.Sandbox) (string, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.remount++
	changed := r.changed
	r.changed = false
	return filepath.Join(r.dir, s.Name), changed, nil
}

// fakeNetwork records CNI calls and gives the requested address.
type fakeNetwork struct {
	mu    sync.Mutex
	calls []string
}

func (n *fakeNetwork) Add(_ context.Context, a cni.Attachment) (*cni.Result, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, "ADD "+a.IP.String())
	return &cni.Result{IP: netip.PrefixFrom(a.IP, 24)}, nil
}

func (n *fakeNetwork) Del(_ context.Context, a cni.Attachment) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, "DEL "+a.IP.String())
	return nil
}

func (n *fakeNetwork) log() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.calls, ", ")
}

// TestRecreate: a pod whose sandbox was restarted behind kubelet's back is attached
// again with its address (DEL then ADD), its restartCount rises by one and a
// SandboxRecreated event says so; a sandbox that did not change is left alone, and a
// runtime that cannot mount again is an error.
func TestRecreate(t *testing.T) {
	dir := t.TempDir()
	rt := &fakeRuntime{dir: dir}
	nw := &fakeNetwork{}
	s := store.New()
	var mu sync.Mutex
	var evs []events.Event
	newKubelet := func(r Runtime) *Kubelet {
		return New(Config{
			Lab:         "t",
			Nodes:       []Node{{Name: "n1", IP: "172.18.0.2", Subnet: netip.MustParsePrefix("10.244.1.0/24"), Network: nw}},
			Runtime:     r,
			NetnsName:   func(ns, name string) string { return "pod_" + ns + "_" + name },
			NetnsPath:   func(name string) string { return filepath.Join(dir, name) },
			ContainerID: func(ns, name string) string { return ns + "-" + name },
			OwnImage:    func(string) bool { return true }, // no emulated servers: no namespace to enter
			Writer:      s,
			Emit: func(e events.Event) {
				mu.Lock()
				evs = append(evs, e)
				mu.Unlock()
			},
		})
	}
	k := newKubelet(remountRuntime{rt})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "app", Image: "own/image"}}}}
	if _, err := s.Create(pod); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go k.Run(ctx, s)

	get := func() *corev1.Pod {
		o, _ := s.Get("Pod", "default", "web")
		return o.(*corev1.Pod)
	}
	waitFor := func(what string, ok func(p *corev1.Pod) bool) *corev1.Pod {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			p := get()
			if ok(p) {
				return p
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: pod status %+v", what, p.Status)
			}
		}
	}
	restarts := func(p *corev1.Pod) int32 {
		if len(p.Status.ContainerStatuses) == 0 {
			return -1
		}
		return p.Status.ContainerStatuses[0].RestartCount
	}
	running := func(p *corev1.Pod) bool {
		cs := p.Status.ContainerStatuses
		return len(cs) == 1 && cs[0].State.Running != nil && p.Status.PodIP != ""
	}
	p := waitFor("started", running)
	ip := p.Status.PodIP
	if got := nw.log(); got != "ADD "+ip {
		t.Fatalf("CNI calls to start the pod: %s", got)
	}

	// The same namespace: nothing to do.
	if err := k.Recreate(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	if got := nw.log(); got != "ADD "+ip || restarts(get()) != 0 {
		t.Fatalf("unchanged sandbox: CNI calls %s, restarts %d", got, restarts(get()))
	}

	rt.mu.Lock()
	rt.changed = true
	rt.mu.Unlock()
	if err := k.Recreate(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	if got, want := nw.log(), "ADD "+ip+", DEL "+ip+", ADD "+ip; got != want {
		t.Errorf("CNI calls after the restart: %s, want %s", got, want)
	}
	p = waitFor("recreated", func(p *corev1.Pod) bool { return running(p) && restarts(p) == 1 })
	if p.Status.PodIP != ip {
		t.Errorf("pod IP after the restart %s, want %s", p.Status.PodIP, ip)
	}
	if lt := p.Status.ContainerStatuses[0].LastTerminationState.Terminated; lt == nil || lt.Reason != "SandboxChanged" {
		t.Errorf("last state after the restart: %+v", p.Status.ContainerStatuses[0].LastTerminationState)
	}
	mu.Lock()
	var recreated []string
	for _, e := range evs {
		if e.Type == SandboxRecreated {
			recreated = append(recreated, e.Namespace+"/"+e.Name+": "+e.Message)
		}
	}
	mu.Unlock()
	if len(recreated) != 1 || !strings.Contains(recreated[0], "default/web: ") || !strings.Contains(recreated[0], ip) {
		t.Errorf("SandboxRecreated events: %q", recreated)
	}

	// Unknown pods are not an error; a runtime without Remount is.
	if err := k.Recreate(ctx, "default", "nope"); err != nil {
		t.Errorf("unknown pod: %v", err)
	}
	if err := newKubelet(rt).Recreate(ctx, "default", "web"); err == nil {
		t.Errorf("a runtime that cannot mount again: no error")
	}
}
