package controllers

import (
	"context"
	"slices"
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

// Labels and event reasons of the DaemonSet controller, as Kubernetes names them.
const (
	LabelPodTemplateGeneration = "pod-template-generation"
	ReasonFailedDaemonPod      = "FailedDaemonPod"
)

// DaemonSets runs one pod of each DaemonSet on every node it fits: the node matches
// the template's nodeSelector and required node affinity, and the pod tolerates the
// node's NoSchedule and NoExecute taints (with the tolerations Kubernetes adds to every
// daemon pod). The controller names the node through the pod's required node affinity
// (matchFields metadata.name) and leaves the binding to the scheduler, as Kubernetes
// does. A node that stops fitting loses its pod (a new NoSchedule taint alone does not
// evict it: the pod is then misscheduled); a new node gets one. A template change is
// rolled out with RollingUpdate (maxUnavailable 1 by default, or maxSurge: the new pod
// first) or, with OnDelete, as the user deletes pods.
type DaemonSets struct {
	component.Loop
	w   component.Writer
	ev  emitter
	Now func() time.Time
}

// NewDaemonSets returns the DaemonSet controller.
func NewDaemonSets(w component.Writer, emit component.Emit) *DaemonSets {
	c := &DaemonSets{w: w, ev: emitter{emit}, Now: time.Now}
	c.Interest = func(r store.Reader, ch store.Change) bool {
		return kindIs(ch, "DaemonSet", "Node", "ControllerRevision") || podsOf(r, ch, "DaemonSet")
	}
	return c
}

func (c *DaemonSets) Name() string { return "daemonset-controller" }

func (c *DaemonSets) Run(ctx context.Context, r store.Reader) error {
	return c.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { c.Sync(r) })
}

// Sync reconciles every DaemonSet once.
func (c *DaemonSets) Sync(r store.Reader) {
	var nodes []*corev1.Node
	for _, o := range r.List("Node", "") {
		nodes = append(nodes, o.(*corev1.Node))
	}
	for _, o := range r.List("DaemonSet", "") {
		c.syncOne(r, o.(*appsv1.DaemonSet), nodes)
	}
}

// dsSync is one DaemonSet's sync: its pods by the node they are for.
type dsSync struct {
	c      *DaemonSets
	ds     *appsv1.DaemonSet
	now    time.Time
	nodes  []*corev1.Node
	hash   string
	tmpl   *corev1.PodTemplateSpec // the daemon pods' template: labels and tolerations added
	byNode map[string][]*corev1.Pod
}

