package printers

import (
	"bytes"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestWrite(t *testing.T) {
	for _, c := range []struct {
		name  string
		table [][]string
		want  string
	}{
		{"kubectl get pods", [][]string{
			{"NAME", "READY", "STATUS", "RESTARTS", "AGE"},
			{"web-1", "1/1", "Running", "0", "5m"},
		}, "" +
			"NAME    READY   STATUS    RESTARTS   AGE\n" +
			"web-1   1/1     Running   0          5m\n"},
		{"a column is at least 6 wide", [][]string{{"A", "B"}, {"x", "y"}}, "" +
			"A     B\n" +
			"x     y\n"},
		{"empty last cells leave no trailing spaces", [][]string{{"A", "B", "C"}, {"x", "", ""}}, "" +
			"A     B     C\n" +
			"x\n"},
		{"a cell stops at its first line break", [][]string{{"MESSAGE", "AGE"}, {"first\nsecond", "1s"}}, "" +
			"MESSAGE    AGE\n" +
			"first...   1s\n"},
		{"escapes and tabs are defused", [][]string{{"A", "B"}, {"\x1b[31mred", "a\tb"}}, "" +
			"A           B\n" +
			"^[[31mred   a b\n"},
		{"header alone", [][]string{{"NAME", "AGE"}}, "NAME   AGE\n"},
		{"nothing", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, c.table); err != nil {
				t.Fatal(err)
			}
			if b.String() != c.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), c.want)
			}
		})
	}
}

// TestWriteServices is `kubectl get svc -A -o wide` on a fresh cluster, as kubectl
// prints it.
func TestWriteServices(t *testing.T) {
	svcs := []runtime.Object{
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default", CreationTimestamp: ago(48 * time.Hour)},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIPs: []string{"10.96.0.1"},
				Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}}},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system", CreationTimestamp: ago(48 * time.Hour)},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIPs: []string{"10.96.0.10"},
				Ports: []corev1.ServicePort{
					{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
					{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
					{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP},
				},
				Selector: map[string]string{"k8s-app": "kube-dns"}},
		},
	}
	var b bytes.Buffer
	if err := Write(&b, Table("Service", svcs, now, true, true)); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"NAMESPACE     NAME         TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)                  AGE   SELECTOR",
		"default       kubernetes   ClusterIP   10.96.0.1    <none>        443/TCP                  2d    <none>",
		"kube-system   kube-dns     ClusterIP   10.96.0.10   <none>        53/UDP,53/TCP,9153/TCP   2d    k8s-app=kube-dns",
		"",
	}, "\n")
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
