package controllers

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/topology"
)

// revisionOf is the revision name of set's template.
func revisionOf(set *appsv1.StatefulSet) string {
	return set.Name + "-" + topology.PodTemplateHash(&set.Spec.Template)
}

func statefulSet(name string, replicas int32, image string) *appsv1.StatefulSet {
	set := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Spec: appsv1.StatefulSetSpec{Replicas: &replicas, ServiceName: name}}
	set.Spec.Selector, set.Spec.Template = selectorAndTemplate(name, image)
	return set
}

func (l *lab) editSet(name string, change func(*appsv1.StatefulSet)) {
	edit(l, "StatefulSet", "default", name, change)
}

func (l *lab) setStatus(name string) appsv1.StatefulSetStatus {
	return object[*appsv1.StatefulSet](l, "StatefulSet", "default", name).Status
}

func (l *lab) pod(name string) *corev1.Pod {
	o, ok := l.s.Get("Pod", "default", name)
	if !ok {
		return nil
	}
	return o.(*corev1.Pod)
}

// said lists the messages of the events of reason, in order.
func (l *lab) said(reason string) []string {
	var out []string
	for _, e := range l.events {
		if e.Type == reason {
			out = append(out, e.Message)
		}
	}
	return out
}

// podNames lists the names of the pods of prefix, sorted.
func podNames(ps []*corev1.Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

func TestStatefulSetNamesAndStrictOrder(t *testing.T) {
	l := newLab(t, "control-plane", "worker-1", "worker-2")
	holdWeb0 := true
	l.unready = func(p *corev1.Pod) bool { return holdWeb0 && p.Name == "web-0" }
	l.s.Create(statefulSet("web", 3, "nginx"))
	l.settle(nil)
	if got := podNames(l.podsOf("web")); !slices.Equal(got, []string{"web-0"}) {
		t.Fatalf("pods %v while web-0 is not ready, want only web-0", got)
	}
	holdWeb0 = false
	l.settle(nil)
	want := []string{
		"create Pod web-0 in StatefulSet web successful",
		"create Pod web-1 in StatefulSet web successful",
		"create Pod web-2 in StatefulSet web successful",
	}
	if got := l.said(ReasonSuccessfulCreate); !slices.Equal(got, want) {
		t.Fatalf("creations %q\nwant %q", got, want)
	}
	rev := revisionOf(statefulSet("web", 3, "nginx"))
	for i, p := range l.podsOf("web") {
		name := fmt.Sprintf("web-%d", i)
		if p.Name != name || p.GenerateName != "" {
			t.Errorf("pod %q (generateName %q), want %s", p.Name, p.GenerateName, name)
		}
		if ref, ok := controllerOf(p); !ok || ref.Kind != "StatefulSet" || ref.Name != "web" {
			t.Errorf("%s owner %+v", p.Name, ref)
		}
		for k, v := range map[string]string{"app": "web", appsv1.StatefulSetPodNameLabel: name, appsv1.PodIndexLabel: fmt.Sprint(i), appsv1.StatefulSetRevisionLabel: rev} {
			if p.Labels[k] != v {
				t.Errorf("%s label %s=%q, want %q", p.Name, k, p.Labels[k], v)
			}
		}
		if p.Spec.Hostname != name || p.Spec.Subdomain != "web" {
			t.Errorf("%s hostname %q subdomain %q", p.Name, p.Spec.Hostname, p.Spec.Subdomain)
		}
		if p.Spec.NodeName == "control-plane" {
			t.Errorf("%s on the tainted control plane", p.Name)
		}
	}
	st := l.setStatus("web")
	if st.Replicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 3 || st.CurrentReplicas != 3 || st.UpdatedReplicas != 3 ||
		st.CurrentRevision != rev || st.UpdateRevision != rev || st.ObservedGeneration != 1 {
		t.Fatalf("status %+v", st)
	}
	if crs := l.s.List("ControllerRevision", "default"); len(crs) != 1 || crs[0].GetName() != rev {
		t.Fatalf("ControllerRevisions %v, want %s", crs, rev)
	}
}

func TestStatefulSetParallel(t *testing.T) {
	l := newLab(t, "worker-1")
	sts := l.sts
	l.unready = func(p *corev1.Pod) bool { return true }
	set := statefulSet("web", 3, "nginx")
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	l.s.Create(set)
	sts.Sync(l.s)
	if got := len(l.podsOf("web")); got != 3 {
		t.Fatalf("Parallel made %d pods in one pass, want 3", got)
	}
	l.settle(nil)
	l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(0)) })
	sts.Sync(l.s)
	for _, p := range l.podsOf("web") {
		if p.DeletionTimestamp == nil {
			t.Errorf("%s not deleted in the same pass", p.Name)
		}
	}
}

