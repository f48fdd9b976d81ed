package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/rest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/cluster"
	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/kubeapi"
	"podlab.dev/podlab/cluster/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// readOnlyLab is a kubeapi.Backend over a store that describe only reads.
type readOnlyLab struct {
	s      *store.Store
	events []*corev1.Event
}

var errReadOnly = errors.New("read-only test backend")

func (l readOnlyLab) Objects() store.Reader { return l.s }
func (l readOnlyLab) Create(context.Context, store.Object, bool) (store.Object, error) {
	return nil, errReadOnly
}
func (l readOnlyLab) Update(context.Context, store.Object, bool) (store.Object, error) {
	return nil, errReadOnly
}
func (l readOnlyLab) UpdateStatus(context.Context, store.Object) (store.Object, error) {
	return nil, errReadOnly
}
func (l readOnlyLab) Delete(context.Context, string, string, string, metav1.DeleteOptions) (store.Object, error) {
	return nil, errReadOnly
}
func (l readOnlyLab) Events(ns string) []*corev1.Event {
	var out []*corev1.Event
	for _, e := range l.events {
		if ns == "" || e.Namespace == ns {
			out = append(out, e)
		}
	}
	return out
}
func (l readOnlyLab) PodLogs(context.Context, io.Writer, string, string, *corev1.PodLogOptions) error {
	return errReadOnly
}
func (l readOnlyLab) PodStream(string, string, string) (http.Handler, error) {
	return nil, errReadOnly
}

// describeLab serves a deployment with its ReplicaSet, a Service, a GRPCRoute (not
// enforced), an HTTPRoute (a kind kubectl has no describer for) and their events.
func describeLab(t *testing.T) *rest.Config {
	t.Helper()
	created := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	meta := func(ns, name, uid string, labels map[string]string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid), Labels: labels, CreationTimestamp: created}
	}
	web := map[string]string{"app": "web"}
	two := int32(2)
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: web},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "podlab/agnhost", Ports: []corev1.ContainerPort{{ContainerPort: 8080, Protocol: "TCP"}}}}}}
	s := store.New()
	for _, o := range []store.Object{
		&corev1.Namespace{ObjectMeta: meta("", "default", "ns-1", nil), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
		&appsv1.Deployment{ObjectMeta: meta("default", "web", "d-1", web),
			Spec:   appsv1.DeploymentSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: web}, Template: tmpl},
			Status: appsv1.DeploymentStatus{Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 2, AvailableReplicas: 2}},
		&appsv1.ReplicaSet{ObjectMeta: func() metav1.ObjectMeta {
			m := meta("default", "web-5d9c7b", "rs-1", map[string]string{"app": "web", "pod-template-hash": "5d9c7b"})
			m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", UID: "d-1", Controller: new(true)}}
			return m
		}(), Spec: appsv1.ReplicaSetSpec{Replicas: &two, Selector: &metav1.LabelSelector{MatchLabels: web}, Template: tmpl},
			Status: appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 2, AvailableReplicas: 2}},
		&corev1.Service{ObjectMeta: meta("default", "web", "s-1", nil), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: web,
			ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			Ports: []corev1.ServicePort{{Port: 80, Protocol: "TCP", TargetPort: intstr.FromInt32(8080)}}}},
		&gatewayv1.GRPCRoute{ObjectMeta: meta("default", "echo", "g-1", nil), Spec: gatewayv1.GRPCRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "gw"}}}}},
		&gatewayv1.HTTPRoute{ObjectMeta: meta("default", "web", "r-1", web), Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "gw"}}}}},
	} {
		if _, err := s.Create(o); err != nil {
			t.Fatal(err)
		}
	}
	// Event ages are printed from the real clock: 30m stays 30m for a minute.
	at := metav1.NewTime(time.Now().Add(-30 * time.Minute))
	ev := func(kind, name, uid, reason, msg string) *corev1.Event {
		return &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name + "." + reason},
			InvolvedObject: corev1.ObjectReference{Kind: kind, Namespace: "default", Name: name, UID: types.UID(uid)},
			Reason:         reason, Message: msg, Type: corev1.EventTypeNormal, Count: 1, FirstTimestamp: at, LastTimestamp: at,
			Source: corev1.EventSource{Component: "deployment-controller"}}
	}
	b := readOnlyLab{s: s, events: []*corev1.Event{
		ev("Deployment", "web", "d-1", "ScalingReplicaSet", "Scaled up replica set web-5d9c7b from 0 to 2"),
		ev("Service", "web", "s-1", "Applied", "Service default/web applied"),
	}}
	srv := httptest.NewTLSServer(kubeapi.New(b, kubeapi.Options{}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 10 * time.Second}
}

