package controllers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/topology"
)

// Annotations the Deployment controller keeps, as Kubernetes names them.
const (
	AnnotationRevision        = "deployment.kubernetes.io/revision"
	AnnotationDesiredReplicas = "deployment.kubernetes.io/desired-replicas"
	AnnotationMaxReplicas     = "deployment.kubernetes.io/max-replicas"
	AnnotationRestartedAt     = "kubectl.kubernetes.io/restartedAt"
	AnnotationChangeCause     = "kubernetes.io/change-cause"
)

// Deployments owns ReplicaSets by pod-template-hash: a new template makes a new
// ReplicaSet (a new revision) and moves replicas to it with the Deployment's strategy,
// RollingUpdate (maxSurge and maxUnavailable, 25% each by default) or Recreate; a
// replica count change scales the current ReplicaSet; old ReplicaSets beyond
// revisionHistoryLimit go. Status and conditions are kubectl's READY, UP-TO-DATE and
// AVAILABLE.
type Deployments struct {
	component.Loop
	w   component.Writer
	ev  emitter
	Now func() time.Time
}

// NewDeployments returns the Deployment controller.
func NewDeployments(w component.Writer, emit component.Emit) *Deployments {
	d := &Deployments{w: w, ev: emitter{emit}, Now: time.Now}
	d.Interest = func(_ store.Reader, c store.Change) bool { return kindIs(c, "Deployment", "ReplicaSet") }
	return d
}

func (c *Deployments) Name() string { return "deployment-controller" }

func (c *Deployments) Run(ctx context.Context, r store.Reader) error {
	return c.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { c.Sync(r) })
}

// Sync reconciles every Deployment once.
func (c *Deployments) Sync(r store.Reader) {
	for _, o := range r.List("Deployment", "") {
		c.syncOne(r, o.(*appsv1.Deployment))
	}
}

// NewReplicaSetName is the name of the ReplicaSet of d's current template.
func NewReplicaSetName(d *appsv1.Deployment) string {
	return d.Name + "-" + topology.PodTemplateHash(&d.Spec.Template)
}

func replicasOf(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// Surge and unavailability budgets, resolved as Kubernetes does: surge rounds up,
// unavailable down, and both zero means one may be unavailable.
func budgets(d *appsv1.Deployment) (surge, unavailable int32) {
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		return 0, replicasOf(d.Spec.Replicas)
	}
	def := intstr.FromString("25%")
	ms, mu := &def, &def
	if ru := d.Spec.Strategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			ms = ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			mu = ru.MaxUnavailable
		}
	}
	n := int(replicasOf(d.Spec.Replicas))
	s, _ := intstr.GetScaledValueFromIntOrPercent(ms, n, true)
	u, _ := intstr.GetScaledValueFromIntOrPercent(mu, n, false)
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u)
}

func revision(rs *appsv1.ReplicaSet) int64 {
	v, _ := strconv.ParseInt(rs.Annotations[AnnotationRevision], 10, 64)
	return v
}

