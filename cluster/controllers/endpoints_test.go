package controllers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/cluster/store"
)

func TestEndpointsFollowReadiness(t *testing.T) {
	s := store.New()
	s.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: "TCP"}}}}
	s.Create(svc)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "a", Labels: map[string]string{"app": "web"}}, Spec: corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "a"}}}}
	p.Status.PodIP = "10.0.0.2"
	s.Create(p)
	c := NewEndpoints(s, nil)
	c.Sync(s)
	o, _ := s.Get("Pod", "default", "a")
	q := o.(*corev1.Pod).DeepCopy()
	q.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	s.UpdateStatus(q)
	c.Sync(s)
	e, _ := s.Get("Endpoints", "default", "web")
	sub := e.(*corev1.Endpoints).Subsets
	if len(sub) != 1 || len(sub[0].Addresses) != 1 || len(sub[0].NotReadyAddresses) != 0 {
		t.Fatalf("Endpoints after the pod became ready: %+v", sub)
	}
	sl := s.List("EndpointSlice", "default")
	if len(sl) != 1 {
		t.Fatalf("%d slices", len(sl))
	}
	// Gone with its Service.
	s.Delete("Service", "default", "web")
	c.Sync(s)
	if len(s.List("EndpointSlice", "")) != 0 || len(s.List("Endpoints", "")) != 0 {
		t.Fatal("endpoints outlive their Service")
	}
}

// TestMirrorDefaultsProtocol: the docs' Endpoints for a selectorless Service name no
// protocol; the mirrored slice says TCP, as the API server's defaulting makes it, so
// kube-proxy finds the Service's TCP port in it.
func TestMirrorDefaultsProtocol(t *testing.T) {
	s := store.New()
	s.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "legacy"}, Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: "TCP"}}}})
	s.Create(&corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "legacy"}, Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "192.0.2.42"}}, Ports: []corev1.EndpointPort{{Port: 9376}},
	}}})
	NewEndpoints(s, nil).Sync(s)
	sl := s.List("EndpointSlice", "default")
	if len(sl) != 1 {
		t.Fatalf("%d slices", len(sl))
	}
	if p := sl[0].(*discoveryv1.EndpointSlice).Ports; len(p) != 1 || p[0].Protocol == nil || *p[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("mirrored ports: %+v", p)
	}
}
