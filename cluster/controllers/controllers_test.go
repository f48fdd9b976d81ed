package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// lab is a store with nodes, the controllers, and a fake kubelet that makes every
// scheduled pod Running and Ready (unless told not to) and removes terminating ones.
type lab struct {
	t       *testing.T
	s       *store.Store
	sched   *Scheduler
	rs      *ReplicaSets
	dep     *Deployments
	sts     *StatefulSets
	ds      *DaemonSets
	events  []events.Event
	unready func(p *corev1.Pod) bool // pods the fake kubelet keeps unready
}

func newLab(t *testing.T, nodes ...string) *lab {
	l := &lab{t: t, s: store.New()}
	emit := func(e events.Event) { l.events = append(l.events, e) }
	l.sched, l.rs, l.dep = NewScheduler(l.s, emit), NewReplicaSets(l.s, emit), NewDeployments(l.s, emit)
	l.sts, l.ds = NewStatefulSets(l.s, emit), NewDaemonSets(l.s, emit)
	for _, n := range nodes {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{"kubernetes.io/hostname": n}}}
		if n == "control-plane" {
			node.Labels["node-role.kubernetes.io/control-plane"] = ""
			node.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
		}
		node.Status.Allocatable = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110")}
		if _, err := l.s.Create(node); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// kubelet is the fake: one pass.
func (l *lab) kubelet() {
	for i, p := range pods(l.s, "") {
		if p.Spec.NodeName == "" {
			continue
		}
		if p.DeletionTimestamp != nil {
			l.s.Delete("Pod", p.Namespace, p.Name)
			continue
		}
		ready := l.unready == nil || !l.unready(p)
		if p.Status.Phase == corev1.PodRunning && podReady(p) == ready {
			continue
		}
		q := p.DeepCopy()
		q.Status.Phase = corev1.PodRunning
		q.Status.PodIP = fmt.Sprintf("10.244.0.%d", i+2)
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		setPodCondition(&q.Status, corev1.PodCondition{Type: corev1.PodReady, Status: st})
		l.s.UpdateStatus(q)
	}
}

// settle runs every loop until the store stops changing; check runs after each round.
func (l *lab) settle(check func()) {
	for i := 0; i < 200; i++ {
		g := l.s.Generation()
		l.dep.Sync(l.s)
		l.rs.Sync(l.s)
		l.sts.Sync(l.s)
		l.ds.Sync(l.s)
		l.sched.Sync(l.s)
		l.kubelet()
		if check != nil {
			check()
		}
		if l.s.Generation() == g {
			return
		}
	}
	l.t.Fatal("the controllers did not settle in 200 rounds")
}

// object is the stored object of kind, typed.
func object[T store.Object](l *lab, kind, namespace, name string) T {
	o, ok := l.s.Get(kind, namespace, name)
	if !ok {
		l.t.Fatalf("no %s %s", kind, name)
	}
	return o.(T)
}

// edit applies change to a copy of the stored object and stores it.
func edit[T store.Object](l *lab, kind, namespace, name string, change func(T)) {
	o := object[T](l, kind, namespace, name).DeepCopyObject().(T)
	change(o)
	if _, err := l.s.Update(o); err != nil {
		l.t.Fatal(err)
	}
}

func (l *lab) podsOf(prefix string) []*corev1.Pod {
	var out []*corev1.Pod
	for _, p := range pods(l.s, "default") {
		if strings.HasPrefix(p.Name, prefix+"-") {
			out = append(out, p)
		}
	}
	return out
}

// selectorAndTemplate are the selector and pod template of a workload named name:
// pods labelled app=<name> running one container of image.
func selectorAndTemplate(name, image string) (*metav1.LabelSelector, corev1.PodTemplateSpec) {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}}, corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

func deployment(name string, replicas int32, image string) *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Spec: appsv1.DeploymentSpec{Replicas: &replicas}}
	d.Spec.Selector, d.Spec.Template = selectorAndTemplate(name, image)
	return d
}