func TestStatefulSetPodKeepsItsName(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	sts := l.sts
	l.s.Create(statefulSet("web", 3, "nginx"))
	l.settle(nil)
	old := l.pod("web-1")
	l.s.MarkDeleted("Pod", "default", "web-1")
	sts.Sync(l.s)
	sts.Sync(l.s)
	if p := l.pod("web-1"); p == nil || p.UID != old.UID {
		t.Fatal("web-1 was replaced while it was still terminating")
	}
	if got := l.said(ReasonFailedCreate); len(got) != 0 {
		t.Fatalf("create attempted while web-1 terminates: %q", got)
	}
	l.settle(nil)
	p := l.pod("web-1")
	if p == nil || p.UID == old.UID || p.DeletionTimestamp != nil || !podReady(p) {
		t.Fatalf("web-1 after the deletion: %+v", p)
	}
	if got := podNames(l.podsOf("web")); !slices.Equal(got, []string{"web-0", "web-1", "web-2"}) {
		t.Fatalf("pods %v", got)
	}
	// A failed pod is deleted and comes back under its name too.
	f := l.pod("web-2").DeepCopy()
	f.Status.Phase = corev1.PodFailed
	l.s.UpdateStatus(f)
	l.unready = func(p *corev1.Pod) bool { return false }
	sts.Sync(l.s)
	if l.pod("web-2").DeletionTimestamp == nil {
		t.Fatal("failed web-2 not deleted")
	}
	l.settle(nil)
	if p := l.pod("web-2"); p == nil || p.UID == f.UID || p.Status.Phase != corev1.PodRunning {
		t.Fatalf("web-2 after failing: %+v", p)
	}
}

func TestStatefulSetScalesDownFromTheTop(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	sts := l.sts
	l.s.Create(statefulSet("web", 4, "nginx"))
	l.settle(nil)
	l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(1)) })
	sts.Sync(l.s)
	sts.Sync(l.s)
	var terminating []string
	for _, p := range l.podsOf("web") {
		if p.DeletionTimestamp != nil {
			terminating = append(terminating, p.Name)
		}
	}
	if !slices.Equal(terminating, []string{"web-3"}) {
		t.Fatalf("terminating %v, want only web-3 (one at a time)", terminating)
	}
	l.settle(nil)
	want := []string{
		"delete Pod web-3 in StatefulSet web successful",
		"delete Pod web-2 in StatefulSet web successful",
		"delete Pod web-1 in StatefulSet web successful",
	}
	if got := l.said(ReasonSuccessfulDelete); !slices.Equal(got, want) {
		t.Fatalf("deletions %q\nwant %q", got, want)
	}
	if st := l.setStatus("web"); st.Replicas != 1 || st.ReadyReplicas != 1 {
		t.Fatalf("status %+v", st)
	}

	// Scaling down waits while a remaining pod is not ready.
	l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(3)) })
	l.settle(nil)
	l.unready = func(p *corev1.Pod) bool { return p.Name == "web-0" }
	l.settle(nil)
	l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr(int32(2)) })
	l.settle(nil)
	if l.pod("web-2") == nil {
		t.Fatal("web-2 deleted while web-0 is not ready")
	}
	l.unready = nil
	l.settle(nil)
	if got := podNames(l.podsOf("web")); !slices.Equal(got, []string{"web-0", "web-1"}) {
		t.Fatalf("pods %v once web-0 is ready", got)
	}
}

// image is the image a pod runs.
func image(p *corev1.Pod) string { return p.Spec.Containers[0].Image }

func TestStatefulSetPartitionedRollingUpdate(t *testing.T) {
	l := newLab(t, "worker-1", "worker-2")
	set := statefulSet("web", 4, "nginx:1.26")
	set.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(2))}
	l.s.Create(set)
	l.settle(nil)
	oldRev := l.setStatus("web").CurrentRevision
	l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "nginx:1.27" })
	newRev := revisionOf(statefulSet("web", 4, "nginx:1.27"))
	// At most one pod is down at any time.
	worst := 4
	check := func() {
		ready := 0
		for _, p := range l.podsOf("web") {
			if p.DeletionTimestamp == nil && podReady(p) {
				ready++
			}
		}
		worst = min(worst, ready)
	}
	l.settle(check)
	if worst < 3 {
		t.Errorf("%d pods ready at worst during the update, want 3", worst)
	}
	want := []string{
		"delete Pod web-3 in StatefulSet web successful",
		"delete Pod web-2 in StatefulSet web successful",
	}
	if got := l.said(ReasonSuccessfulDelete); !slices.Equal(got, want) {
		t.Fatalf("deletions %q\nwant %q", got, want)
	}
	for i, p := range l.podsOf("web") {
		img, rev := "nginx:1.26", oldRev
		if i >= 2 {
			img, rev = "nginx:1.27", newRev
		}
		if image(p) != img || p.Labels[appsv1.StatefulSetRevisionLabel] != rev {
			t.Errorf("%s runs %s at %s, want %s at %s", p.Name, image(p), p.Labels[appsv1.StatefulSetRevisionLabel], img, rev)
		}
	}
	st := l.setStatus("web")
	if st.CurrentRevision != oldRev || st.UpdateRevision != newRev || st.CurrentReplicas != 2 || st.UpdatedReplicas != 2 || st.ObservedGeneration != 2 {
		t.Fatalf("status %+v", st)
	}
	// Below the partition a deleted pod comes back at the current revision.
	l.s.MarkDeleted("Pod", "default", "web-0")
	l.settle(nil)
	if p := l.pod("web-0"); p == nil || image(p) != "nginx:1.26" {
		t.Fatalf("web-0 came back as %+v, want nginx:1.26", p)
	}
	// Partition 0 finishes the rollout, from the top down.
	l.events = nil
	l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr(int32(0)) })
	l.settle(check)
	want = []string{
		"delete Pod web-1 in StatefulSet web successful",
		"delete Pod web-0 in StatefulSet web successful",
	}
	if got := l.said(ReasonSuccessfulDelete); !slices.Equal(got, want) {
		t.Fatalf("deletions %q\nwant %q", got, want)
	}
	st = l.setStatus("web")
	if st.CurrentRevision != newRev || st.UpdateRevision != newRev || st.CurrentReplicas != 4 || st.UpdatedReplicas != 4 {
		t.Fatalf("status after the rollout %+v", st)
	}
	if worst < 3 {
		t.Errorf("%d pods ready at worst during the update, want 3", worst)
	}
	if crs := l.s.List("ControllerRevision", "default"); len(crs) != 2 {
		t.Fatalf("%d ControllerRevisions, want 2", len(crs))
	}
}

