package printers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "shop", CreationTimestamp: ago(3 * time.Hour)}
}

func template(images ...string) corev1.PodTemplateSpec {
	var t corev1.PodTemplateSpec
	for i, im := range images {
		t.Spec.Containers = append(t.Spec.Containers, corev1.Container{Name: []string{"web", "log"}[i], Image: im})
	}
	return t
}

var webSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}

func TestDeployment(t *testing.T) {
	checkRows(t, []rowCase{
		{"rolling out", &appsv1.Deployment{
			ObjectMeta: meta("web"),
			Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Selector: webSelector, Template: template("nginx:1.27", "busybox")},
			Status:     appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2},
		}, "web|2/3|2|2|3h|web,log|nginx:1.27,busybox|app=web,tier=front"},
		{"replicas defaulted, no selector", &appsv1.Deployment{ObjectMeta: meta("web")}, "web|0/1|0|0|3h|||"},
		{"scaled to zero", &appsv1.Deployment{
			ObjectMeta: meta("web"),
			Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(0)), Selector: &metav1.LabelSelector{}},
		}, "web|0/0|0|0|3h|||"},
		{"selector with expressions", &appsv1.Deployment{
			ObjectMeta: meta("web"),
			Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web", "api"}},
			}}},
		}, "web|0/1|0|0|3h|||app in (api,web)"},
		{"invalid selector", &appsv1.Deployment{
			ObjectMeta: meta("web"),
			Spec:       appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"bad key!": "x"}}},
		}, "web|0/1|0|0|3h|||<invalid>"},
	})
}

func TestReplicaSet(t *testing.T) {
	checkRows(t, []rowCase{
		{"one ready of three", &appsv1.ReplicaSet{
			ObjectMeta: meta("web-7d4b9c"),
			Spec:       appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)), Selector: webSelector, Template: template("nginx:1.27")},
			Status:     appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1},
		}, "web-7d4b9c|3|3|1|3h|web|nginx:1.27|app=web,tier=front"},
		{"defaults", &appsv1.ReplicaSet{ObjectMeta: meta("web-7d4b9c")}, "web-7d4b9c|1|0|0|3h|||<none>"},
	})
}

func TestStatefulSet(t *testing.T) {
	checkRows(t, []rowCase{
		{"one ready of two", &appsv1.StatefulSet{
			ObjectMeta: meta("db"),
			Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(2)), Template: template("postgres:17")},
			Status:     appsv1.StatefulSetStatus{ReadyReplicas: 1},
		}, "db|1/2|3h|web|postgres:17"},
		{"defaults", &appsv1.StatefulSet{ObjectMeta: meta("db")}, "db|0/1|3h||"},
	})
}

func TestDaemonSet(t *testing.T) {
	linux := template("kube-proxy:v1.32")
	linux.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	checkRows(t, []rowCase{
		{"one updating", &appsv1.DaemonSet{
			ObjectMeta: meta("proxy"),
			Spec:       appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"k8s-app": "proxy"}}, Template: linux},
			Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2,
				UpdatedNumberScheduled: 1, NumberAvailable: 2},
		}, "proxy|3|3|2|1|2|kubernetes.io/os=linux|3h|web|kube-proxy:v1.32|k8s-app=proxy"},
		{"defaults", &appsv1.DaemonSet{ObjectMeta: meta("proxy")}, "proxy|0|0|0|0|0|<none>|3h|||<none>"},
	})
}

func TestJob(t *testing.T) {
	condition := func(c batchv1.JobConditionType) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: c, Status: corev1.ConditionTrue}}
	}
	checkRows(t, []rowCase{
		{"running for 90s", &batchv1.Job{
			ObjectMeta: meta("backup"),
			Spec:       batchv1.JobSpec{Completions: ptr(int32(3)), Template: template("restic")},
			Status:     batchv1.JobStatus{Succeeded: 1, StartTime: agoPtr(90 * time.Second)},
		}, "backup|Running|1/3|90s|3h|web|restic|<none>"},
		{"complete, completions defaulted", &batchv1.Job{
			ObjectMeta: meta("backup"),
			Spec:       batchv1.JobSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"job-name": "backup"}}},
			Status: batchv1.JobStatus{Succeeded: 1, Conditions: condition(batchv1.JobComplete),
				StartTime: agoPtr(time.Hour), CompletionTime: agoPtr(time.Hour - 2*time.Minute - 3*time.Second)},
		}, "backup|Complete|1/1|2m3s|3h|||job-name=backup"},
		{"work queue", &batchv1.Job{ObjectMeta: meta("q"), Spec: batchv1.JobSpec{Parallelism: ptr(int32(3))}},
			"q|Running|0/1 of 3||3h|||<none>"},
		{"failed", &batchv1.Job{ObjectMeta: meta("q"), Status: batchv1.JobStatus{Conditions: condition(batchv1.JobFailed)}},
			"q|Failed|0/1||3h|||<none>"},
		{"suspended", &batchv1.Job{ObjectMeta: meta("q"), Status: batchv1.JobStatus{Conditions: condition(batchv1.JobSuspended)}},
			"q|Suspended|0/1||3h|||<none>"},
		{"failure target", &batchv1.Job{ObjectMeta: meta("q"), Status: batchv1.JobStatus{Conditions: condition(batchv1.JobFailureTarget)}},
			"q|FailureTarget|0/1||3h|||<none>"},
		{"terminating", &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "q", CreationTimestamp: ago(time.Minute), DeletionTimestamp: agoPtr(0)}},
			"q|Terminating|0/1||60s|||<none>"},
	})
}