func (l *lab) deploymentStatus(name string) appsv1.DeploymentStatus {
	o, ok := l.s.Get("Deployment", "default", name)
	if !ok {
		l.t.Fatalf("no deployment %s", name)
	}
	return o.(*appsv1.Deployment).Status
}

func TestDeploymentCreatesReplicaSetAndPods(t *testing.T) {
	l := newLab(t, "control-plane", "worker-1", "worker-2")
	l.s.Create(deployment("web", 3, "nginx"))
	l.settle(nil)
	ps := l.podsOf("web")
	if len(ps) != 3 {
		t.Fatalf("%d pods, want 3", len(ps))
	}
	rsName := NewReplicaSetName(deployment("web", 3, "nginx"))
	for _, p := range ps {
		if !strings.HasPrefix(p.Name, rsName+"-") || len(p.Name) != len(rsName)+6 {
			t.Errorf("pod name %q is not <replicaset>-<5 chars>", p.Name)
		}
		if p.Spec.NodeName == "control-plane" {
			t.Errorf("pod %s on the tainted control plane", p.Name)
		}
		if ref, _ := controllerOf(p); ref.Kind != "ReplicaSet" || ref.Name != rsName {
			t.Errorf("pod %s owner %+v", p.Name, ref)
		}
	}
	st := l.deploymentStatus("web")
	if st.ReadyReplicas != 3 || st.UpdatedReplicas != 3 || st.AvailableReplicas != 3 || st.ObservedGeneration != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestDeletedPodIsReplaced(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	l.s.Create(deployment("web", 3, "nginx"))
	l.settle(nil)
	victim := l.podsOf("web")[0]
	l.s.MarkDeleted("Pod", "default", victim.Name)
	l.settle(nil)
	ps := l.podsOf("web")
	if len(ps) != 3 {
		t.Fatalf("%d pods after a delete, want 3", len(ps))
	}
	for _, p := range ps {
		if p.Name == victim.Name {
			t.Fatal("the deleted pod is still there")
		}
	}
	// A bare pod is not replaced.
	bare := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "bare"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "busybox"}}}}
	l.s.Create(bare)
	l.settle(nil)
	l.s.MarkDeleted("Pod", "default", "bare")
	l.settle(nil)
	if _, ok := l.s.Get("Pod", "default", "bare"); ok {
		t.Fatal("bare pod still there")
	}
	if len(pods(l.s, "default")) != 3 {
		t.Fatal("a bare pod was replaced")
	}
}

func TestScale(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	o, _ := l.s.Create(deployment("web", 3, "nginx"))
	l.settle(nil)
	for _, n := range []int32{5, 1, 4} {
		cur, _ := l.s.Get("Deployment", "default", "web")
		d := cur.DeepCopyObject().(*appsv1.Deployment)
		d.Spec.Replicas = &n
		l.s.Update(d)
		l.settle(nil)
		if got := len(l.podsOf("web")); got != int(n) {
			t.Fatalf("scaled to %d: %d pods", n, got)
		}
		rss := l.s.List("ReplicaSet", "default")
		if len(rss) != 1 {
			t.Fatalf("scaling made %d ReplicaSets, want 1 (a scale is not a rollout)", len(rss))
		}
	}
	_ = o
}