func (c *DaemonSets) syncOne(r store.Reader, ds *appsv1.DaemonSet, nodes []*corev1.Node) {
	if ds.DeletionTimestamp != nil {
		return
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() {
		return
	}
	d := &dsSync{c: c, ds: ds, now: c.Now(), nodes: nodes, hash: topology.PodTemplateHash(&ds.Spec.Template), byNode: map[string][]*corev1.Pod{}}
	revs := revisions(r, ds)
	cur, revs, err := ensureRevision(c.w, ds, "DaemonSet", revs, &ds.Spec.Template, d.hash)
	if err != nil {
		c.ev.event(ReasonFailedCreate, "DaemonSet", ds, "Failed to create ControllerRevision for DaemonSet %s: %v", ds.Name, err)
	}
	d.tmpl = daemonTemplate(ds, d.hash)
	mine, orphans := owned(pods(r, ds.Namespace), ds.UID, sel)
	for _, p := range append(mine, adopt(c.w, ds, "DaemonSet", orphans)...) {
		if node := targetNode(p); node != "" {
			d.byNode[node] = append(d.byNode[node], p)
		}
	}
	if !d.manage() && ds.Spec.UpdateStrategy.Type != appsv1.OnDeleteDaemonSetStrategyType {
		// As Kubernetes, roll only once the pods match the nodes.
		d.rollingUpdate()
	}
	d.status()
	live := map[string]bool{}
	if cur != nil {
		live[cur.Name] = true
	}
	for _, ps := range d.byNode {
		for _, p := range ps {
			live[ds.Name+"-"+p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] = true
		}
	}
	truncateRevisions(c.w, revs, live, ds.Spec.RevisionHistoryLimit)
}

// daemonTolerations are the tolerations Kubernetes adds to every daemon pod, so that
// node conditions do not evict or keep out a node's daemons.
var daemonTolerations = []corev1.Toleration{
	{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

// daemonTemplate is ds's template as its pods get it: the revision hash and template
// generation labels, and the daemon tolerations (network-unavailable too for a
// hostNetwork pod, which does not need the pod network).
func daemonTemplate(ds *appsv1.DaemonSet, hash string) *corev1.PodTemplateSpec {
	t := ds.Spec.Template.DeepCopy()
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	t.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	t.Labels[LabelPodTemplateGeneration] = strconv.FormatInt(ds.Generation, 10)
	tols := daemonTolerations
	if t.Spec.HostNetwork {
		tols = append(slices.Clone(tols), corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
	for _, tol := range tols {
		if !slices.ContainsFunc(t.Spec.Tolerations, func(have corev1.Toleration) bool { return have.MatchToleration(&tol) }) {
			t.Spec.Tolerations = append(t.Spec.Tolerations, tol)
		}
	}
	return t
}

// shouldRun says whether a daemon pod should be created on n (it fits) and whether
// one there may stay (only an untolerated NoExecute taint or a mismatch evicts it).
func (d *dsSync) shouldRun(n *corev1.Node) (run, stay bool) {
	p := &corev1.Pod{Spec: d.tmpl.Spec}
	if p.Spec.NodeName != "" && p.Spec.NodeName != n.Name || !matchesNode(p, n) {
		return false, false
	}
	run, stay = true, true
	for _, t := range n.Spec.Taints {
		if (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) && !tolerates(p, t) {
			run = false
			stay = stay && t.Effect != corev1.TaintEffectNoExecute
		}
	}
	return run, stay
}

// targetNode is the node a daemon pod is for: its nodeName once bound, before that
// the node its affinity names.
func targetNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, e := range term.MatchFields {
			if e.Key == metav1.ObjectNameField && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
				return e.Values[0]
			}
		}
	}
	return ""
}

// manage gives every node that should run the daemon its pod and takes it from those
// that should not, as the DaemonSet controller's manage does; it says whether it wrote.
func (d *dsSync) manage() (wrote bool) {
	surge := d.allowsSurge()
	known := map[string]bool{}
	for _, n := range d.nodes {
		known[n.Name] = true
		run, stay := d.shouldRun(n)
		ps := d.byNode[n.Name]
		switch {
		case run && len(ps) == 0:
			wrote = d.create(n.Name) || wrote
		case stay:
			var running []*corev1.Pod
			for _, p := range ps {
				switch {
				case p.DeletionTimestamp != nil:
				case p.Status.Phase == corev1.PodFailed:
					d.c.ev.event(ReasonFailedDaemonPod, "DaemonSet", d.ds, "Found failed daemon pod %s/%s on node %s, will try to kill it", p.Namespace, p.Name, n.Name)
					wrote = d.remove(p) || wrote
				default:
					running = append(running, p)
				}
			}
			if surge && len(running) == 0 && run {
				wrote = d.create(n.Name) || wrote // surging: a node needs a live pod now
			}
			for _, p := range d.excess(running, surge) {
				wrote = d.remove(p) || wrote
			}
		default:
			for _, p := range ps {
				if p.DeletionTimestamp == nil {
					wrote = d.remove(p) || wrote
				}
			}
		}
	}
	// A pod for a node that is gone can never be bound: it goes (bound ones are left
	// to the pod garbage collector, as in Kubernetes).
	for node, ps := range d.byNode {
		if known[node] {
			continue
		}
		for _, p := range ps {
			if p.Spec.NodeName == "" && p.DeletionTimestamp == nil {
				wrote = d.remove(p) || wrote
			}
		}
	}
	return wrote
}

// excess are a node's running daemon pods beyond the one it should have: all but the
// oldest; while surging, the new pod and the old one stay together only as long as the
// old one is ready and the new one not yet available.
func (d *dsSync) excess(running []*corev1.Pod, surge bool) []*corev1.Pod {
	if len(running) <= 1 {
		return nil
	}
	running = slices.Clone(running)
	sortDaemonPods(running)
	if !surge {
		return running[1:]
	}
	var out []*corev1.Pod
	var oldestNew, oldestOld *corev1.Pod
	for _, p := range running {
		switch {
		case d.updated(p) && oldestNew == nil:
			oldestNew = p
		case !d.updated(p) && oldestOld == nil:
			oldestOld = p
		default:
			out = append(out, p)
		}
	}
	if oldestNew != nil && oldestOld != nil && (!podReady(oldestOld) || d.available(oldestNew)) {
		out = append(out, oldestOld)
	}
	return out
}

// sortDaemonPods puts bound pods first, then the oldest, as Kubernetes ranks a node's
// daemon pods.
func sortDaemonPods(ps []*corev1.Pod) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if (a.Spec.NodeName == "") != (b.Spec.NodeName == "") {
			return a.Spec.NodeName != ""
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

func (d *dsSync) updated(p *corev1.Pod) bool {
	return p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == d.hash
}

func (d *dsSync) available(p *corev1.Pod) bool {
	ok, _ := podAvailable(p, d.ds.Spec.MinReadySeconds, d.now)
	return ok
}

func (d *dsSync) allowsSurge() bool {
	surge, _ := d.budgets()
	return surge > 0
}

// budgets are the rollout's maxSurge and maxUnavailable against the nodes that should
// run the daemon, both rounded up; maxUnavailable is 1 by default.
func (d *dsSync) budgets() (surge, unavailable int) {
	ds := d.ds
	if ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return 0, 1
	}
	desired := 0
	for _, n := range d.nodes {
		if run, _ := d.shouldRun(n); run {
			desired++
		}
	}
	ms, mu := intstr.FromInt32(0), intstr.FromInt32(1)
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		if ru.MaxSurge != nil {
			ms = *ru.MaxSurge
		}
		if ru.MaxUnavailable != nil {
			mu = *ru.MaxUnavailable
		}
	}
	surge, _ = intstr.GetScaledValueFromIntOrPercent(&ms, desired, true)
	unavailable, _ = intstr.GetScaledValueFromIntOrPercent(&mu, desired, true)
	if surge == 0 && unavailable == 0 {
		unavailable = 1 // a percentage of few nodes rounded to 0: progress anyway
	}
	return surge, unavailable
}

// rollingUpdate replaces old pods within the budget, as the DaemonSet controller's
// rollingUpdate does: without surge it deletes old pods while at most maxUnavailable
// nodes lack an available daemon (unavailable old pods go first, costing nothing);
// with surge it starts new pods beside old ones on up to maxSurge nodes, and manage
// deletes the old pod once the new one is available.
func (d *dsSync) rollingUpdate() {
	surge, unavailable := d.budgets()
	var must, may []string
	busy := 0
	// Nodes in name order (Kubernetes walks a map: any order is its). A pod bound to a
	// node that is gone is the pod garbage collector's, not the rollout's.
	for _, node := range d.nodes {
		n := node.Name
		if len(d.byNode[n]) == 0 {
			continue
		}
		newPod, oldPod, ok := d.podsOn(n)
		switch {
		case !ok:
			busy++ // more pods than one of each: manage cleans up first
		case surge > 0 && oldPod != nil && newPod != nil:
			if !d.available(newPod) {
				busy++
			}
		case surge > 0 && oldPod != nil:
			if run, _ := d.shouldRun(node); !run {
				// A new pod could not go there: the old one stays, misscheduled.
			} else if !d.available(oldPod) {
				must = append(must, n)
			} else if busy < surge {
				may = append(may, n)
			}
		case surge > 0:
		case oldPod == nil && newPod == nil, oldPod != nil && newPod != nil:
			busy++
		case newPod != nil:
			if !d.available(newPod) {
				busy++
			}
		case !d.available(oldPod):
			must = append(must, n)
		case busy < unavailable:
			may = append(may, n)
		}
	}
	budget := unavailable
	if surge > 0 {
		budget = surge
	}
	budget = max(0, min(budget-busy, len(may)))
	for _, n := range append(must, may[:budget]...) {
		if surge > 0 {
			d.create(n)
			continue
		}
		_, oldPod, _ := d.podsOn(n)
		d.remove(oldPod)
	}
}

// podsOn is the node's live new and old pod; ok is false when it has more than one
// of either.
func (d *dsSync) podsOn(node string) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, p := range d.byNode[node] {
		if p.DeletionTimestamp != nil {
			continue
		}
		slot := &oldPod
		if d.updated(p) {
			slot = &newPod
		}
		if *slot != nil {
			return nil, nil, false
		}
		*slot = p
	}
	return newPod, oldPod, true
}