func (c *Deployments) syncOne(r store.Reader, d *appsv1.Deployment) {
	if d.DeletionTimestamp != nil {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || sel.Empty() {
		return
	}
	// The ReplicaSets this Deployment controls, adopting orphans its selector matches.
	var rss []*appsv1.ReplicaSet
	for _, o := range r.List("ReplicaSet", d.Namespace) {
		rs := o.(*appsv1.ReplicaSet)
		ref, ok := controllerOf(rs)
		switch {
		case ok && ref.UID == d.UID:
			rss = append(rss, rs)
		case !ok && rs.DeletionTimestamp == nil && sel.Matches(labelSet(rs.Spec.Template.Labels)):
			n := rs.DeepCopy()
			n.OwnerReferences = append(n.OwnerReferences, ownedBy(d, "apps/v1", "Deployment"))
			if u, err := c.w.Update(n); err == nil {
				rss = append(rss, u.(*appsv1.ReplicaSet))
			}
		}
	}
	sort.Slice(rss, func(i, j int) bool { return revision(rss[i]) < revision(rss[j]) })
	hash := topology.PodTemplateHash(&d.Spec.Template)
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	var maxRev int64
	for _, rs := range rss {
		maxRev = max(maxRev, revision(rs))
		if rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] == hash && templateEqual(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
		} else {
			old = append(old, rs)
		}
	}
	want := replicasOf(d.Spec.Replicas)
	surge, unavailable := budgets(d)
	if newRS == nil {
		newRS = c.createRS(d, hash, maxRev+1, old, want, surge)
		if newRS == nil {
			return
		}
	} else if revision(newRS) < maxRev { // a rollback to an older template: it becomes the newest revision
		n := newRS.DeepCopy()
		n.Annotations[AnnotationRevision] = strconv.FormatInt(maxRev+1, 10)
		if u, err := c.w.Update(n); err == nil {
			newRS = u.(*appsv1.ReplicaSet)
		}
	}
	oldPods := int32(0)
	for _, rs := range old {
		oldPods += rs.Status.Replicas
	}
	switch {
	case d.Spec.Paused:
	case len(old) == 0 || allZero(old) && oldPods == 0:
		// Not a rollout: a scaling event, or one finished.
		newRS = c.scale(d, newRS, want)
	case d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType:
		for i, rs := range old {
			old[i] = c.scale(d, rs, 0)
		}
		if oldPods == 0 {
			newRS = c.scale(d, newRS, want)
		}
	default:
		c.rollingUpdate(d, newRS, old, want, surge, unavailable)
	}
	c.cleanup(d, old)
	c.status(r, d, newRS, rss)
}

func allZero(rss []*appsv1.ReplicaSet) bool {
	for _, rs := range rss {
		if replicasOf(rs.Spec.Replicas) != 0 {
			return false
		}
	}
	return true
}

// templateEqual compares a ReplicaSet's template with a Deployment's, ignoring the
// pod-template-hash label the controller adds.
func templateEqual(rsT, dT *corev1.PodTemplateSpec) bool {
	a := rsT.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	b := dT.DeepCopy()
	if len(b.Labels) == 0 {
		b.Labels = nil
	}
	return apiequality.Semantic.DeepEqual(a, b)
}

func (c *Deployments) createRS(d *appsv1.Deployment, hash string, rev int64, old []*appsv1.ReplicaSet, want, surge int32) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{}
	rs.Namespace, rs.Name = d.Namespace, d.Name+"-"+hash
	rs.Labels = map[string]string{}
	for k, v := range d.Spec.Template.Labels {
		rs.Labels[k] = v
	}
	rs.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	rs.Annotations = map[string]string{
		AnnotationRevision:        strconv.FormatInt(rev, 10),
		AnnotationDesiredReplicas: strconv.Itoa(int(want)),
		AnnotationMaxReplicas:     strconv.Itoa(int(want + surge)),
	}
	if cause, ok := d.Annotations[AnnotationChangeCause]; ok {
		rs.Annotations[AnnotationChangeCause] = cause
	}
	rs.OwnerReferences = []metav1.OwnerReference{ownedBy(d, "apps/v1", "Deployment")}
	rs.Spec.Selector = d.Spec.Selector.DeepCopy()
	if rs.Spec.Selector.MatchLabels == nil {
		rs.Spec.Selector.MatchLabels = map[string]string{}
	}
	rs.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	d.Spec.Template.DeepCopyInto(&rs.Spec.Template)
	rs.Spec.Template.Labels = map[string]string{}
	for k, v := range rs.Labels {
		rs.Spec.Template.Labels[k] = v
	}
	rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
	// The first ReplicaSet starts at full size; a rollout's new one at zero, grown by
	// the strategy.
	n := want
	if len(old) > 0 && !allZero(old) {
		n = 0
	}
	rs.Spec.Replicas = &n
	o, err := c.w.Create(rs)
	if err != nil {
		c.ev.event(ReasonFailedCreate, "Deployment", d, "Failed to create new replica set %q: %v", rs.Name, err)
		return nil
	}
	if n > 0 {
		c.ev.event(ReasonScalingReplicaSet, "Deployment", d, "Scaled up replica set %s from 0 to %d", rs.Name, n)
	}
	return o.(*appsv1.ReplicaSet)
}

