package controllers

import (
	"slices"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func daemonSet(name, image string) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}}
	ds.Spec.Selector, ds.Spec.Template = selectorAndTemplate(name, image)
	return ds
}

func (l *lab) editDaemonSet(name string, change func(*appsv1.DaemonSet)) {
	edit(l, "DaemonSet", "default", name, change)
}

func (l *lab) editNode(name string, change func(*corev1.Node)) { edit(l, "Node", "", name, change) }

func (l *lab) daemonStatus(name string) appsv1.DaemonSetStatus {
	return object[*appsv1.DaemonSet](l, "DaemonSet", "default", name).Status
}

// daemonNodes lists the nodes the live pods of prefix run on, sorted.
func (l *lab) daemonNodes(prefix string) []string {
	var out []string
	for _, p := range l.podsOf(prefix) {
		if p.DeletionTimestamp == nil {
			out = append(out, p.Spec.NodeName)
		}
	}
	slices.Sort(out)
	return out
}

func TestDaemonSetOnEveryWorker(t *testing.T) {
	l := newLab(t, "control-plane", "worker-1", "worker-2")
	l.s.Create(daemonSet("agent", "agent:1"))
	l.settle(nil)
	if got := l.daemonNodes("agent"); !slices.Equal(got, []string{"worker-1", "worker-2"}) {
		t.Fatalf("daemon pods on %v, want both workers and not the tainted control plane", got)
	}
	hash := l.s.List("ControllerRevision", "default")[0].GetLabels()[appsv1.DefaultDaemonSetUniqueLabelKey]
	for _, p := range l.podsOf("agent") {
		if p.GenerateName != "agent-" || len(p.Name) != len("agent-")+5 {
			t.Errorf("pod %q generateName %q", p.Name, p.GenerateName)
		}
		if p.Labels["app"] != "agent" || p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != hash || p.Labels[LabelPodTemplateGeneration] != "1" {
			t.Errorf("%s labels %v, want hash %s and generation 1", p.Name, p.Labels, hash)
		}
		if ref, ok := controllerOf(p); !ok || ref.Kind != "DaemonSet" || ref.Name != "agent" {
			t.Errorf("%s owner %+v", p.Name, ref)
		}
		if got := targetNode(&corev1.Pod{Spec: corev1.PodSpec{Affinity: p.Spec.Affinity}}); got != p.Spec.NodeName {
			t.Errorf("%s affinity names %q, bound to %q", p.Name, got, p.Spec.NodeName)
		}
		for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable, corev1.TaintNodeDiskPressure, corev1.TaintNodeMemoryPressure, corev1.TaintNodePIDPressure, corev1.TaintNodeUnschedulable} {
			if !slices.ContainsFunc(p.Spec.Tolerations, func(t corev1.Toleration) bool { return t.Key == key && t.Operator == corev1.TolerationOpExists }) {
				t.Errorf("%s does not tolerate %s", p.Name, key)
			}
		}
	}
	want := appsv1.DaemonSetStatus{DesiredNumberScheduled: 2, CurrentNumberScheduled: 2, NumberReady: 2, NumberAvailable: 2, UpdatedNumberScheduled: 2, ObservedGeneration: 1}
	if st := l.daemonStatus("agent"); !apiequality.Semantic.DeepEqual(st, want) {
		t.Fatalf("status %+v\nwant %+v", st, want)
	}

	// Tolerating the control plane's taint puts a pod there too.
	l.editDaemonSet("agent", func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
	})
	l.settle(nil)
	if got := l.daemonNodes("agent"); !slices.Equal(got, []string{"control-plane", "worker-1", "worker-2"}) {
		t.Fatalf("daemon pods on %v with the toleration", got)
	}
}

