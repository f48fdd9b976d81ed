// Package controllers holds the lab's controllers with Kubernetes' semantics: the
// scheduler, and the ReplicaSet, Deployment, StatefulSet and DaemonSet controllers.
// Each is a component (see package component): it reads the object store, writes only
// the objects it owns (Pods with ownerReferences, ReplicaSets, bindings, status), and
// never touches the kernel: kubelet turns the Pods they write into sandboxes.
package controllers

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// Event reasons the controllers emit, as Kubernetes' controllers name them.
const (
	ReasonScheduled         = "Scheduled"
	ReasonFailedScheduling  = "FailedScheduling"
	ReasonSuccessfulCreate  = "SuccessfulCreate"
	ReasonSuccessfulDelete  = "SuccessfulDelete"
	ReasonScalingReplicaSet = "ScalingReplicaSet"
	ReasonFailedCreate      = "FailedCreate"
	ReasonFailedDelete      = "FailedDelete"
)

// pods returns the typed pods of namespace (all when empty).
func pods(r store.Reader, namespace string) []*corev1.Pod {
	objs := r.List("Pod", namespace)
	out := make([]*corev1.Pod, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Pod))
	}
	return out
}

// controllerOf is the uid of o's controlling owner, if any.
func controllerOf(o metav1.Object) (metav1.OwnerReference, bool) {
	for _, r := range o.GetOwnerReferences() {
		if r.Controller != nil && *r.Controller {
			return r, true
		}
	}
	return metav1.OwnerReference{}, false
}

// ownedBy is a controller ownerReference to owner.
func ownedBy(owner store.Object, apiVersion, kind string) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: &t, BlockOwnerDeletion: &t}
}

// owned lists the pods whose controller is uid, and orphans whose labels sel matches.
func owned(all []*corev1.Pod, uid types.UID, sel labels.Selector) (mine, orphans []*corev1.Pod) {
	for _, p := range all {
		ref, ok := controllerOf(p)
		switch {
		case ok && ref.UID == uid:
			mine = append(mine, p)
		case !ok && p.DeletionTimestamp == nil && sel.Matches(labels.Set(p.Labels)):
			orphans = append(orphans, p)
		}
	}
	return mine, orphans
}

// adopt makes owner the controller of orphans, as the controllers' ref manager does,
// and returns those it could update.
func adopt(w component.Writer, owner store.Object, kind string, orphans []*corev1.Pod) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range orphans {
		q := p.DeepCopy()
		q.OwnerReferences = append(q.OwnerReferences, ownedBy(owner, "apps/v1", kind))
		if u, err := w.Update(q); err == nil {
			out = append(out, u.(*corev1.Pod))
		}
	}
	return out
}

// deletePod deletes a controller's pod as the API server would: a pod bound to a node
// is marked and its kubelet removes it; one never bound has no kubelet to see it
// through, so it goes at once (the API server's grace period 0 for unscheduled pods).
// It returns the pod as the caller should see it for the rest of its sync: terminating.
func deletePod(w component.Writer, p *corev1.Pod) (*corev1.Pod, error) {
	if p.Spec.NodeName != "" {
		o, err := w.MarkDeleted("Pod", p.Namespace, p.Name)
		if err != nil {
			return p, err
		}
		return o.(*corev1.Pod), nil
	}
	if _, err := w.Delete("Pod", p.Namespace, p.Name); err != nil {
		return p, err
	}
	q := p.DeepCopy()
	now := metav1.Now()
	q.DeletionTimestamp = &now
	return q, nil
}

// active says whether a pod counts toward its controller's replicas: not terminating,
// not finished.
func active(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// podReady says whether the pod's Ready condition is true.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podAvailable says whether the pod has been ready for minReadySeconds at now; when
// not yet, wait says for how long more.
func podAvailable(p *corev1.Pod, minReady int32, now time.Time) (ok bool, wait time.Duration) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			if minReady == 0 {
				return true, 0
			}
			at := c.LastTransitionTime.Add(time.Duration(minReady) * time.Second)
			if !now.Before(at) {
				return true, 0
			}
			return false, at.Sub(now)
		}
	}
	return false, 0
}

// podFromTemplate is a new pod of a controller, as the controllers' PodControl makes it.
func podFromTemplate(tmpl *corev1.PodTemplateSpec, namespace, generateName string, ref metav1.OwnerReference) *corev1.Pod {
	p := &corev1.Pod{}
	p.Namespace = namespace
	p.GenerateName = generateName
	p.Labels = map[string]string{}
	for k, v := range tmpl.Labels {
		p.Labels[k] = v
	}
	if len(tmpl.Annotations) > 0 {
		p.Annotations = map[string]string{}
		for k, v := range tmpl.Annotations {
			p.Annotations[k] = v
		}
	}
	p.Finalizers = append(p.Finalizers, tmpl.Finalizers...)
	p.OwnerReferences = []metav1.OwnerReference{ref}
	tmpl.Spec.DeepCopyInto(&p.Spec)
	p.Status.Phase = corev1.PodPending
	return p
}

// emitter is the event sink a controller reports through.
type emitter struct{ emit component.Emit }

func (e emitter) event(reason, kind string, o metav1.Object, format string, args ...any) {
	if e.emit == nil {
		return
	}
	e.emit(events.Event{Type: reason, Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName(), Message: fmt.Sprintf(format, args...)})
}

// kindIs is a Loop interest in writes to objects of the given kinds.
func kindIs(c store.Change, kinds ...string) bool {
	for _, k := range kinds {
		if c.Key.Kind == k {
			return true
		}
	}
	return false
}

// podsOf is a Loop interest in every Pod write while the store holds an owner of
// kind: a controller counts its pods' readiness.
func podsOf(r store.Reader, c store.Change, kind string) bool {
	return c.Key.Kind == "Pod" && r.Count(kind) > 0
}

func labelSet(m map[string]string) labels.Set { return labels.Set(m) }