// scale sets a ReplicaSet's replicas and the annotations that go with them, and
// returns the ReplicaSet as stored (objects read from the store are never changed in
// place: other components share them).
func (c *Deployments) scale(d *appsv1.Deployment, rs *appsv1.ReplicaSet, n int32) *appsv1.ReplicaSet {
	cur := replicasOf(rs.Spec.Replicas)
	surge, _ := budgets(d)
	want := replicasOf(d.Spec.Replicas)
	if cur == n && rs.Annotations[AnnotationDesiredReplicas] == strconv.Itoa(int(want)) {
		return rs
	}
	u := rs.DeepCopy()
	u.Spec.Replicas = &n
	if u.Annotations == nil {
		u.Annotations = map[string]string{}
	}
	u.Annotations[AnnotationDesiredReplicas] = strconv.Itoa(int(want))
	u.Annotations[AnnotationMaxReplicas] = strconv.Itoa(int(want + surge))
	o, err := c.w.Update(u)
	if err != nil {
		return rs
	}
	if cur != n {
		dir := "up"
		if n < cur {
			dir = "down"
		}
		c.ev.event(ReasonScalingReplicaSet, "Deployment", d, "Scaled %s replica set %s from %d to %d", dir, rs.Name, cur, n)
	}
	return o.(*appsv1.ReplicaSet)
}

// rollingUpdate makes one step of a rolling update, as the Deployment controller's
// reconcileNewReplicaSet and reconcileOldReplicaSets do.
func (c *Deployments) rollingUpdate(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet, want, surge, unavailable int32) {
	total := replicasOf(newRS.Spec.Replicas)
	for _, rs := range old {
		total += replicasOf(rs.Spec.Replicas)
	}
	// Scale the new ReplicaSet up within the surge.
	if cur := replicasOf(newRS.Spec.Replicas); cur < want {
		if room := want + surge - total; room > 0 {
			n := min(want, cur+room)
			newRS = c.scale(d, newRS, n)
			total += n - cur
		}
	} else if cur > want {
		newRS = c.scale(d, newRS, want)
	}
	// Scale old ones down, never below the availability floor.
	minAvailable := want - unavailable
	available := newRS.Status.AvailableReplicas
	for _, rs := range old {
		available += rs.Status.AvailableReplicas
	}
	newUnavailable := replicasOf(newRS.Spec.Replicas) - newRS.Status.AvailableReplicas
	budget := total - minAvailable - newUnavailable
	if budget <= 0 {
		return
	}
	sort.Slice(old, func(i, j int) bool { return revision(old[i]) < revision(old[j]) })
	// First, old replicas that are not available cost no availability.
	for i, rs := range old {
		if budget <= 0 {
			break
		}
		cur := replicasOf(rs.Spec.Replicas)
		unhealthy := cur - rs.Status.AvailableReplicas
		if unhealthy <= 0 {
			continue
		}
		n := min(unhealthy, budget)
		old[i] = c.scale(d, rs, cur-n)
		budget -= n
	}
	canDrop := min(budget, available-minAvailable)
	for i, rs := range old {
		if canDrop <= 0 {
			break
		}
		cur := replicasOf(rs.Spec.Replicas)
		if cur == 0 {
			continue
		}
		n := min(cur, canDrop)
		old[i] = c.scale(d, rs, cur-n)
		canDrop -= n
	}
}