func TestRollingUpdateKeepsAvailability(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	l.s.Create(deployment("web", 4, "nginx:1.26"))
	l.settle(nil)
	cur, _ := l.s.Get("Deployment", "default", "web")
	d := cur.DeepCopyObject().(*appsv1.Deployment)
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	l.s.Update(d)
	minReady, maxTotal := 4, 0
	l.settle(func() {
		ready, total := 0, 0
		for _, p := range l.podsOf("web") {
			total++
			if podReady(p) && p.DeletionTimestamp == nil {
				ready++
			}
		}
		minReady, maxTotal = min(minReady, ready), max(maxTotal, total)
	})
	// 4 replicas: maxSurge 25% -> 1, maxUnavailable 25% -> 1.
	if minReady < 3 {
		t.Errorf("availability fell to %d ready pods during the rollout, floor is 3", minReady)
	}
	if maxTotal > 5 {
		t.Errorf("%d pods at once, surge allows 5", maxTotal)
	}
	ps := l.podsOf("web")
	if len(ps) != 4 {
		t.Fatalf("%d pods after the rollout", len(ps))
	}
	for _, p := range ps {
		if p.Spec.Containers[0].Image != "nginx:1.27" {
			t.Errorf("pod %s still runs %s", p.Name, p.Spec.Containers[0].Image)
		}
	}
	rss := l.s.List("ReplicaSet", "default")
	if len(rss) != 2 {
		t.Fatalf("%d ReplicaSets, want the old one kept at 0 and the new one", len(rss))
	}
	for _, o := range rss {
		rs := o.(*appsv1.ReplicaSet)
		want := "1"
		if rs.Spec.Template.Spec.Containers[0].Image == "nginx:1.27" {
			want = "2"
			if *rs.Spec.Replicas != 4 {
				t.Errorf("new ReplicaSet at %d replicas", *rs.Spec.Replicas)
			}
		} else if *rs.Spec.Replicas != 0 {
			t.Errorf("old ReplicaSet at %d replicas", *rs.Spec.Replicas)
		}
		if rs.Annotations[AnnotationRevision] != want {
			t.Errorf("%s revision %q, want %s", rs.Name, rs.Annotations[AnnotationRevision], want)
		}
	}
	st := l.deploymentStatus("web")
	if st.UpdatedReplicas != 4 || st.AvailableReplicas != 4 || st.Replicas != 4 {
		t.Errorf("status after rollout %+v", st)
	}
}

func TestRollingUpdateStallsOnUnreadyPods(t *testing.T) {
	l := newLab(t, "worker-1")
	l.s.Create(deployment("web", 4, "nginx:1.26"))
	l.settle(nil)
	cur, _ := l.s.Get("Deployment", "default", "web")
	d := cur.DeepCopyObject().(*appsv1.Deployment)
	d.Spec.Template.Spec.Containers[0].Image = "broken:1"
	l.s.Update(d)
	// New pods never become ready: the rollout must stop with 3 old pods serving.
	oldHash := NewReplicaSetName(deployment("web", 4, "nginx:1.26"))
	l.unready = func(p *corev1.Pod) bool { return !strings.HasPrefix(p.Name, oldHash) }
	l.settle(nil)
	old := 0
	for _, p := range l.podsOf("web") {
		if strings.HasPrefix(p.Name, oldHash) && podReady(p) {
			old++
		}
	}
	if old != 3 {
		t.Fatalf("%d old pods still serving, want 3 (maxUnavailable 1)", old)
	}
}

func TestRecreate(t *testing.T) {
	l := newLab(t, "worker-1")
	d := deployment("web", 3, "nginx:1.26")
	d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType
	l.s.Create(d)
	l.settle(nil)
	cur, _ := l.s.Get("Deployment", "default", "web")
	d = cur.DeepCopyObject().(*appsv1.Deployment)
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1.27"
	l.s.Update(d)
	mixed := false
	l.settle(func() {
		imgs := map[string]bool{}
		for _, p := range l.podsOf("web") {
			imgs[p.Spec.Containers[0].Image] = true
		}
		mixed = mixed || len(imgs) > 1
	})
	if mixed {
		t.Error("Recreate ran old and new pods at the same time")
	}
	if got := len(l.podsOf("web")); got != 3 {
		t.Fatalf("%d pods", got)
	}
}

