package controllers

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// Scheduler binds each pod without a node to the feasible node with the fewest pods,
// spreading a controller's pods over nodes. A pod that fits no node is accepted and
// stays Pending with the scheduler's own words (its PodScheduled condition and a
// FailedScheduling event); it is placed as soon as a node starts to fit (a label
// added, a pod gone). Filters: the node is Ready and schedulable, nodeSelector,
// required node affinity, taints (NoSchedule, NoExecute) against tolerations, and the
// node's pod capacity (status.allocatable pods).
type Scheduler struct {
	component.Loop
	w    component.Writer
	emit component.Emit
	said map[string]string // pod key -> the last FailedScheduling message emitted
}

// NewScheduler returns the scheduler.
func NewScheduler(w component.Writer, emit component.Emit) *Scheduler {
	s := &Scheduler{w: w, emit: emit, said: map[string]string{}}
	// Pods' status (readiness, its own Unschedulable conditions) never changes where
	// a pod fits.
	s.Interest = func(_ store.Reader, c store.Change) bool {
		return c.Key.Kind == "Node" || c.Key.Kind == "Pod" && !c.Status
	}
	return s
}

func (s *Scheduler) Name() string { return "default-scheduler" }

func (s *Scheduler) Run(ctx context.Context, r store.Reader) error {
	return s.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { s.Sync(r) })
}

type nodeInfo struct {
	node *corev1.Node
	pods int
	cap  int
	// owners counts the pods of each controller on the node, to spread replicas.
	owners map[string]int
}

// Sync schedules every pending pod once.
func (s *Scheduler) Sync(r store.Reader) {
	var nodes []*nodeInfo
	byName := map[string]*nodeInfo{}
	for _, o := range r.List("Node", "") {
		n := o.(*corev1.Node)
		ni := &nodeInfo{node: n, cap: 110, owners: map[string]int{}}
		if q, ok := n.Status.Allocatable[corev1.ResourcePods]; ok {
			ni.cap = int(q.Value())
		}
		nodes = append(nodes, ni)
		byName[n.Name] = ni
	}
	var pending []*corev1.Pod
	for _, p := range pods(r, "") {
		switch {
		case p.Spec.NodeName != "":
			if ni := byName[p.Spec.NodeName]; ni != nil && active(p) {
				ni.pods++
				if ref, ok := controllerOf(p); ok {
					ni.owners[string(ref.UID)]++
				}
			}
		case p.DeletionTimestamp == nil:
			pending = append(pending, p)
		}
	}
	seen := map[string]bool{}
	for _, p := range pending {
		key := p.Namespace + "/" + p.Name
		seen[key] = true
		best, why := s.pick(p, nodes)
		if best == nil {
			s.unschedulable(p, why)
			continue
		}
		b := p.DeepCopy()
		b.Spec.NodeName = best.node.Name
		if _, err := s.w.Update(b); err != nil {
			continue
		}
		best.pods++
		if ref, ok := controllerOf(p); ok {
			best.owners[string(ref.UID)]++
		}
		delete(s.said, key)
		if s.emit != nil {
			s.emit(events.Event{Type: ReasonScheduled, Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Node: best.node.Name,
				Message: fmt.Sprintf("Successfully assigned %s/%s to %s", p.Namespace, p.Name, best.node.Name)})
		}
	}
	for k := range s.said {
		if !seen[k] {
			delete(s.said, k)
		}
	}
}

// pick returns the best feasible node, or nil and the reasons each node failed.
func (s *Scheduler) pick(p *corev1.Pod, nodes []*nodeInfo) (*nodeInfo, map[string]int) {
	why := map[string]int{}
	var feasible []*nodeInfo
	for _, ni := range nodes {
		if reason := fits(p, ni); reason != "" {
			why[reason]++
			continue
		}
		feasible = append(feasible, ni)
	}
	if len(feasible) == 0 {
		return nil, why
	}
	owner := ""
	if ref, ok := controllerOf(p); ok {
		owner = string(ref.UID)
	}
	sort.SliceStable(feasible, func(i, j int) bool {
		a, b := feasible[i], feasible[j]
		if owner != "" && a.owners[owner] != b.owners[owner] {
			return a.owners[owner] < b.owners[owner]
		}
		if a.pods != b.pods {
			return a.pods < b.pods
		}
		return a.node.Name < b.node.Name
	})
	return feasible[0], nil
}

