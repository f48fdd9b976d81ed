package printers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var (
	deploymentColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Ready", "string", "Number of the pod with ready state"),
		column("Up-to-date", "string", appsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]),
		column("Available", "string", appsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]),
		ageColumn,
		containersColumn, imagesColumn,
		wideColumn("Selector", appsv1.DeploymentSpec{}.SwaggerDoc()["selector"]),
	}
	replicaSetColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Desired", "integer", appsv1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]),
		column("Current", "integer", appsv1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]),
		column("Ready", "integer", appsv1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]),
		ageColumn,
		containersColumn, imagesColumn,
		wideColumn("Selector", appsv1.ReplicaSetSpec{}.SwaggerDoc()["selector"]),
	}
	statefulSetColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Ready", "string", "Number of the pod with ready state"),
		ageColumn,
		containersColumn, imagesColumn,
	}
	daemonSetColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Desired", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["desiredNumberScheduled"]),
		column("Current", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["currentNumberScheduled"]),
		column("Ready", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["numberReady"]),
		column("Up-to-date", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["updatedNumberScheduled"]),
		column("Available", "integer", appsv1.DaemonSetStatus{}.SwaggerDoc()["numberAvailable"]),
		column("Node Selector", "string", corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]),
		ageColumn,
		containersColumn, imagesColumn,
		wideColumn("Selector", appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"]),
	}
	jobColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Status", "string", "Status of the job."),
		column("Completions", "string", batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
		column("Duration", "string", "Time required to complete the job."),
		ageColumn,
		containersColumn, imagesColumn,
		wideColumn("Selector", batchv1.JobSpec{}.SwaggerDoc()["selector"]),
	}
)

func deploymentRow(d *appsv1.Deployment, now time.Time, _ bool) []string {
	names, images := containerCells(d.Spec.Template.Spec.Containers)
	// Unlike the other kinds, kubectl prints a Deployment's selector unformatted:
	// empty, not <none>, when it has none.
	selector := "<invalid>"
	if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
		selector = s.String()
	}
	return []string{
		d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, replicas(d.Spec.Replicas)),
		itoa(d.Status.UpdatedReplicas), itoa(d.Status.AvailableReplicas), since(d.CreationTimestamp, now),
		names, images, selector,
	}
}

func replicaSetRow(rs *appsv1.ReplicaSet, now time.Time, _ bool) []string {
	names, images := containerCells(rs.Spec.Template.Spec.Containers)
	return []string{
		rs.Name, itoa(replicas(rs.Spec.Replicas)), itoa(rs.Status.Replicas), itoa(rs.Status.ReadyReplicas),
		since(rs.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(rs.Spec.Selector),
	}
}

func statefulSetRow(ss *appsv1.StatefulSet, now time.Time, _ bool) []string {
	names, images := containerCells(ss.Spec.Template.Spec.Containers)
	return []string{
		ss.Name, fmt.Sprintf("%d/%d", ss.Status.ReadyReplicas, replicas(ss.Spec.Replicas)), since(ss.CreationTimestamp, now),
		names, images,
	}
}

func daemonSetRow(ds *appsv1.DaemonSet, now time.Time, _ bool) []string {
	st := ds.Status
	names, images := containerCells(ds.Spec.Template.Spec.Containers)
	return []string{
		ds.Name, itoa(st.DesiredNumberScheduled), itoa(st.CurrentNumberScheduled), itoa(st.NumberReady),
		itoa(st.UpdatedNumberScheduled), itoa(st.NumberAvailable),
		labels.FormatLabels(ds.Spec.Template.Spec.NodeSelector), since(ds.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(ds.Spec.Selector),
	}
}

func jobRow(j *batchv1.Job, now time.Time, _ bool) []string {
	var completions string
	switch {
	case j.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case j.Spec.Parallelism != nil && *j.Spec.Parallelism > 1:
		completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	default:
		completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
	}
	var took string
	switch start, end := j.Status.StartTime, j.Status.CompletionTime; {
	case start == nil:
	case end == nil:
		took = Age(now.Sub(start.Time))
	default:
		took = Age(end.Sub(start.Time))
	}
	status := "Running"
	switch {
	case jobCondition(j, batchv1.JobComplete):
		status = "Complete"
	case jobCondition(j, batchv1.JobFailed):
		status = "Failed"
	case j.DeletionTimestamp != nil:
		status = "Terminating"
	case jobCondition(j, batchv1.JobSuspended):
		status = "Suspended"
	case jobCondition(j, batchv1.JobFailureTarget):
		status = "FailureTarget"
	}
	names, images := containerCells(j.Spec.Template.Spec.Containers)
	return []string{
		j.Name, status, completions, took, since(j.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(j.Spec.Selector),
	}
}

// jobCondition reports the status of the first condition of type t.
func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// replicas is a spec's replica count as the API server defaults it.
func replicas(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// containerCells is kubectl's layoutContainerCells: the names and the images of a
// template's containers, each joined by commas.
func containerCells(cs []corev1.Container) (names, images string) {
	n, im := make([]string, len(cs)), make([]string, len(cs))
	for i, c := range cs {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}