// cleanup deletes old, empty ReplicaSets beyond revisionHistoryLimit (10 by default).
func (c *Deployments) cleanup(d *appsv1.Deployment, old []*appsv1.ReplicaSet) {
	limit := int32(10)
	if d.Spec.RevisionHistoryLimit != nil {
		limit = *d.Spec.RevisionHistoryLimit
	}
	var empty []*appsv1.ReplicaSet
	for _, rs := range old {
		if replicasOf(rs.Spec.Replicas) == 0 && rs.Status.Replicas == 0 {
			empty = append(empty, rs)
		}
	}
	sort.Slice(empty, func(i, j int) bool { return revision(empty[i]) < revision(empty[j]) })
	for i := 0; i < len(empty)-int(limit); i++ {
		c.w.Delete("ReplicaSet", empty[i].Namespace, empty[i].Name)
	}
}

func (c *Deployments) status(r store.Reader, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, rss []*appsv1.ReplicaSet) {
	if o, ok := r.Get("ReplicaSet", newRS.Namespace, newRS.Name); ok {
		newRS = o.(*appsv1.ReplicaSet)
	}
	st := appsv1.DeploymentStatus{ObservedGeneration: d.Generation, UpdatedReplicas: newRS.Status.Replicas}
	for _, rs := range rss {
		if rs.Name == newRS.Name {
			rs = newRS
		}
		st.Replicas += rs.Status.Replicas
		st.ReadyReplicas += rs.Status.ReadyReplicas
		st.AvailableReplicas += rs.Status.AvailableReplicas
	}
	if !contains(rss, newRS.Name) {
		st.Replicas += newRS.Status.Replicas
		st.ReadyReplicas += newRS.Status.ReadyReplicas
		st.AvailableReplicas += newRS.Status.AvailableReplicas
	}
	want := replicasOf(d.Spec.Replicas)
	st.UnavailableReplicas = max(0, want-st.AvailableReplicas)
	_, unavailable := budgets(d)
	now := metav1.NewTime(c.Now().Truncate(time.Second))
	avail := corev1.ConditionFalse
	availReason, availMsg := "MinimumReplicasUnavailable", "Deployment does not have minimum availability."
	if st.AvailableReplicas >= want-unavailable {
		avail, availReason, availMsg = corev1.ConditionTrue, "MinimumReplicasAvailable", "Deployment has minimum availability."
	}
	progReason := "ReplicaSetUpdated"
	progMsg := fmt.Sprintf("ReplicaSet %q is progressing.", newRS.Name)
	if st.UpdatedReplicas == want && st.Replicas == want && st.AvailableReplicas == want {
		progReason, progMsg = "NewReplicaSetAvailable", fmt.Sprintf("ReplicaSet %q has successfully progressed.", newRS.Name)
	}
	if d.Spec.Paused {
		progReason, progMsg = "DeploymentPaused", "Deployment is paused"
	}
	st.Conditions = []appsv1.DeploymentCondition{
		condition(d.Status.Conditions, appsv1.DeploymentAvailable, avail, availReason, availMsg, now),
		condition(d.Status.Conditions, appsv1.DeploymentProgressing, corev1.ConditionTrue, progReason, progMsg, now),
	}
	if apiequality.Semantic.DeepEqual(st, d.Status) {
		return
	}
	n := d.DeepCopy()
	n.Status = st
	c.w.UpdateStatus(n)
}

func contains(rss []*appsv1.ReplicaSet, name string) bool {
	for _, rs := range rss {
		if rs.Name == name {
			return true
		}
	}
	return false
}

// condition keeps a condition's times when its status and reason did not change.
func condition(old []appsv1.DeploymentCondition, t appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, msg string, now metav1.Time) appsv1.DeploymentCondition {
	c := appsv1.DeploymentCondition{Type: t, Status: status, Reason: reason, Message: msg, LastUpdateTime: now, LastTransitionTime: now}
	for _, o := range old {
		if o.Type != t {
			continue
		}
		if o.Status == status {
			c.LastTransitionTime = o.LastTransitionTime
		}
		if o.Status == status && o.Reason == reason && o.Message == msg {
			c.LastUpdateTime = o.LastUpdateTime
		}
	}
	return c
}
