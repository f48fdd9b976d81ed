package services

import (
	"errors"
	"net/netip"
	"reflect"
	"slices"
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/topology"
)

func testConfig() Config {
	return Config{ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"), Domain: "cluster.local"}
}

// svc builds a Service; mutate edits it.
func svc(ns, name string, mutate ...func(*v1.Service)) *v1.Service {
	s := &v1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []v1.ServicePort{{Port: 80}},
		},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

func nodePort(s *v1.Service)     { s.Spec.Type = v1.ServiceTypeNodePort }
func loadBalancer(s *v1.Service) { s.Spec.Type = v1.ServiceTypeLoadBalancer }
func clusterIP(ip string) func(*v1.Service) {
	return func(s *v1.Service) { s.Spec.ClusterIP = ip }
}
func withNodePort(i int, np int32) func(*v1.Service) {
	return func(s *v1.Service) { s.Spec.Ports[i].NodePort = np }
}
func ports(ps ...v1.ServicePort) func(*v1.Service) {
	return func(s *v1.Service) { s.Spec.Ports = ps }
}
func named(name string, port int32, target intstr.IntOrString, proto v1.Protocol) v1.ServicePort {
	return v1.ServicePort{Name: name, Port: port, TargetPort: target, Protocol: proto}
}

func mustApply(t testing.TB, r *Registry, s *v1.Service) *v1.Service {
	t.Helper()
	out, err := r.Apply(s, topology.Pos{})
	if err != nil {
		t.Fatalf("Apply %s/%s: %v", s.Namespace, s.Name, err)
	}
	return out
}

// messages renders each error as "field: msg", without position and hint.
func messages(t testing.TB, err error) []string {
	t.Helper()
	var es topology.Errors
	if !errors.As(err, &es) {
		t.Fatalf("error %v (%T) is not topology.Errors", err, err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Field + ": " + e.Msg
	}
	return out
}

func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

// checkErrs asserts err's messages exactly; want nil means no error.
func checkErrs(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("unexpected error:\n%v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	if got := messages(t, err); !slices.Equal(got, want) {
		t.Errorf("errors:\n got %q\nwant %q", got, want)
	}
}
