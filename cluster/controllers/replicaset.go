package controllers

import (
	"context"
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
)

// ReplicaSets keeps each ReplicaSet's number of pods: a deleted pod is replaced by a
// new one (a new name, and from kubelet a new IP), extra pods go, the least useful
// first, as Kubernetes' ReplicaSet controller ranks them. Bare Pods are never touched.
type ReplicaSets struct {
	component.Loop
	w   component.Writer
	ev  emitter
	Now func() time.Time
}

// NewReplicaSets returns the ReplicaSet controller.
func NewReplicaSets(w component.Writer, emit component.Emit) *ReplicaSets {
	c := &ReplicaSets{w: w, ev: emitter{emit}, Now: time.Now}
	c.Interest = func(r store.Reader, ch store.Change) bool {
		return kindIs(ch, "ReplicaSet") || podsOf(r, ch, "ReplicaSet")
	}
	return c
}

func (c *ReplicaSets) Name() string { return "replicaset-controller" }

func (c *ReplicaSets) Run(ctx context.Context, r store.Reader) error {
	return c.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { c.Sync(r) })
}

// Sync reconciles every ReplicaSet once.
func (c *ReplicaSets) Sync(r store.Reader) {
	byNS := map[string][]*corev1.Pod{}
	for _, o := range r.List("ReplicaSet", "") {
		rs := o.(*appsv1.ReplicaSet)
		if _, ok := byNS[rs.Namespace]; !ok {
			byNS[rs.Namespace] = pods(r, rs.Namespace)
		}
		c.syncOne(rs, byNS[rs.Namespace])
	}
}

func (c *ReplicaSets) syncOne(rs *appsv1.ReplicaSet, all []*corev1.Pod) {
	if rs.DeletionTimestamp != nil {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || sel.Empty() {
		return
	}
	mine, orphans := owned(all, rs.UID, sel)
	for _, p := range orphans { // adopt, as the controller's ref manager does
		q := p.DeepCopy()
		q.OwnerReferences = append(q.OwnerReferences, ownedBy(rs, "apps/v1", "ReplicaSet"))
		if u, err := c.w.Update(q); err == nil {
			mine = append(mine, u.(*corev1.Pod))
		}
	}
	var act []*corev1.Pod
	for _, p := range mine {
		if active(p) {
			act = append(act, p)
		}
	}
	want := 1
	if rs.Spec.Replicas != nil {
		want = int(*rs.Spec.Replicas)
	}
	switch diff := len(act) - want; {
	case diff < 0:
		ref := ownedBy(rs, "apps/v1", "ReplicaSet")
		for i := 0; i < -diff; i++ {
			p := podFromTemplate(&rs.Spec.Template, rs.Namespace, rs.Name+"-", ref)
			created, err := c.w.Create(p)
			if err != nil {
				c.ev.event(ReasonFailedCreate, "ReplicaSet", rs, "Error creating: %v", err)
				continue
			}
			act = append(act, created.(*corev1.Pod))
			c.ev.event(ReasonSuccessfulCreate, "ReplicaSet", rs, "Created pod: %s", created.GetName())
		}
	case diff > 0:
		rankForDeletion(act, c.Now())
		for _, p := range act[:diff] {
			if _, err := c.w.MarkDeleted("Pod", p.Namespace, p.Name); err == nil {
				c.ev.event(ReasonSuccessfulDelete, "ReplicaSet", rs, "Deleted pod: %s", p.Name)
			}
		}
		act = act[diff:]
	}
	c.status(rs, act)
}

func (c *ReplicaSets) status(rs *appsv1.ReplicaSet, act []*corev1.Pod) {
	now := c.Now()
	st := appsv1.ReplicaSetStatus{Replicas: int32(len(act)), ObservedGeneration: rs.Generation}
	sel, _ := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchLabels: rs.Spec.Template.Labels})
	var soonest time.Duration
	for _, p := range act {
		if sel.Matches(labelSet(p.Labels)) {
			st.FullyLabeledReplicas++
		}
		if podReady(p) {
			st.ReadyReplicas++
		}
		ok, wait := podAvailable(p, rs.Spec.MinReadySeconds, now)
		if ok {
			st.AvailableReplicas++
		} else if wait > 0 && (soonest == 0 || wait < soonest) {
			soonest = wait
		}
	}
	if soonest > 0 {
		c.After(soonest) // a pod becomes available then: look again
	}
	if rs.Status.Replicas == st.Replicas && rs.Status.ReadyReplicas == st.ReadyReplicas && rs.Status.AvailableReplicas == st.AvailableReplicas &&
		rs.Status.FullyLabeledReplicas == st.FullyLabeledReplicas && rs.Status.ObservedGeneration == st.ObservedGeneration {
		return
	}
	n := rs.DeepCopy()
	n.Status = st
	c.w.UpdateStatus(n)
}

// rankForDeletion sorts pods so that those to delete first come first, as the
// ReplicaSet controller's ActivePods ordering does: unscheduled before scheduled,
// pending before running, not ready before ready, more restarts first, newer first.
func rankForDeletion(ps []*corev1.Pod, now time.Time) {
	phase := map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			return a.Spec.NodeName == ""
		}
		if phase[a.Status.Phase] != phase[b.Status.Phase] {
			return phase[a.Status.Phase] < phase[b.Status.Phase]
		}
		if podReady(a) != podReady(b) {
			return !podReady(a)
		}
		if ra, rb := restarts(a), restarts(b); ra != rb {
			return ra > rb
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return b.CreationTimestamp.Before(&a.CreationTimestamp)
		}
		return a.Name > b.Name
	})
}

func restarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n += c.RestartCount
	}
	return n
}