func TestDaemonSetFollowsNodeLabels(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	ds := daemonSet("agent", "agent:1")
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"disktype": "ssd"}
	l.s.Create(ds)
	l.settle(nil)
	if got := l.daemonNodes("agent"); len(got) != 0 {
		t.Fatalf("daemon pods on %v, no node is labelled", got)
	}
	l.editNode("worker-2", func(n *corev1.Node) { n.Labels["disktype"] = "ssd" })
	l.settle(nil)
	if got := l.daemonNodes("agent"); !slices.Equal(got, []string{"worker-2"}) {
		t.Fatalf("daemon pods on %v after labelling worker-2", got)
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-3", Labels: map[string]string{"disktype": "ssd"}}}
	l.s.Create(node)
	l.settle(nil)
	if got := l.daemonNodes("agent"); !slices.Equal(got, []string{"worker-2", "worker-3"}) {
		t.Fatalf("daemon pods on %v after adding worker-3", got)
	}
	l.editNode("worker-2", func(n *corev1.Node) { delete(n.Labels, "disktype") })
	l.settle(nil)
	if got := l.daemonNodes("agent"); !slices.Equal(got, []string{"worker-3"}) {
		t.Fatalf("daemon pods on %v after unlabelling worker-2", got)
	}
	if len(l.podsOf("agent")) != 1 {
		t.Fatal("the unlabelled node's pod is still there")
	}
	if st := l.daemonStatus("agent"); st.DesiredNumberScheduled != 1 || st.CurrentNumberScheduled != 1 || st.NumberMisscheduled != 0 {
		t.Fatalf("status %+v", st)
	}
}

func TestDaemonSetTaints(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	l.s.Create(daemonSet("agent", "agent:1"))
	l.settle(nil)
	// NoSchedule keeps the running pod (it is misscheduled), NoExecute evicts it.
	l.editNode("worker-1", func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "maintenance", Effect: corev1.TaintEffectNoSchedule}}
	})
	l.settle(nil)
	if got := l.daemonNodes("agent"); !slices.Equal(got, []string{"worker-1", "worker-2"}) {
		t.Fatalf("daemon pods on %v after a NoSchedule taint", got)
	}
	if st := l.daemonStatus("agent"); st.DesiredNumberScheduled != 1 || st.NumberMisscheduled != 1 {
		t.Fatalf("status %+v, want 1 desired and 1 misscheduled", st)
	}
	l.editNode("worker-1", func(n *corev1.Node) { n.Spec.Taints[0].Effect = corev1.TaintEffectNoExecute })
	l.settle(nil)
	if got := l.daemonNodes("agent"); !slices.Equal(got, []string{"worker-2"}) {
		t.Fatalf("daemon pods on %v after a NoExecute taint", got)
	}
	// An unschedulable (cordoned) node keeps its daemon: daemon pods tolerate it.
	l.editNode("worker-2", func(n *corev1.Node) { n.Spec.Unschedulable = true })
	l.settle(nil)
	if got := l.daemonNodes("agent"); !slices.Equal(got, []string{"worker-2"}) {
		t.Fatalf("daemon pods on %v after cordoning worker-2", got)
	}
}

func TestDaemonSetPodForVanishedNode(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	l.s.Create(daemonSet("agent", "agent:1"))
	l.ds.Sync(l.s) // no scheduler: the pods are not bound yet
	l.s.Delete("Node", "", "worker-2")
	l.ds.Sync(l.s)
	var targets []string
	for _, p := range l.podsOf("agent") {
		targets = append(targets, targetNode(p))
	}
	if !slices.Equal(targets, []string{"worker-1"}) {
		t.Fatalf("pods for %v, want only worker-1's: an unbound pod for a node that is gone goes", targets)
	}
}

// rollout changes the DaemonSet's image and settles, recording the fewest nodes that
// had a live, ready daemon pod at once, and the most live pods at once.
func (l *lab) rollout(name, image string) (fewest, most int) {
	fewest = 1 << 30
	l.editDaemonSet(name, func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = image })
	l.settle(func() {
		up, live := map[string]bool{}, 0
		for _, p := range l.podsOf(name) {
			if p.DeletionTimestamp == nil {
				live++
				up[p.Spec.NodeName] = up[p.Spec.NodeName] || podReady(p)
			}
		}
		ready := 0
		for _, ok := range up {
			if ok {
				ready++
			}
		}
		fewest, most = min(fewest, ready), max(most, live)
	})
	return fewest, most
}