// describe prints kubectl's describers' text for any kind, found by any of kubectl's
// names for it, with the object's events at the bottom; a kind nothing enforces says so.
func TestDescribeKinds(t *testing.T) {
	rc := describeLab(t)
	for _, tc := range []struct {
		golden, resource string
		names            []string
		selector         string
	}{
		{"deployment", "deployment", []string{"web"}, ""},
		{"deployment", "deploy", []string{"web"}, ""},
		{"deployment", "deployments.apps", nil, "app=web"},
		{"replicaset", "rs", []string{"web-5d9c7b"}, ""},
		{"service", "svc", []string{"web"}, ""},
		{"namespace", "ns", []string{"default"}, ""},
		{"grpcroute", "grpcroute", []string{"echo"}, ""},
		{"httproute", "httproute", []string{"web"}, ""},
	} {
		t.Run(tc.resource, func(t *testing.T) {
			var errs bytes.Buffer
			objs, err := describeObjects(context.Background(), &errs, rc, tc.resource, "default", tc.names, tc.selector)
			if err != nil || len(objs) != 1 {
				t.Fatalf("%d objects, %v; %s", len(objs), err, errs.String())
			}
			describeGolden(t, "describe_"+tc.golden+".txt", objs[0].text)
		})
	}
}

func TestDescribeErrors(t *testing.T) {
	rc := describeLab(t)
	var errs bytes.Buffer
	if _, err := describeObjects(context.Background(), &errs, rc, "deploy", "default", []string{"nope"}, ""); !isInvalid(err) || !strings.Contains(err.Error(), `"nope" not found`) {
		t.Errorf("missing deployment: %v", err)
	}
	if _, err := describeObjects(context.Background(), &errs, rc, "widgets", "default", nil, ""); !isInvalid(err) || !strings.Contains(err.Error(), "no such kind") {
		t.Errorf("unknown kind: %v", err)
	}
	objs, err := describeObjects(context.Background(), &errs, rc, "deploy", "shop", nil, "")
	if err != nil || len(objs) != 0 || errs.String() != "No resources found in shop namespace.\n" {
		t.Errorf("empty namespace: %v, %v, %q", objs, err, errs.String())
	}
}

// podlab's kernel sections come after kubectl's and before the Events.
func TestWithSections(t *testing.T) {
	got := withSections("Name: a\nStatus: Running\nEvents:\n  Type  Reason\n", []api.Section{
		{Title: "status", Body: "phase Running\n"}, {Title: "interfaces", Body: "1: lo\n"}, {Title: "events", Body: "x\n"}, {Title: "routes", Body: "default via 10.0.0.1"}})
	want := "Name: a\nStatus: Running\n== interfaces ==\n1: lo\n== routes ==\ndefault via 10.0.0.1\nEvents:\n  Type  Reason\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func isInvalid(err error) bool {
	var iv invalidInput
	return errors.As(err, &iv)
}

func describeGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// A lab whose Kubernetes API does not answer (PODLAB_KUBEAPI=off) still describes a
// pod from the supervisor's own view, and says why.
func TestDescribeWithoutKubeAPI(t *testing.T) {
	dir := fakeSupervisor(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, api.PathDetails+"pod/web-1") {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(api.Details{Kind: "Pod", Namespace: "default", Name: "web-1",
			Sections: []api.Section{{Title: "interfaces", Body: "2: eth0 veth\n"}}})
	}))
	f := cluster.KubeAPIFilesOf(dir.Path())
	os.MkdirAll(f.Dir, 0o700)
	if err := os.WriteFile(filepath.Join(f.Dir, "addr"), []byte("127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := execute(t, "describe", "pod", "web-1"); got != "Pod default/web-1\n\n== interfaces ==\n2: eth0 veth\n" {
		t.Errorf("describe pod without the API:\n%s", got)
	}
}