func TestStatefulSetRollingUpdateWaitsForReady(t *testing.T) {
	for _, policy := range []appsv1.PodManagementPolicyType{appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement} {
		t.Run(string(policy), func(t *testing.T) {
			l := newLab(t, "worker-1")
			set := statefulSet("web", 3, "nginx:1.26")
			set.Spec.PodManagementPolicy = policy
			l.s.Create(set)
			l.settle(nil)
			l.unready = func(p *corev1.Pod) bool { return image(p) == "broken:1" }
			l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "broken:1" })
			l.settle(nil)
			var imgs []string
			for _, p := range l.podsOf("web") {
				imgs = append(imgs, image(p))
			}
			if want := []string{"nginx:1.26", "nginx:1.26", "broken:1"}; !slices.Equal(imgs, want) {
				t.Fatalf("images %v, want %v: the update stops at the first pod that does not get ready", imgs, want)
			}
		})
	}
}

func TestStatefulSetOnDelete(t *testing.T) {
	l := newLab(t, "worker-1")
	set := statefulSet("web", 2, "nginx:1.26")
	set.Spec.UpdateStrategy.Type = appsv1.OnDeleteStatefulSetStrategyType
	l.s.Create(set)
	l.settle(nil)
	l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "nginx:1.27" })
	l.settle(nil)
	if got := l.said(ReasonSuccessfulDelete); len(got) != 0 {
		t.Fatalf("OnDelete deleted pods: %q", got)
	}
	l.s.MarkDeleted("Pod", "default", "web-0")
	l.settle(nil)
	if image(l.pod("web-0")) != "nginx:1.27" || image(l.pod("web-1")) != "nginx:1.26" {
		t.Fatalf("web-0 %s, web-1 %s: want only the deleted pod on the new template", image(l.pod("web-0")), image(l.pod("web-1")))
	}
	if st := l.setStatus("web"); st.UpdatedReplicas != 1 || st.CurrentReplicas != 1 {
		t.Fatalf("status %+v", st)
	}
}

func TestStatefulSetRollbackReusesRevision(t *testing.T) {
	l := newLab(t, "worker-1")
	l.s.Create(statefulSet("web", 1, "nginx:1.26"))
	l.settle(nil)
	first := l.setStatus("web").UpdateRevision
	for _, img := range []string{"nginx:1.27", "nginx:1.26"} {
		l.editSet("web", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = img })
		l.settle(nil)
	}
	if got := l.setStatus("web").UpdateRevision; got != first {
		t.Fatalf("update revision %s after the rollback, want %s", got, first)
	}
	revs := map[string]int64{}
	for _, o := range l.s.List("ControllerRevision", "default") {
		cr := o.(*appsv1.ControllerRevision)
		revs[cr.Name] = cr.Revision
		tmpl, err := revisionTemplate(cr)
		if err != nil || !strings.HasPrefix(image(&corev1.Pod{Spec: tmpl.Spec}), "nginx:") {
			t.Errorf("%s holds %+v, %v", cr.Name, tmpl, err)
		}
	}
	if len(revs) != 2 || revs[first] != 3 {
		t.Fatalf("revisions %v, want 2 with %s at revision 3", revs, first)
	}
}

func TestParentAndOrdinal(t *testing.T) {
	for name, want := range map[string]int{"web-0": 0, "web-12": 12, "my-db-3": 3, "web": -1, "web-x": -1, "web--1": 1, "web-+1": -1} {
		if _, got := parentAndOrdinal(name); got != want {
			t.Errorf("%s: ordinal %d, want %d", name, got, want)
		}
	}
	if parent, _ := parentAndOrdinal("my-db-3"); parent != "my-db" {
		t.Errorf("parent %q", parent)
	}
}