func TestBudgets(t *testing.T) {
	for _, tc := range []struct {
		replicas           int32
		surge, unavailable *intstr.IntOrString
		wantS, wantU       int32
	}{
		{4, nil, nil, 1, 1},
		{10, nil, nil, 3, 2},
		{1, nil, nil, 1, 0},
		{3, ptr(intstr.FromInt32(0)), ptr(intstr.FromInt32(0)), 0, 1},
		{5, ptr(intstr.FromString("100%")), ptr(intstr.FromInt32(0)), 5, 0},
	} {
		d := deployment("x", tc.replicas, "i")
		if tc.surge != nil || tc.unavailable != nil {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: tc.surge, MaxUnavailable: tc.unavailable}
		}
		s, u := budgets(d)
		if s != tc.wantS || u != tc.wantU {
			t.Errorf("replicas %d: surge %d unavailable %d, want %d %d", tc.replicas, s, u, tc.wantS, tc.wantU)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestSchedulerPendingUntilNodeMatches(t *testing.T) {
	l := newLab(t, "control-plane", "worker-1", "worker-2")
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "ssd"},
		Spec: corev1.PodSpec{NodeSelector: map[string]string{"disktype": "ssd"}, Containers: []corev1.Container{{Name: "a", Image: "nginx"}}}}
	l.s.Create(p)
	l.settle(nil)
	o, _ := l.s.Get("Pod", "default", "ssd")
	got := o.(*corev1.Pod)
	if got.Spec.NodeName != "" {
		t.Fatalf("scheduled to %s", got.Spec.NodeName)
	}
	want := "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	if len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Message != want || got.Status.Conditions[0].Reason != "Unschedulable" {
		t.Fatalf("conditions %+v\nwant message %s", got.Status.Conditions, want)
	}
	failed := 0
	for _, e := range l.events {
		if e.Type == ReasonFailedScheduling {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d FailedScheduling events, want 1 (not one per sync)", failed)
	}
	n, _ := l.s.Get("Node", "", "worker-2")
	node := n.DeepCopyObject().(*corev1.Node)
	node.Labels["disktype"] = "ssd"
	l.s.Update(node)
	l.settle(nil)
	o, _ = l.s.Get("Pod", "default", "ssd")
	if o.(*corev1.Pod).Spec.NodeName != "worker-2" {
		t.Fatalf("after labelling worker-2: on %q", o.(*corev1.Pod).Spec.NodeName)
	}
}

func TestSchedulerAffinityTolerationAndSpread(t *testing.T) {
	l := newLab(t, "control-plane", "worker-1", "worker-2")
	tol := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cp"},
		Spec: corev1.PodSpec{
			Tolerations: []corev1.Toleration{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}},
			Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "node-role.kubernetes.io/control-plane", Operator: corev1.NodeSelectorOpExists}}}},
			}}},
			Containers: []corev1.Container{{Name: "a", Image: "nginx"}},
		}}
	l.s.Create(tol)
	l.s.Create(deployment("web", 4, "nginx"))
	l.settle(nil)
	o, _ := l.s.Get("Pod", "default", "cp")
	if o.(*corev1.Pod).Spec.NodeName != "control-plane" {
		t.Fatalf("tolerating pod on %q", o.(*corev1.Pod).Spec.NodeName)
	}
	per := map[string]int{}
	for _, p := range l.podsOf("web") {
		per[p.Spec.NodeName]++
	}
	if per["worker-1"] != 2 || per["worker-2"] != 2 {
		t.Fatalf("replicas spread %v, want 2 and 2", per)
	}
}

func TestRankForDeletion(t *testing.T) {
	now := time.Now()
	mk := func(name, node string, phase corev1.PodPhase, ready bool, age time.Duration) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(now.Add(-age))}}
		p.Spec.NodeName, p.Status.Phase = node, phase
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}
		return p
	}
	ps := []*corev1.Pod{
		mk("old-ready", "n", corev1.PodRunning, true, time.Hour),
		mk("new-ready", "n", corev1.PodRunning, true, time.Minute),
		mk("unready", "n", corev1.PodRunning, false, time.Hour),
		mk("pending", "n", corev1.PodPending, false, time.Hour),
		mk("unscheduled", "", corev1.PodPending, false, time.Hour),
	}
	rankForDeletion(ps, now)
	var got []string
	for _, p := range ps {
		got = append(got, p.Name)
	}
	if want := "unscheduled pending unready new-ready old-ready"; strings.Join(got, " ") != want {
		t.Fatalf("order %v, want %s", got, want)
	}
}
