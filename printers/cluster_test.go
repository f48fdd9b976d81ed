package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(labels map[string]string, edit func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "lab-worker", Labels: labels, CreationTimestamp: ago(51 * time.Hour)},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "lab-worker"}, {Type: corev1.NodeInternalIP, Address: "172.18.0.3"}},
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.32.0", OSImage: "Debian GNU/Linux 12 (bookworm)",
				KernelVersion: "6.8.0-45-generic", ContainerRuntimeVersion: "containerd://1.7.18"},
		},
	}
	if edit != nil {
		edit(n)
	}
	return n
}

func TestNode(t *testing.T) {
	const wide = "|172.18.0.3|<none>|Debian GNU/Linux 12 (bookworm)|6.8.0-45-generic|containerd://1.7.18"
	checkRows(t, []rowCase{
		{"ready worker", node(nil, nil), "lab-worker|Ready|<none>|2d3h|v1.32.0" + wide},
		{"control plane, cordoned", node(map[string]string{"node-role.kubernetes.io/control-plane": ""}, func(n *corev1.Node) {
			n.Spec.Unschedulable = true
		}), "lab-worker|Ready,SchedulingDisabled|control-plane|2d3h|v1.32.0" + wide},
		{"roles from both labels, sorted", node(map[string]string{
			"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "",
			"kubernetes.io/role": "ingress", "node-role.kubernetes.io/": "",
		}, nil), "lab-worker|Ready|control-plane,ingress,worker|2d3h|v1.32.0" + wide},
		{"not ready", node(nil, func(n *corev1.Node) {
			n.Status.Conditions[0].Status = corev1.ConditionUnknown
		}), "lab-worker|NotReady|<none>|2d3h|v1.32.0" + wide},
		{"no ready condition yet, external IP", node(nil, func(n *corev1.Node) {
			n.Status.Conditions = nil
			n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: "203.0.113.7"})
		}), "lab-worker|Unknown|<none>|2d3h|v1.32.0|172.18.0.3|203.0.113.7|Debian GNU/Linux 12 (bookworm)|6.8.0-45-generic|containerd://1.7.18"},
		{"bare", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}, "n|Unknown|<none>|<unknown>||<none>|<none>|<unknown>|<unknown>|<unknown>"},
	})
}

func TestNamespace(t *testing.T) {
	checkRows(t, []rowCase{
		{"active", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", CreationTimestamp: ago(5 * 24 * time.Hour)},
			Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}, "shop|Active|5d"},
		{"phase defaulted", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", CreationTimestamp: ago(time.Minute)}}, "shop|Active|60s"},
		{"being deleted", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", CreationTimestamp: ago(time.Minute), DeletionTimestamp: agoPtr(0)}},
			"shop|Terminating|60s"},
	})
}

func TestConfigMapAndSecret(t *testing.T) {
	checkRows(t, []rowCase{
		{"config map", &corev1.ConfigMap{ObjectMeta: meta("app"),
			Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": nil}}, "app|3|3h"},
		{"empty config map", &corev1.ConfigMap{ObjectMeta: meta("app")}, "app|0|3h"},
		{"tls secret", &corev1.Secret{ObjectMeta: meta("tls"), Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}}, "tls|kubernetes.io/tls|2|3h"},
		{"type defaulted, stringData merged", &corev1.Secret{ObjectMeta: meta("app"),
			Data: map[string][]byte{"user": nil}, StringData: map[string]string{"user": "x", "password": "y"}}, "app|Opaque|2|3h"},
	})
}

func TestEvent(t *testing.T) {
	checkRows(t, []rowCase{
		{"kubelet back-off", &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "web-1.17f3a", Namespace: "shop"},
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{web}"},
			Type:           corev1.EventTypeWarning, Reason: "BackOff", Message: "Back-off restarting failed container\n",
			Source:         corev1.EventSource{Component: "kubelet", Host: "lab-worker"},
			FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(5 * time.Minute), Count: 4,
		}, "5m|Warning|BackOff|pod/web-1|spec.containers{web}|kubelet, lab-worker|Back-off restarting failed container|10m|4|web-1.17f3a"},
		{"events.k8s.io style", &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "web.1"},
			InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web"},
			Type:           corev1.EventTypeNormal, Reason: "ScalingReplicaSet", Message: "Scaled up",
			EventTime:           metav1.NewMicroTime(now.Add(-30 * time.Second)),
			ReportingController: "deployment-controller",
		}, "30s|Normal|ScalingReplicaSet|deployment/web||deployment-controller|Scaled up|30s|1|web.1"},
		{"series", &corev1.Event{
			ObjectMeta:     metav1.ObjectMeta{Name: "n.1"},
			InvolvedObject: corev1.ObjectReference{Kind: "Node"},
			EventTime:      metav1.NewMicroTime(now.Add(-time.Hour)),
			Series:         &corev1.EventSeries{Count: 7, LastObservedTime: metav1.NewMicroTime(now.Add(-2 * time.Second))},
		}, "2s|||node||||60m|7|n.1"},
		{"no times", &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "e"}}, "<unknown>|||||||<unknown>|1|e"},
	})
}
