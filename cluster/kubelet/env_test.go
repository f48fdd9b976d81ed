package kubelet

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The environment an emulated image reads: values, $(NAME) expansion and the
// downward API, as the conformance manifests give echo-basic POD_NAME and NAMESPACE.
func TestContainerEnv(t *testing.T) {
	field := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "infra-backend-v1-abc", Namespace: "gateway-conformance-infra", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "n1"},
		Status:     corev1.PodStatus{PodIP: "10.244.1.2"},
	}
	c := corev1.Container{Env: []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: field("metadata.name")},
		{Name: "NAMESPACE", ValueFrom: field("metadata.namespace")},
		{Name: "NODE", ValueFrom: field("spec.nodeName")},
		{Name: "IP", ValueFrom: field("status.podIP")},
		{Name: "APP", ValueFrom: field("metadata.labels['app']")},
		{Name: "HTTP_PORT", Value: "8080"},
		{Name: "URL", Value: "http://$(IP):$(HTTP_PORT)/$(LATER) $$(IP) $("},
		{Name: "LATER", Value: "x"},
		{Name: "SECRET", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{Key: "k"}}},
	}}
	want := map[string]string{
		"POD_NAME": "infra-backend-v1-abc", "NAMESPACE": "gateway-conformance-infra", "NODE": "n1", "IP": "10.244.1.2", "APP": "web",
		"HTTP_PORT": "8080", "URL": "http://10.244.1.2:8080/$(LATER) $(IP) $(", "LATER": "x",
	}
	if got := containerEnv(p, c); !reflect.DeepEqual(got, want) {
		t.Errorf("containerEnv =\n%v\nwant\n%v", got, want)
	}
}