func TestDaemonSetRollingUpdate(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2", "worker-3")
	l.s.Create(daemonSet("agent", "agent:1"))
	l.settle(nil)
	if fewest, most := l.rollout("agent", "agent:2"); fewest < 2 || most > 3 {
		t.Errorf("%d nodes served at worst and %d pods at most, maxUnavailable 1 allows one down and no surge", fewest, most)
	}
	deleted := l.said(ReasonSuccessfulDelete)
	if len(deleted) != 3 {
		t.Fatalf("deletions %q, want one per node", deleted)
	}
	for _, p := range l.podsOf("agent") {
		if image(p) != "agent:2" || p.Labels[LabelPodTemplateGeneration] != "2" {
			t.Errorf("%s on %s runs %s, generation %s", p.Name, p.Spec.NodeName, image(p), p.Labels[LabelPodTemplateGeneration])
		}
	}
	st := l.daemonStatus("agent")
	if st.UpdatedNumberScheduled != 3 || st.NumberAvailable != 3 || st.ObservedGeneration != 2 {
		t.Fatalf("status %+v", st)
	}

	// New pods that never get ready stop the rollout after the first node.
	l.unready = func(p *corev1.Pod) bool { return image(p) == "broken:1" }
	l.rollout("agent", "broken:1")
	var imgs []string
	for _, p := range l.podsOf("agent") {
		imgs = append(imgs, image(p))
	}
	slices.Sort(imgs)
	if want := []string{"agent:2", "agent:2", "broken:1"}; !slices.Equal(imgs, want) {
		t.Fatalf("images %v, want %v", imgs, want)
	}
	if st := l.daemonStatus("agent"); st.UpdatedNumberScheduled != 1 || st.NumberUnavailable != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestDaemonSetSurge(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2", "worker-3")
	ds := daemonSet("agent", "agent:1")
	zero, one := intstr.FromInt32(0), intstr.FromInt32(1)
	ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxSurge: &one, MaxUnavailable: &zero}
	l.s.Create(ds)
	l.settle(nil)
	if fewest, most := l.rollout("agent", "agent:2"); fewest != 3 || most > 4 {
		t.Errorf("%d nodes served at worst and %d pods at most, want 3 and 4 (maxSurge 1, maxUnavailable 0)", fewest, most)
	}
	if got := l.said(ReasonSuccessfulCreate); len(got) != 6 {
		t.Errorf("%d creations, want 3 then 3 new", len(got))
	}
	for _, p := range l.podsOf("agent") {
		if image(p) != "agent:2" {
			t.Errorf("%s runs %s", p.Name, image(p))
		}
	}
	if got := len(l.podsOf("agent")); got != 3 {
		t.Fatalf("%d pods after the rollout", got)
	}
}

func TestDaemonSetOnDelete(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	ds := daemonSet("agent", "agent:1")
	ds.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	l.s.Create(ds)
	l.settle(nil)
	l.rollout("agent", "agent:2")
	if got := l.said(ReasonSuccessfulDelete); len(got) != 0 {
		t.Fatalf("OnDelete deleted %q", got)
	}
	victim := l.podsOf("agent")[0]
	l.s.MarkDeleted("Pod", "default", victim.Name)
	l.settle(nil)
	for _, p := range l.podsOf("agent") {
		want := "agent:1"
		if p.Spec.NodeName == victim.Spec.NodeName {
			want = "agent:2"
		}
		if image(p) != want || p.Name == victim.Name {
			t.Errorf("%s on %s runs %s, want %s", p.Name, p.Spec.NodeName, image(p), want)
		}
	}
}
