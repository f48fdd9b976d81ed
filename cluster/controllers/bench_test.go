package controllers

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/cluster/store"
)

// benchStore is a lab of n ready pods, each selected by its own Service.
func benchStore(b *testing.B, n int) *store.Store {
	s := store.New()
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("p-%d", i)
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": name}},
			Spec: corev1.PodSpec{NodeName: fmt.Sprintf("n-%d", i%10), Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}}}
		p.Status.PodIP = fmt.Sprintf("10.244.%d.%d", i/250, i%250+2)
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := s.Create(p); err != nil {
			b.Fatal(err)
		}
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "s-" + name},
			Spec: corev1.ServiceSpec{Selector: map[string]string{"app": name}, ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1),
				Ports: []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80), Protocol: corev1.ProtocolTCP}}}}
		if _, err := s.Create(svc); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkEndpointsSync1k is one level-triggered pass of the endpoints controllers
// over 1,000 Services and 1,000 pods with nothing to change: what every store write
// costs it.
func BenchmarkEndpointsSync1k(b *testing.B) {
	s := benchStore(b, 1000)
	c := NewEndpoints(s, nil)
	c.Sync(s)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Sync(s)
	}
}

// BenchmarkSchedulerSync1k: one pass of the scheduler with 1,000 bound pods.
func BenchmarkSchedulerSync1k(b *testing.B) {
	s := benchStore(b, 1000)
	c := NewScheduler(s, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Sync(s)
	}
}

// BenchmarkGarbageSync1k: one pass of the garbage collector over 1,000 pods and
// their slices.
func BenchmarkGarbageSync1k(b *testing.B) {
	s := benchStore(b, 1000)
	NewEndpoints(s, nil).Sync(s)
	c := NewGarbageCollector(s)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Sync(s)
	}
}