// fits says why pod p cannot go to node ni, in the scheduler's words, or "".
func fits(p *corev1.Pod, ni *nodeInfo) string {
	n := ni.node
	if n.Spec.Unschedulable && !tolerates(p, corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}) {
		return "node(s) were unschedulable"
	}
	if !nodeReady(n) && !tolerates(p, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule}) {
		return "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"
	}
	for _, t := range n.Spec.Taints {
		if (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) && !tolerates(p, t) {
			return fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value)
		}
	}
	if !matchesNode(p, n) {
		return "node(s) didn't match Pod's node affinity/selector"
	}
	if ni.pods >= ni.cap {
		return "Too many pods"
	}
	return ""
}

// Unschedulable is the scheduler's message for a pod no node fits, as kube-scheduler
// words it.
func Unschedulable(total int, why map[string]int) string {
	reasons := make([]string, 0, len(why))
	for r, n := range why {
		reasons = append(reasons, strconv.Itoa(n)+" "+r)
	}
	sort.Strings(reasons)
	return fmt.Sprintf("0/%d nodes are available: %s. preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling.",
		total, strings.Join(reasons, ", "), total, total)
}

func (s *Scheduler) unschedulable(p *corev1.Pod, why map[string]int) {
	total := 0
	for _, n := range why {
		total += n
	}
	msg := Unschedulable(total, why)
	if total == 0 {
		msg = "0/0 nodes are available: no nodes available to schedule pods."
	}
	key := p.Namespace + "/" + p.Name
	if s.said[key] == msg {
		return
	}
	s.said[key] = msg
	st := p.DeepCopy()
	setPodCondition(&st.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg})
	st.Status.Phase = corev1.PodPending
	s.w.UpdateStatus(st)
	if s.emit != nil {
		s.emit(events.Event{Type: ReasonFailedScheduling, Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Message: msg})
	}
}

func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	c.LastTransitionTime = metav1.Now()
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			if st.Conditions[i].Status == c.Status {
				c.LastTransitionTime = st.Conditions[i].LastTransitionTime
			}
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return true // a node without conditions yet counts as ready: podlab builds it before pods
}

func tolerates(p *corev1.Pod, t corev1.Taint) bool {
	for _, tol := range p.Spec.Tolerations {
		if tol.Effect != "" && tol.Effect != t.Effect {
			continue
		}
		if tol.Key != "" && tol.Key != t.Key {
			continue
		}
		switch tol.Operator {
		case corev1.TolerationOpExists:
			return true
		case corev1.TolerationOpEqual, "":
			if tol.Key != "" && tol.Value == t.Value {
				return true
			}
		}
	}
	return false
}

// matchesNode checks nodeSelector and required node affinity.
func matchesNode(p *corev1.Pod, n *corev1.Node) bool {
	if len(p.Spec.NodeSelector) > 0 && !labels.SelectorFromSet(p.Spec.NodeSelector).Matches(labels.Set(n.Labels)) {
		return false
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		if termMatches(term, n) {
			return true // terms are ORed
		}
	}
	return false
}

func termMatches(t corev1.NodeSelectorTerm, n *corev1.Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for _, e := range t.MatchExpressions {
		if !requirement(e, labels.Set(n.Labels)) {
			return false
		}
	}
	for _, e := range t.MatchFields {
		if e.Key != "metadata.name" || !requirement(e, labels.Set{"metadata.name": n.Name}) {
			return false
		}
	}
	return true
}

func requirement(e corev1.NodeSelectorRequirement, set labels.Set) bool {
	op := map[corev1.NodeSelectorOperator]selection.Operator{
		corev1.NodeSelectorOpIn: selection.In, corev1.NodeSelectorOpNotIn: selection.NotIn,
		corev1.NodeSelectorOpExists: selection.Exists, corev1.NodeSelectorOpDoesNotExist: selection.DoesNotExist,
		corev1.NodeSelectorOpGt: selection.GreaterThan, corev1.NodeSelectorOpLt: selection.LessThan,
	}[e.Operator]
	req, err := labels.NewRequirement(e.Key, op, e.Values)
	if err != nil {
		return false
	}
	return req.Matches(set)
}
