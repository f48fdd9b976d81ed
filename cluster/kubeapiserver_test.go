package cluster

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// kubeClient serves s's Kubernetes API over TLS and returns a clientset for it.
func kubeClient(t *testing.T, s *Supervisor) *kubernetes.Clientset {
	t.Helper()
	srv := httptest.NewTLSServer(s.KubeAPI())
	t.Cleanup(srv.Close)
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestKubeAPIWritesAreAdmitted: a write through the Kubernetes API goes through the
// lab's admission, as `podlab apply` does: a Service gets its ClusterIP from the
// registry, an invalid one is 422 Invalid with the API server's message.
func TestKubeAPIWritesAreAdmitted(t *testing.T) {
	s := newSupervisor(t)
	cs := kubeClient(t, s)
	ctx := context.Background()
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "api"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "api"}, Ports: []corev1.ServicePort{{Port: 8080}}}}
	made, err := cs.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if made.Spec.ClusterIP == "" || made.Spec.Type != corev1.ServiceTypeClusterIP || made.ResourceVersion == "" {
		t.Errorf("created Service: clusterIP %q, type %q, rv %q", made.Spec.ClusterIP, made.Spec.Type, made.ResourceVersion)
	}
	bad := svc.DeepCopy()
	bad.Name, bad.Spec.Ports[0].Port = "bad", 70000
	_, err = cs.CoreV1().Services("default").Create(ctx, bad, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "spec.ports[0].port") {
		t.Errorf("an invalid Service: %v", err)
	}
	_, err = cs.CoreV1().ConfigMaps("nowhere").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `namespaces "nowhere" not found` {
		t.Errorf("a ConfigMap in a missing namespace: %v", err)
	}
	made.Labels = map[string]string{"tier": "back"}
	stale := made.DeepCopy()
	if _, err := cs.CoreV1().Services("default").Update(ctx, made, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Services("default").Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Errorf("a stale update: %v", err)
	}
	if err := cs.CoreV1().Services("default").Delete(ctx, "api", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.reg.Get("default", "api"); ok {
		t.Errorf("the deleted Service keeps its registry entry")
	}
	err = cs.CoreV1().Namespaces().Delete(ctx, "default", metav1.DeleteOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("deleting namespace default: %v", err)
	}
}

// TestKubeAPIDryRun: dryRun=All answers what would be stored and stores nothing.
func TestKubeAPIDryRun(t *testing.T) {
	s := newSupervisor(t)
	cs := kubeClient(t, s)
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}, Data: map[string]string{"a": "b"}}
	got, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil || got.Name != "dry" || got.UID == "" {
		t.Fatalf("dry-run create: %+v %v", got, err)
	}
	if _, ok := s.store.Get("ConfigMap", "default", "dry"); ok {
		t.Errorf("a dry run stored the ConfigMap")
	}
}