// create makes the daemon pod for node, its node named by required node affinity
// (matchFields metadata.name) for the scheduler to bind.
func (d *dsSync) create(node string) bool {
	ds := d.ds
	tmpl := d.tmpl.DeepCopy()
	tmpl.Spec.Affinity = affinityForNode(tmpl.Spec.Affinity, node)
	p := podFromTemplate(tmpl, ds.Namespace, ds.Name+"-", ownedBy(ds, "apps/v1", "DaemonSet"))
	o, err := d.c.w.Create(p)
	if err != nil {
		d.c.ev.event(ReasonFailedCreate, "DaemonSet", ds, "Error creating: %v", err)
		return false
	}
	created := o.(*corev1.Pod)
	d.byNode[node] = append(d.byNode[node], created)
	d.c.ev.event(ReasonSuccessfulCreate, "DaemonSet", ds, "Created pod: %s", created.Name)
	return true
}

// affinityForNode replaces the required node affinity with the one term that names
// node, as Kubernetes does: the controller has checked the template's terms already.
func affinityForNode(a *corev1.Affinity, node string) *corev1.Affinity {
	sel := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{
		{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}},
	}}}}
	if a == nil {
		a = &corev1.Affinity{}
	}
	if a.NodeAffinity == nil {
		a.NodeAffinity = &corev1.NodeAffinity{}
	}
	a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
	return a
}

