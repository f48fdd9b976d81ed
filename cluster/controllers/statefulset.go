package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/topology"
)

// StatefulSets gives each StatefulSet's pods a stable identity: pod <name>-<ordinal>,
// its hostname the pod's name and its subdomain the set's serviceName (the headless
// Service's DNS names), and a deleted pod comes back under the same name once its
// kubelet has removed the old one. With podManagementPolicy OrderedReady (the default)
// ordinal i is created only when 0..i-1 are Running and Ready, and scaling down removes
// the highest ordinal first, one at a time; Parallel does both at once. Each template
// is a revision (a ControllerRevision <name>-<hash>, the pods' controller-revision-hash
// label): RollingUpdate replaces pods from the highest ordinal down to the partition,
// one at a time, each once the pods above it are ready again; OnDelete leaves that to
// the user, and only pods created afterwards get the new template. Each sync makes at
// most the one step Kubernetes' StatefulSet controller would; the next store change
// makes the next.
type StatefulSets struct {
	component.Loop
	w   component.Writer
	ev  emitter
	Now func() time.Time
}

// NewStatefulSets returns the StatefulSet controller.
func NewStatefulSets(w component.Writer, emit component.Emit) *StatefulSets {
	c := &StatefulSets{w: w, ev: emitter{emit}, Now: time.Now}
	c.Interest = func(r store.Reader, ch store.Change) bool {
		return kindIs(ch, "StatefulSet", "ControllerRevision") || podsOf(r, ch, "StatefulSet")
	}
	return c
}

func (c *StatefulSets) Name() string { return "statefulset-controller" }

func (c *StatefulSets) Run(ctx context.Context, r store.Reader) error {
	return c.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { c.Sync(r) })
}

// Sync reconciles every StatefulSet once.
func (c *StatefulSets) Sync(r store.Reader) {
	for _, o := range r.List("StatefulSet", "") {
		c.syncOne(r, o.(*appsv1.StatefulSet))
	}
}

// setSync is one StatefulSet's sync: its pods by ordinal and its two revisions.
type setSync struct {
	c         *StatefulSets
	set       *appsv1.StatefulSet
	now       time.Time
	start     int
	replicas  []*corev1.Pod // ordinal start+i at i; nil where there is no pod
	condemned []*corev1.Pod // ordinals beyond the replicas, highest first
	// The revision the set is at (status.currentRevision) and the one it moves to.
	current, update         string
	currentTmpl, updateTmpl *corev1.PodTemplateSpec
}

func (c *StatefulSets) syncOne(r store.Reader, set *appsv1.StatefulSet) {
	if set.DeletionTimestamp != nil {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || sel.Empty() {
		return
	}
	revs := revisions(r, set)
	update, revs, err := ensureRevision(c.w, set, "StatefulSet", revs, &set.Spec.Template, topology.PodTemplateHash(&set.Spec.Template))
	if err != nil {
		c.ev.event(ReasonFailedCreate, "StatefulSet", set, "create ControllerRevision for StatefulSet %s failed error: %v", set.Name, err)
		return
	}
	s := &setSync{c: c, set: set, now: c.Now(), update: update.Name, updateTmpl: &set.Spec.Template}
	s.current, s.currentTmpl = s.update, s.updateTmpl
	for _, cr := range revs {
		if cr.Name == set.Status.CurrentRevision && cr.Name != update.Name {
			if tmpl, err := revisionTemplate(cr); err == nil {
				s.current, s.currentTmpl = cr.Name, tmpl
			}
		}
	}

	mine, orphans := owned(pods(r, set.Namespace), set.UID, sel)
	var members []*corev1.Pod
	for _, p := range orphans {
		if parent, _ := parentAndOrdinal(p.Name); parent == set.Name {
			members = append(members, p)
		}
	}
	mine = append(mine, adopt(c.w, set, "StatefulSet", members)...)
	if set.Spec.Ordinals != nil {
		s.start = int(set.Spec.Ordinals.Start)
	}
	s.replicas = make([]*corev1.Pod, replicasOf(set.Spec.Replicas))
	for _, p := range mine {
		parent, ord := parentAndOrdinal(p.Name)
		switch {
		case parent != set.Name || ord < 0:
			// Not a member by name: Kubernetes ignores it too.
		case ord >= s.start && ord < s.start+len(s.replicas):
			s.replicas[ord-s.start] = p
		default:
			s.condemned = append(s.condemned, p)
		}
	}
	sort.Slice(s.condemned, func(i, j int) bool {
		_, a := parentAndOrdinal(s.condemned[i].Name)
		_, b := parentAndOrdinal(s.condemned[j].Name)
		return a > b
	})

	s.step()
	s.status()
	live := map[string]bool{s.current: true, s.update: true}
	for _, p := range append(s.replicas, s.condemned...) {
		if p != nil {
			live[p.Labels[appsv1.StatefulSetRevisionLabel]] = true
		}
	}
	truncateRevisions(c.w, revs, live, set.Spec.RevisionHistoryLimit)
}

// step makes what progress the set's policy allows, as the StatefulSet controller's
// updateStatefulSet does: missing and failed replicas first, then the condemned
// ordinals, then, with RollingUpdate, one pod of an old revision.
func (s *setSync) step() {
	monotonic := s.set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	for i := range s.replicas {
		p := s.replicas[i]
		switch {
		case p == nil:
			s.replicas[i] = s.create(s.start + i)
			if s.replicas[i] == nil || monotonic {
				return
			}
		case p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded:
			// Replaced under the same name once it is gone.
			if p.DeletionTimestamp == nil {
				s.remove(&s.replicas[i])
			}
			if monotonic {
				return
			}
		case monotonic && !s.healthy(p):
			return // wait for it: terminating, not yet Running and Ready, or not yet available
		}
	}
	// In OrderedReady every replica is healthy now. The first unhealthy condemned pod
	// (the lowest ordinal) may go even so; any other waits for it.
	var firstUnhealthy *corev1.Pod
	for _, p := range s.condemned {
		if !s.healthy(p) {
			firstUnhealthy = p
		}
	}
	for j, p := range s.condemned {
		switch {
		case p.DeletionTimestamp != nil:
			if monotonic {
				return
			}
			continue
		case monotonic && !s.healthy(p) && p != firstUnhealthy:
			return
		}
		s.remove(&s.condemned[j])
		if monotonic {
			return
		}
	}
	if s.set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return
	}
	for i := len(s.replicas) - 1; i >= 0 && s.start+i >= s.partition(); i-- {
		p := s.replicas[i]
		if p == nil {
			return
		}
		if p.Labels[appsv1.StatefulSetRevisionLabel] != s.update && p.DeletionTimestamp == nil {
			s.remove(&s.replicas[i])
			return
		}
		if !s.healthy(p) {
			return // the pod just replaced is not ready yet
		}
	}
}

