package cluster

import (
	"context"
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/controllers"
	"podlab.dev/podlab/cluster/defaults"
	"podlab.dev/podlab/topology"
)

// TestWritesAreDefaulted: every write path stores the API server's defaults (the seed,
// podlab apply, the Kubernetes API's create), and the pod-template-hash deploy names a
// Deployment's pods with (from the lab file's template) is the one the Deployment
// controller computes from the stored, defaulted template.
func TestWritesAreDefaulted(t *testing.T) {
	s := newSupervisor(t)
	ctx := context.Background()

	o, _ := s.store.Get("Pod", "default", "web-1") // seeded from a Pod manifest
	pod := o.(*corev1.Pod)
	c := pod.Spec.Containers[0]
	if c.Ports[0].Protocol != corev1.ProtocolTCP || c.ImagePullPolicy != corev1.PullAlways || pod.Spec.DNSPolicy != corev1.DNSClusterFirst ||
		len(pod.Spec.Tolerations) != 2 || pod.Spec.EnableServiceLinks == nil {
		t.Errorf("seeded pod not defaulted: %+v", pod.Spec)
	}
	o, _ = s.store.Get("NetworkPolicy", "default", "deny")
	if got := o.(*networkingv1.NetworkPolicy).Spec.PolicyTypes; len(got) != 1 || got[0] != networkingv1.PolicyTypeIngress {
		t.Errorf("seeded NetworkPolicy's policyTypes = %v, want [Ingress]", got)
	}

	raw := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":2,` +
		`"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},` +
		`"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":8080}]}]}}}}`)
	r := s.Apply(ctx, api.ApplyRequest{Objects: []topology.Object{{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default", Name: "web", Applied: true, Raw: raw}}})
	if r[0].Error != "" {
		t.Fatal(r[0].Error)
	}
	o, _ = s.store.Get("Deployment", "default", "web")
	d := o.(*appsv1.Deployment)
	if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || *d.Spec.RevisionHistoryLimit != 10 ||
		d.Spec.Template.Spec.Containers[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("applied Deployment not defaulted: %+v", d.Spec)
	}
	var asWritten appsv1.Deployment
	if err := json.Unmarshal(raw, &asWritten); err != nil {
		t.Fatal(err)
	}
	if got, want := controllers.NewReplicaSetName(d), "web-"+topology.PodTemplateHash(&asWritten.Spec.Template); got != want {
		t.Errorf("the controller's ReplicaSet is %s, deploy names the pods after %s", got, want)
	}

	cs := kubeClient(t, s)
	ss := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db"}, Spec: appsv1.StatefulSetSpec{
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "db"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:17"}}}}}}
	made, err := cs.AppsV1().StatefulSets("default").Create(ctx, ss, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if made.Spec.PodManagementPolicy != appsv1.OrderedReadyPodManagement || made.Spec.UpdateStrategy.RollingUpdate == nil ||
		made.Spec.Template.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("StatefulSet created through the Kubernetes API not defaulted: %+v", made.Spec)
	}
	dry := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "dry"}, Spec: appsv1.DeploymentSpec{Template: ss.Spec.Template}}
	got, err := cs.AppsV1().Deployments("default").Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil || got.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || got.Spec.Replicas == nil {
		t.Errorf("a dry-run create answers what would be stored, defaulted: %+v %v", got, err)
	}
}

// A pod stored without defaults (an older store) takes its manifest again; a changed
// port is still forbidden.
func TestPodUpdateAllowedComparesDefaulted(t *testing.T) {
	stored := &corev1.Pod{Spec: corev1.PodSpec{NodeName: "worker-1", Containers: []corev1.Container{{Name: "web", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}}}
	again := stored.DeepCopy()
	again.Spec.NodeName = ""
	defaults.Pod(again)
	if err := podUpdateAllowed(stored, again); err != nil {
		t.Errorf("the same manifest: %v", err)
	}
	moved := again.DeepCopy()
	moved.Spec.Containers[0].Ports[0].ContainerPort = 81
	if err := podUpdateAllowed(stored, moved); err == nil {
		t.Error("a changed port was allowed")
	}
}
