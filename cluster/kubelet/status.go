package kubelet

import (
	"context"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"
)

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

func podReadyCond(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// AdoptedStatus is the status kubelet reports for pod, bound to node with address ip
// and sandbox cid, once it adopts it running since `since` and not yet ready: what the
// supervisor seeds deploy-built pods with, so that adopting them writes nothing.
func AdoptedStatus(pod *corev1.Pod, node Node, ip netip.Addr, cid string, since time.Time) corev1.PodStatus {
	ps := &podState{pod: pod, node: &node, ip: ip, cid: cid, started: since, startedAt: since, running: true, implicit: true}
	return (*Kubelet)(nil).status(ps)
}

// status is the Pod status kubelet reports for ps.
func (k *Kubelet) status(ps *podState) corev1.PodStatus {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	p := ps.pod
	old := p.Status
	st := corev1.PodStatus{QOSClass: corev1.PodQOSBestEffort, HostIP: ps.node.IP}
	if ps.node.IP != "" {
		st.HostIPs = []corev1.HostIP{{IP: ps.node.IP}}
	}
	if ps.ip.IsValid() {
		st.PodIP = ps.ip.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	if !ps.started.IsZero() {
		t := metaTime(ps.started)
		st.StartTime = &t
	}
	ready := ps.running && ps.ready && !ps.deleting
	switch {
	case ps.terminal && ps.lastTerm != nil && ps.lastTerm.ExitCode == 0:
		st.Phase = corev1.PodSucceeded
	case ps.terminal:
		st.Phase = corev1.PodFailed
	case ps.running || ps.restarts > 0 || ps.waiting == "CrashLoopBackOff":
		st.Phase = corev1.PodRunning
	default:
		st.Phase = corev1.PodPending
	}
	cond := func(t corev1.PodConditionType, ok bool, reason string) corev1.PodCondition {
		s := corev1.ConditionFalse
		if ok {
			s, reason = corev1.ConditionTrue, ""
		}
		c := corev1.PodCondition{Type: t, Status: s, Reason: reason, LastTransitionTime: metaTime(time.Now())}
		for _, o := range old.Conditions {
			if o.Type == t && o.Status == s {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		return c
	}
	sandbox := ps.ip.IsValid()
	st.Conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers, sandbox, ""),
		cond(corev1.PodInitialized, true, ""),
		cond(corev1.ContainersReady, ready, "ContainersNotReady"),
		cond(corev1.PodReady, ready, "ContainersNotReady"),
		cond(corev1.PodScheduled, true, ""),
	}
	for _, c := range p.Spec.Containers {
		cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: "podlab://" + c.Image, Ready: ready, RestartCount: ps.restarts}
		started := ps.running && (ps.startup == nil || ps.startup.Healthy())
		cs.Started = &started
		switch {
		case ps.running:
			cs.ContainerID = "podlab://" + ps.cid
			cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metaTime(ps.startedAt)}
		case ps.terminal && ps.lastTerm != nil:
			t := *ps.lastTerm
			cs.State.Terminated = &t
		default:
			reason := ps.waiting
			if reason == "" {
				reason = "ContainerCreating"
			}
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason, Message: ps.waitingMsg}
		}
		if ps.lastTerm != nil && !ps.terminal {
			t := *ps.lastTerm
			cs.LastTerminationState.Terminated = &t
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	if ps.probeFailed != "" && !ready && ps.running {
		st.Conditions[2].Message = ps.probeFailed
		st.Conditions[3].Message = ps.probeFailed
	}
	return st
}

// writeStatus writes ps's status when it changed.
func (k *Kubelet) writeStatus(ps *podState) {
	st := k.status(ps)
	ps.mu.Lock()
	p := ps.pod
	if ps.terminal {
		ps.reported = true
	}
	ps.mu.Unlock()
	if apiequality.Semantic.DeepEqual(st, p.Status) {
		return
	}
	n := p.DeepCopy()
	n.Status = st
	if o, err := k.cfg.Writer.UpdateStatus(n); err == nil {
		ps.mu.Lock()
		ps.pod = o.(*corev1.Pod)
		ps.mu.Unlock()
	}
}

// statusBatcher is implemented by the store: many status writes as one.
type statusBatcher interface {
	UpdateStatuses(objs []store.Object) ([]store.Object, []error)
}

// queueStatus has ps's status written with the next batch (within a few
// milliseconds): a thousand pods turning ready are a few writes, not a thousand.
func (k *Kubelet) queueStatus(ps *podState) {
	if _, ok := k.cfg.Writer.(statusBatcher); !ok {
		k.writeStatus(ps)
		return
	}
	k.qmu.Lock()
	k.queued[ps] = struct{}{}
	k.qmu.Unlock()
	select {
	case k.qkick <- struct{}{}:
	default:
	}
}

// flushStatuses writes queued statuses until ctx ends, at most every 5 ms.
func (k *Kubelet) flushStatuses(ctx context.Context) {
	b, ok := k.cfg.Writer.(statusBatcher)
	if !ok {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.qkick:
		}
		time.Sleep(5 * time.Millisecond) // let a burst gather
		k.qmu.Lock()
		q := k.queued
		k.queued = map[*podState]struct{}{}
		k.qmu.Unlock()
		var objs []store.Object
		var states []*podState
		for ps := range q {
			st := k.status(ps)
			ps.mu.Lock()
			p := ps.pod
			ps.mu.Unlock()
			if apiequality.Semantic.DeepEqual(st, p.Status) {
				continue
			}
			n := p.DeepCopy()
			n.Status = st
			objs = append(objs, n)
			states = append(states, ps)
		}
		if len(objs) == 0 {
			continue
		}
		out, errs := b.UpdateStatuses(objs)
		for i, ps := range states {
			switch {
			case errs[i] == nil:
				ps.mu.Lock()
				ps.pod = out[i].(*corev1.Pod)
				ps.mu.Unlock()
			case apierrors.IsConflict(errs[i]):
				k.retryStatus(ps, objs[i])
			}
		}
	}
}

// retryStatus queues ps's status again after a write that lost to another writer of
// the pod (a controller adopting it between the read and the write): with the pod as
// stored now, if it is still this pod, as kubelet's status manager retries. Without
// it the status (Ready) would wait for the next change of the pod's state.
func (k *Kubelet) retryStatus(ps *podState, sent store.Object) {
	if k.r == nil {
		return
	}
	cur, ok := k.r.Get("Pod", sent.GetNamespace(), sent.GetName())
	if !ok || cur.GetUID() != sent.GetUID() {
		return
	}
	ps.mu.Lock()
	ps.pod = cur.(*corev1.Pod)
	ps.mu.Unlock()
	k.queueStatus(ps)
}