// partition is the lowest ordinal a RollingUpdate replaces.
func (s *setSync) partition() int {
	if ru := s.set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return int(*ru.Partition)
	}
	return 0
}

// healthy: not terminating, Running and Ready, and available (ready for minReadySeconds).
func (s *setSync) healthy(p *corev1.Pod) bool {
	ok, _ := podAvailable(p, s.set.Spec.MinReadySeconds, s.now)
	return p.DeletionTimestamp == nil && runningAndReady(p) && ok
}

func runningAndReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && podReady(p)
}

// create makes the pod of ordinal ord. Below the partition it keeps the current
// revision, so a pod deleted there comes back as it was.
func (s *setSync) create(ord int) *corev1.Pod {
	set := s.set
	tmpl, rev := s.updateTmpl, s.update
	if set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType && ord < s.partition() {
		tmpl, rev = s.currentTmpl, s.current
	}
	p := podFromTemplate(tmpl, set.Namespace, "", ownedBy(set, "apps/v1", "StatefulSet"))
	p.Name = fmt.Sprintf("%s-%d", set.Name, ord)
	p.Labels[appsv1.StatefulSetPodNameLabel] = p.Name
	p.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ord)
	p.Labels[appsv1.StatefulSetRevisionLabel] = rev
	p.Spec.Hostname = p.Name
	p.Spec.Subdomain = set.Spec.ServiceName
	o, err := s.c.w.Create(p)
	if err != nil {
		s.c.ev.event(ReasonFailedCreate, "StatefulSet", set, "create Pod %s in StatefulSet %s failed error: %v", p.Name, set.Name, err)
		return nil
	}
	s.c.ev.event(ReasonSuccessfulCreate, "StatefulSet", set, "create Pod %s in StatefulSet %s successful", p.Name, set.Name)
	return o.(*corev1.Pod)
}

// remove deletes the pod in slot, leaving it there as terminating.
func (s *setSync) remove(slot **corev1.Pod) {
	p, err := deletePod(s.c.w, *slot)
	if err != nil {
		s.c.ev.event(ReasonFailedDelete, "StatefulSet", s.set, "delete Pod %s in StatefulSet %s failed error: %v", p.Name, s.set.Name, err)
		return
	}
	*slot = p
	s.c.ev.event(ReasonSuccessfulDelete, "StatefulSet", s.set, "delete Pod %s in StatefulSet %s successful", p.Name, s.set.Name)
}

