package tui

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/printers"
)

// storedPod is the Pod the kubelet would have written for p: one container, running,
// ready as p is, restarted restarts times (the last 30 s before the harness's now).
func storedPod(t testing.TB, p api.PodState, restarts int32) *api.StoredObject {
	cs := v1.ContainerStatus{Name: "app", Image: p.Image, Ready: p.Ready, RestartCount: restarts,
		State: v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: metav1.NewTime(t0.Add(61 * time.Second))}}}
	if restarts > 0 {
		cs.LastTerminationState.Terminated = &v1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: metav1.NewTime(t0.Add(60 * time.Second))}
	}
	ready := v1.ConditionFalse
	if p.Ready {
		ready = v1.ConditionTrue
	}
	pod := v1.Pod{TypeMeta: metav1.TypeMeta{Kind: "Pod", APIVersion: "v1"},
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels, CreationTimestamp: metav1.NewTime(t0)},
		Spec:       v1.PodSpec{NodeName: p.Node, Containers: []v1.Container{{Name: "app", Image: p.Image}}},
		Status: v1.PodStatus{Phase: v1.PodRunning, PodIP: p.IP.String(), ContainerStatuses: []v1.ContainerStatus{cs},
			Conditions: []v1.PodCondition{{Type: v1.PodReady, Status: ready}}},
	}
	return stored(t, "Pod", "v1", p.Namespace, p.Name, pod)
}

// kubeFixture is the Pods of st (a pod not ready has restarted twice) and two
// Deployments.
func kubeFixture(t testing.TB, st *api.LabState) []*api.StoredObject {
	var objs []*api.StoredObject
	for _, p := range st.Pods {
		restarts := int32(0)
		if !p.Ready {
			restarts = 2
		}
		objs = append(objs, storedPod(t, p, restarts))
	}
	deploy := func(ns, name, image string, replicas, ready int32) {
		d := appsv1.Deployment{TypeMeta: metav1.TypeMeta{Kind: "Deployment", APIVersion: "apps/v1"},
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(t0.Add(-3 * time.Hour))},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
				Template: v1.PodTemplateSpec{Spec: v1.PodSpec{Containers: []v1.Container{{Name: name, Image: image}}}}},
			Status: appsv1.DeploymentStatus{Replicas: replicas, UpdatedReplicas: replicas, ReadyReplicas: ready, AvailableReplicas: ready},
		}
		objs = append(objs, stored(t, "Deployment", "apps/v1", ns, name, d))
	}
	deploy("default", "web", "nginx:1.27", 2, 2)
	deploy("shop", "api", "podlab/api:1", 1, 0)
	return objs
}

// The views' kubectl columns are printers' headers, in printers' order, and their
// cells are printers' cells: the TUI and `podlab get` print the same.
func TestKubeColumnsFromPrinters(t *testing.T) {
	hs := newHarness(t, 3, 200, 60)
	now := hs.a.cfg.Now()
	check := func(view string, kind string, cols []column, first int, want []string, rows int, obj func(r int) runtime.Object, cell func(r, c int) string) {
		t.Helper()
		var got []string
		for _, c := range cols[first : first+len(want)] {
			got = append(got, c.title)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: kubectl columns %q, want %q", view, got, want)
		}
		if rows == 0 {
			t.Fatalf("%s: no rows", view)
		}
		for r := range rows {
			table := printers.Table(kind, []runtime.Object{obj(r)}, now, true, false)
			for i, h := range want {
				j := slices.Index(table[0], h)
				if c := cell(r, first+i); c != table[1][j] {
					t.Errorf("%s row %d %s: %q, printers say %q", view, r, h, c, table[1][j])
				}
			}
		}
	}
	var svcCols []string
	for _, c := range printers.Columns("Service") {
		svcCols = append(svcCols, c.Name)
	}
	sv := hs.a.svcv
	sv.kube.frame(now)
	check("svc", "Service", sv.cols, 1, svcCols, len(sv.rows), func(r int) runtime.Object { return sv.rows[r].svc }, sv.cell)

	pv := hs.a.views[viewPods].(*podsView)
	pv.kube.frame(now)
	check("pods", "Pod", pv.cols, pcKube, []string{"READY", "STATUS", "RESTARTS", "AGE"}, len(pv.rows),
		func(r int) runtime.Object { return pv.objs[r] }, pv.cell)

	var depCols []string
	for _, c := range printers.Columns("Deployment") {
		depCols = append(depCols, c.Name)
	}
	dv := hs.a.deployv
	dv.kube.frame(now)
	check("deploy", "Deployment", dv.cols, 1, depCols, len(dv.rows), func(r int) runtime.Object { return dv.rows[r] }, dv.cell)
}

