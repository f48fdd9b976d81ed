package topology

import corev1 "k8s.io/api/core/v1"

// PodTemplateHash is the pod-template-hash label value of a Deployment's template: the
// Deployment controller names its ReplicaSets with it, so the ReplicaSet of the pods
// deploy builds and the one the controller finds are the same.
func PodTemplateHash(tmpl *corev1.PodTemplateSpec) string { return podTemplateHash(tmpl) }

// ReplicaSuffix is the deterministic stand-in for a ReplicaSet pod's random suffix
// that deploy uses, so that a lab gets the same pod names on every deploy.
func ReplicaSuffix(deployment string, i, attempt int) string {
	return replicaSuffix(deployment, i, attempt)
}