// status writes the set's status when it changed. A RollingUpdate is complete when
// every pod is updated and ready: the update revision becomes the current one.
func (s *setSync) status() {
	set := s.set
	st := set.Status.DeepCopy()
	st.ObservedGeneration = set.Generation
	st.CurrentRevision, st.UpdateRevision = s.current, s.update
	st.Replicas, st.ReadyReplicas, st.AvailableReplicas, st.CurrentReplicas, st.UpdatedReplicas = 0, 0, 0, 0, 0
	var soonest time.Duration
	for _, p := range append(s.replicas, s.condemned...) {
		if p == nil {
			continue
		}
		if p.Status.Phase != "" {
			st.Replicas++
		}
		if runningAndReady(p) {
			st.ReadyReplicas++
			if ok, wait := podAvailable(p, set.Spec.MinReadySeconds, s.now); ok {
				st.AvailableReplicas++
			} else if wait > 0 && (soonest == 0 || wait < soonest) {
				soonest = wait
			}
		}
		if p.Status.Phase != "" && p.DeletionTimestamp == nil {
			switch p.Labels[appsv1.StatefulSetRevisionLabel] {
			case s.current:
				st.CurrentReplicas++
				if s.current == s.update {
					st.UpdatedReplicas++
				}
			case s.update:
				st.UpdatedReplicas++
			}
		}
	}
	if soonest > 0 {
		s.c.After(soonest) // a pod becomes available then: look again
	}
	if set.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType && st.UpdatedReplicas == st.Replicas && st.ReadyReplicas == st.Replicas {
		st.CurrentRevision, st.CurrentReplicas = st.UpdateRevision, st.UpdatedReplicas
	}
	if apiequality.Semantic.DeepEqual(*st, set.Status) {
		return
	}
	n := set.DeepCopy()
	n.Status = *st
	s.c.w.UpdateStatus(n)
}

// parentAndOrdinal splits a StatefulSet pod's name <parent>-<ordinal>; the ordinal is
// -1 when the name has none.
func parentAndOrdinal(name string) (string, int) {
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return "", -1
	}
	ord, err := strconv.ParseUint(name[i+1:], 10, 31)
	if err != nil {
		return "", -1
	}
	return name[:i], int(ord)
}

// Revision history, kept by the StatefulSet and DaemonSet controllers as Kubernetes
// keeps it: one ControllerRevision per template the owner has had, named
// <owner>-<hash>, labelled with the hash, holding the template as the replace patch
// that `kubectl rollout history` shows and `kubectl rollout undo` applies.

// revisions lists the ControllerRevisions owner controls, oldest revision first.
func revisions(r store.Reader, owner store.Object) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, o := range r.List("ControllerRevision", owner.GetNamespace()) {
		cr := o.(*appsv1.ControllerRevision)
		if ref, ok := controllerOf(cr); ok && ref.UID == owner.GetUID() {
			out = append(out, cr)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Revision < out[j].Revision })
	return out
}

// ensureRevision returns the revision of tmpl: created when new, made the newest when
// the owner had that template before (a rollback). revs comes back with it included.
func ensureRevision(w component.Writer, owner store.Object, kind string, revs []*appsv1.ControllerRevision, tmpl *corev1.PodTemplateSpec, hash string) (*appsv1.ControllerRevision, []*appsv1.ControllerRevision, error) {
	name := owner.GetName() + "-" + hash
	var next int64 = 1
	if len(revs) > 0 {
		next = revs[len(revs)-1].Revision + 1
	}
	for i, cr := range revs {
		if cr.Name != name {
			continue
		}
		if i == len(revs)-1 {
			return cr, revs, nil
		}
		n := cr.DeepCopy()
		n.Revision = next
		o, err := w.Update(n)
		if err != nil {
			return nil, revs, err
		}
		n = o.(*appsv1.ControllerRevision)
		revs = append(append(revs[:i:i], revs[i+1:]...), n)
		return n, revs, nil
	}
	data, err := revisionData(tmpl)
	if err != nil {
		return nil, revs, err
	}
	cr := &appsv1.ControllerRevision{Data: runtime.RawExtension{Raw: data}, Revision: next}
	cr.Namespace, cr.Name = owner.GetNamespace(), name
	cr.Labels = map[string]string{}
	for k, v := range tmpl.Labels {
		cr.Labels[k] = v
	}
	cr.Labels[appsv1.ControllerRevisionHashLabelKey] = hash
	cr.OwnerReferences = []metav1.OwnerReference{ownedBy(owner, "apps/v1", kind)}
	o, err := w.Create(cr)
	if err != nil {
		return nil, revs, err
	}
	n := o.(*appsv1.ControllerRevision)
	return n, append(revs, n), nil
}

// revisionData is the patch a ControllerRevision holds: {"spec":{"template":{...,"$patch":"replace"}}}.
func revisionData(tmpl *corev1.PodTemplateSpec) ([]byte, error) {
	raw, err := json.Marshal(tmpl)
	if err != nil {
		return nil, err
	}
	var t map[string]any
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, err
	}
	t["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": t}})
}

// revisionTemplate is the pod template a ControllerRevision holds.
func revisionTemplate(cr *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var patch struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(cr.Data.Raw, &patch); err != nil {
		return nil, fmt.Errorf("ControllerRevision %s/%s: %w", cr.Namespace, cr.Name, err)
	}
	return &patch.Spec.Template, nil
}

// truncateRevisions deletes the oldest revisions that nothing uses (live names the
// owner's revisions and its pods') beyond limit, 10 by default.
func truncateRevisions(w component.Writer, revs []*appsv1.ControllerRevision, live map[string]bool, limit *int32) {
	keep := 10
	if limit != nil {
		keep = int(*limit)
	}
	var old []*appsv1.ControllerRevision
	for _, cr := range revs {
		if !live[cr.Name] {
			old = append(old, cr)
		}
	}
	for i := 0; i < len(old)-keep; i++ {
		w.Delete("ControllerRevision", old[i].Namespace, old[i].Name)
	}
}