func TestPodsKubeColumns(t *testing.T) {
	hs := newHarness(t, 3, 200, 60)
	s := hs.screen()
	for pod, want := range map[string][]string{
		"web-1":                {"1/1", "Running", " 0 ", "90s", "worker-1", "10.244.1.2"},
		"api-5777c4c65c-xmf2d": {"0/1", "Running", "2 (30s ago)", "90s", "http:8080"},
	} {
		l := lineWith(s, pod)
		for _, w := range want {
			if !strings.Contains(l, w) {
				t.Errorf("%s lacks %q: %q", pod, w, l)
			}
		}
	}
	// A pod the state has and the listing not (yet) keeps its row.
	hs.fake.SetObjects(nil)
	hs.run(hs.a.fetchState())
	if l := lineWith(hs.screen(), "web-2"); !strings.Contains(l, "worker-2") || !strings.Contains(l, " - ") {
		t.Errorf("web-2 without its object: %q", l)
	}
}

func TestDeployView(t *testing.T) {
	kindGolden(t, "deploy", viewDeploy, "[deploy]")
	hs := newHarness(t, 3, 120, 30)
	hs.keys(":deploy<enter>")
	if l := lineWith(hs.screen(), "shop"); !strings.Contains(l, "0/1") || !strings.Contains(l, "3h1m") {
		t.Errorf("shop/api: %q", l)
	}
	hs.keys("/web<enter>")
	if s := hs.screen(); strings.Contains(s, "podlab/api") || !strings.Contains(s, "nginx:1.27") {
		t.Errorf("filter /web:\n%s", s)
	}
	hs.keys("<enter>")
	if hs.a.detail != nil || !strings.Contains(hs.screen(), "no details of deployment here: y shows its YAML") {
		t.Errorf("enter on a deployment points to the CLI:\n%s", hs.screen())
	}
	hs.keys("s")
	if !hs.a.bad || !strings.Contains(hs.screen(), "a deployment has no shell") {
		t.Errorf("s on a deployment is refused:\n%s", hs.screen())
	}
	// Its status changes without an event: each counters tick lists it again.
	if _, cmd := hs.a.Update(countersMsg{sess: hs.a.sess, cs: hs.fake.Counter}); cmd == nil || !hs.a.fetching {
		t.Error("a counters tick with :deploy shown should fetch the state and objects")
	}
}

func TestEndpointsView(t *testing.T) { kindGolden(t, "ep", viewEp, "ENDPOINTS") }

// kindGolden opens :cmd at two sizes and checks it shows view v with want, against
// its goldens.
func kindGolden(t *testing.T, cmd string, v int, want string) {
	for _, size := range [][2]int{{80, 24}, {200, 60}} {
		name := fmt.Sprintf("%s_%dx%d", cmd, size[0], size[1])
		t.Run(name, func(t *testing.T) {
			hs := newHarness(t, 3, size[0], size[1])
			hs.run(hs.keys(":" + cmd + "<enter>"))
			if hs.a.cur != v {
				t.Fatalf(":%s shows view %d", cmd, hs.a.cur)
			}
			s := hs.screen()
			checkFrame(t, s, size[0], size[1])
			if !strings.Contains(s, want) {
				t.Errorf(":%s: no %q:\n%s", cmd, want, s)
			}
			golden(t, name, s)
		})
	}
}
