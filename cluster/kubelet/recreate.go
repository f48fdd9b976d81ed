package kubelet

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cni"
	"podlab.dev/podlab/events"
	podruntime "podlab.dev/podlab/runtime"
)

// SandboxRecreated is the event of a pod whose sandbox kubelet wired again after its
// container was restarted outside podlab.
const SandboxRecreated = "SandboxRecreated"

// Remounter is the optional ability of a runtime whose sandboxes can be restarted
// behind kubelet's back (a Docker container: `docker restart`): Remount mounts the
// namespace the sandbox runs in now at its path, with s.Sysctls set, and says whether
// it changed (false: the mounted one is already current, nothing was done).
type Remounter interface {
	Remount(ctx context.Context, s podruntime.Sandbox) (path string, changed bool, err error)
}

// Recreate wires the pod namespace/name again after its sandbox was restarted outside
// podlab, as kubelet recreates a pod sandbox it finds changed: the sandbox's new
// namespace is mounted under the lab's mark, the stale attachment released (CNI DEL,
// whose errors do not matter: the old interface went with the old namespace), the pod
// attached again with its same address (CNI ADD), and its containers started again,
// counted as a restart and reported. A pod this kubelet does not run, one going away,
// and one whose sandbox is still the namespace kubelet wired are left alone.
func (k *Kubelet) Recreate(ctx context.Context, namespace, name string) error {
	rm, ok := k.cfg.Runtime.(Remounter)
	if !ok {
		return fmt.Errorf("pod %s/%s: the runtime cannot mount a restarted sandbox again", namespace, name)
	}
	k.mu.Lock()
	ps := k.pods[k.names[namespace+"/"+name]]
	k.mu.Unlock()
	if ps == nil {
		return nil
	}
	ps.rewire.Lock()
	defer ps.rewire.Unlock()
	ps.mu.Lock()
	p := ps.pod
	skip := ps.deleting || ps.terminal || p.DeletionTimestamp != nil || !ps.ip.IsValid()
	ps.mu.Unlock()
	k.mu.Lock()
	skip = skip || k.pods[p.UID] != ps // torn down meanwhile
	k.mu.Unlock()
	if skip {
		return nil
	}
	path, changed, err := rm.Remount(ctx, k.sandbox(p, ps.netns))
	if err != nil {
		k.emit(events.Warning, p, "sandbox restarted outside podlab, not wired again: %v", err)
		return fmt.Errorf("pod %s/%s: %w", namespace, name, err)
	}
	if !changed {
		return nil
	}

	// The container is gone as kubelet sees it: its servers close with the old
	// namespace, and pending restarts (a back-off) are stale.
	ps.mu.Lock()
	ps.generation++
	srv := ps.server
	ps.server = nil
	if ps.running {
		ps.lastTerm = &corev1.ContainerStateTerminated{Reason: "SandboxChanged", Message: "the pod's container was restarted outside podlab",
			StartedAt: metaTime(ps.startedAt), FinishedAt: metaTime(time.Now())}
	}
	ps.running, ps.ready = false, false
	ps.waiting, ps.waitingMsg = "ContainerCreating", ""
	ps.restarts++
	restarts := ps.restarts
	ps.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	k.writeStatus(ps)

	a := cni.Attachment{ContainerID: ps.cid, Netns: path, IfName: "eth0", IP: ps.ip, PodNamespace: p.Namespace, PodName: p.Name}
	ps.node.Network.Del(ctx, a)
	res, err := ps.node.Network.Add(ctx, a)
	if err != nil {
		ps.mu.Lock()
		ps.waitingMsg = "CNI ADD: " + err.Error()
		ps.mu.Unlock()
		k.writeStatus(ps)
		k.emit(events.Warning, p, "FailedCreatePodSandBox: sandbox restarted outside podlab: CNI ADD: %v", err)
		return fmt.Errorf("pod %s/%s: CNI ADD: %w", namespace, name, err)
	}
	k.emit(SandboxRecreated, p, "container restarted outside podlab: sandbox re-created, %s on eth0 again (restart %d)", res.IP, restarts)
	k.setupProbes(ps)
	k.startContainers(ps)
	return nil
}
