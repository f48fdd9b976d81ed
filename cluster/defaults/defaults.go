// Package defaults fills in what the Kubernetes API server fills in before it stores an
// object: the SetDefaults_* functions of k8s.io/kubernetes pkg/apis/{core,apps,
// networking,discovery}/v1/defaults.go, and the mutating admission plugins every
// cluster runs on Pods (DefaultTolerationSeconds, Priority). It is what makes
// `kubectl describe` and `get -o yaml` of a lab's objects read as a cluster's do
// (8080/TCP, StrategyType: RollingUpdate, Session Affinity: None).
//
// It owns only that: pure functions on typed objects, idempotent (defaulting a
// defaulted object changes nothing, so a template hashed before and after storage
// hashes the same), no store, no validation, no allocation. Services are defaulted by
// the Service registry (cluster/services), which allocates as it defaults; Namespaces
// by the supervisor's admission. It imports only k8s.io types, so the lab file's
// reader (topology) can default a Deployment's template before hashing it, as the
// Deployment controller hashes the stored one.
package defaults

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Object defaults o in place, by its Go type; other types (and Services, see the
// package comment) are left as they are.
func Object(o runtime.Object) {
	switch t := o.(type) {
	case *corev1.Pod:
		Pod(t)
	case *corev1.Endpoints:
		Endpoints(t)
	case *corev1.Secret:
		Secret(t)
	case *appsv1.Deployment:
		Deployment(t)
	case *appsv1.ReplicaSet:
		ReplicaSet(t)
	case *appsv1.StatefulSet:
		StatefulSet(t)
	case *appsv1.DaemonSet:
		DaemonSet(t)
	case *networkingv1.NetworkPolicy:
		NetworkPolicy(t)
	case *networkingv1.IngressClass:
		IngressClass(t)
	case *discoveryv1.EndpointSlice:
		EndpointSlice(t)
	}
}