// remove deletes a daemon pod, keeping it as terminating in the sync's view.
func (d *dsSync) remove(p *corev1.Pod) bool {
	q, err := deletePod(d.c.w, p)
	if err != nil {
		d.c.ev.event(ReasonFailedDelete, "DaemonSet", d.ds, "Error deleting: %v", err)
		return false
	}
	node := targetNode(p)
	ps := d.byNode[node]
	if i := slices.Index(ps, p); i >= 0 {
		ps[i] = q
	}
	d.c.ev.event(ReasonSuccessfulDelete, "DaemonSet", d.ds, "Deleted pod: %s", p.Name)
	return true
}

// status writes the DaemonSet's status when it changed; a node counts by its oldest
// daemon pod.
func (d *dsSync) status() {
	ds := d.ds
	st := ds.Status.DeepCopy()
	st.ObservedGeneration = ds.Generation
	st.DesiredNumberScheduled, st.CurrentNumberScheduled, st.NumberMisscheduled = 0, 0, 0
	st.NumberReady, st.NumberAvailable, st.UpdatedNumberScheduled = 0, 0, 0
	var soonest time.Duration
	for _, n := range d.nodes {
		run, _ := d.shouldRun(n)
		ps := d.byNode[n.Name]
		if !run {
			if len(ps) > 0 {
				st.NumberMisscheduled++
			}
			continue
		}
		st.DesiredNumberScheduled++
		if len(ps) == 0 {
			continue
		}
		st.CurrentNumberScheduled++
		ps = slices.Clone(ps)
		sortDaemonPods(ps)
		p := ps[0]
		if podReady(p) {
			st.NumberReady++
			if ok, wait := podAvailable(p, ds.Spec.MinReadySeconds, d.now); ok {
				st.NumberAvailable++
			} else if wait > 0 && (soonest == 0 || wait < soonest) {
				soonest = wait
			}
		}
		if d.updated(p) {
			st.UpdatedNumberScheduled++
		}
	}
	st.NumberUnavailable = st.DesiredNumberScheduled - st.NumberAvailable
	if soonest > 0 {
		d.c.After(soonest)
	}
	if apiequality.Semantic.DeepEqual(*st, ds.Status) {
		return
	}
	n := ds.DeepCopy()
	n.Status = *st
	d.c.w.UpdateStatus(n)
}
