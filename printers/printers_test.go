package printers

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// now is the clock of every test; ago gives a timestamp that far before it.
var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

func ptr[T any](v T) *T { return &v }

// rowCase is one object and its expected cells, wide ones included, joined by "|".
type rowCase struct {
	name string
	obj  runtime.Object
	want string
}

func checkRows(t *testing.T, cases []rowCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Join(Row(c.obj, now), "|"); got != c.want {
				t.Errorf("row\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestAge(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{-2 * time.Second, "<invalid>"},
		{-1 * time.Second, "0s"}, // clock skew reads as now
		{0, "0s"},
		{5 * time.Second, "5s"},
		{119 * time.Second, "119s"},
		{2 * time.Minute, "2m"},
		{2*time.Minute + 3*time.Second, "2m3s"},
		{9*time.Minute + 59*time.Second, "9m59s"},
		{10*time.Minute + 30*time.Second, "10m"},
		{179 * time.Minute, "179m"},
		{3 * time.Hour, "3h"},
		{3*time.Hour + 4*time.Minute, "3h4m"},
		{7*time.Hour + 59*time.Minute, "7h59m"},
		{8*time.Hour + 30*time.Minute, "8h"},
		{47 * time.Hour, "47h"},
		{48 * time.Hour, "2d"},
		{51 * time.Hour, "2d3h"},
		{7*24*time.Hour + 23*time.Hour, "7d23h"},
		{8 * 24 * time.Hour, "8d"},
		{729 * 24 * time.Hour, "729d"},
		{2 * 365 * 24 * time.Hour, "2y"},
		{(2*365 + 45) * 24 * time.Hour, "2y45d"},
		{9 * 365 * 24 * time.Hour, "9y"},
	} {
		if got := Age(c.d); got != c.want {
			t.Errorf("Age(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// TestColumns checks each kind's header, without and with -o wide, against kubectl's.
func TestColumns(t *testing.T) {
	for _, c := range []struct{ kind, normal, wide string }{
		{"Pod", "NAME READY STATUS RESTARTS AGE", "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES"},
		{"Deployment", "NAME READY UP-TO-DATE AVAILABLE AGE", "NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR"},
		{"ReplicaSet", "NAME DESIRED CURRENT READY AGE", "NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR"},
		{"StatefulSet", "NAME READY AGE", "NAME READY AGE CONTAINERS IMAGES"},
		{"DaemonSet", "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE", "NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE CONTAINERS IMAGES SELECTOR"},
		{"Job", "NAME STATUS COMPLETIONS DURATION AGE", "NAME STATUS COMPLETIONS DURATION AGE CONTAINERS IMAGES SELECTOR"},
		{"Service", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR"},
		{"Endpoints", "NAME ENDPOINTS AGE", "NAME ENDPOINTS AGE"},
		{"EndpointSlice", "NAME ADDRESSTYPE PORTS ENDPOINTS AGE", "NAME ADDRESSTYPE PORTS ENDPOINTS AGE"},
		{"Ingress", "NAME CLASS HOSTS ADDRESS PORTS AGE", "NAME CLASS HOSTS ADDRESS PORTS AGE"},
		{"IngressClass", "NAME CONTROLLER PARAMETERS AGE", "NAME CONTROLLER PARAMETERS AGE"},
		{"GatewayClass", "NAME CONTROLLER ACCEPTED AGE", "NAME CONTROLLER ACCEPTED AGE DESCRIPTION"},
		{"Gateway", "NAME CLASS ADDRESS PROGRAMMED AGE", "NAME CLASS ADDRESS PROGRAMMED AGE"},
		{"HTTPRoute", "NAME HOSTNAMES AGE", "NAME HOSTNAMES AGE"},
		{"GRPCRoute", "NAME HOSTNAMES AGE", "NAME HOSTNAMES AGE"},
		{"ReferenceGrant", "NAME AGE", "NAME AGE"},
		{"NetworkPolicy", "NAME POD-SELECTOR AGE", "NAME POD-SELECTOR AGE"},
		{"Node", "NAME STATUS ROLES AGE VERSION", "NAME STATUS ROLES AGE VERSION INTERNAL-IP EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME"},
		{"Namespace", "NAME STATUS AGE", "NAME STATUS AGE"},
		{"ConfigMap", "NAME DATA AGE", "NAME DATA AGE"},
		{"Secret", "NAME TYPE DATA AGE", "NAME TYPE DATA AGE"},
		{"Lease", "NAME HOLDER AGE", "NAME HOLDER AGE"},
		{"Event", "LAST SEEN TYPE REASON OBJECT MESSAGE", "LAST SEEN TYPE REASON OBJECT SUBOBJECT SOURCE MESSAGE FIRST SEEN COUNT NAME"},
		{"Widget", "NAME AGE", "NAME AGE"},
	} {
		for _, wide := range []bool{false, true} {
			want := c.normal
			if wide {
				want = c.wide
			}
			if got := strings.Join(Table(c.kind, nil, now, wide, false)[0], " "); got != want {
				t.Errorf("%s wide=%v header\n got %s\nwant %s", c.kind, wide, got, want)
			}
		}
		var all []string
		for _, col := range Columns(c.kind) {
			all = append(all, col.Name)
		}
		if got := strings.Join(all, " "); got != c.wide {
			t.Errorf("Columns(%s) = %s, want %s", c.kind, got, c.wide)
		}
		for i, d := range TableColumns(c.kind) {
			if Columns(c.kind)[i].Wide != (d.Priority == 1) || d.Type == "" || d.Description == "" {
				t.Errorf("TableColumns(%s)[%d] = %+v, inconsistent with Columns or incomplete", c.kind, i, d)
			}
		}
	}
}

// emptyObjects has a zero value and a nil pointer of every printed type, and
// values that are no objects at all: none may panic, every row fits its header.
func emptyObjects() []runtime.Object {
	return []runtime.Object{
		&corev1.Pod{}, (*corev1.Pod)(nil),
		&appsv1.Deployment{}, (*appsv1.Deployment)(nil),
		&appsv1.ReplicaSet{}, (*appsv1.ReplicaSet)(nil),
		&appsv1.StatefulSet{}, (*appsv1.StatefulSet)(nil),
		&appsv1.DaemonSet{}, (*appsv1.DaemonSet)(nil),
		&batchv1.Job{}, (*batchv1.Job)(nil),
		&corev1.Service{}, (*corev1.Service)(nil),
		&corev1.Endpoints{}, (*corev1.Endpoints)(nil),
		&discoveryv1.EndpointSlice{}, (*discoveryv1.EndpointSlice)(nil),
		&networkingv1.Ingress{}, (*networkingv1.Ingress)(nil),
		&networkingv1.NetworkPolicy{}, (*networkingv1.NetworkPolicy)(nil),
		&networkingv1.IngressClass{}, (*networkingv1.IngressClass)(nil),
		&gatewayv1.GatewayClass{}, (*gatewayv1.GatewayClass)(nil),
		&gatewayv1.Gateway{}, (*gatewayv1.Gateway)(nil),
		&gatewayv1.HTTPRoute{}, (*gatewayv1.HTTPRoute)(nil),
		&gatewayv1.GRPCRoute{}, (*gatewayv1.GRPCRoute)(nil),
		&gatewayv1.ReferenceGrant{}, (*gatewayv1.ReferenceGrant)(nil),
		&corev1.Node{}, (*corev1.Node)(nil),
		&corev1.Namespace{}, (*corev1.Namespace)(nil),
		&corev1.ConfigMap{}, (*corev1.ConfigMap)(nil),
		&corev1.Secret{}, (*corev1.Secret)(nil),
		&corev1.Event{}, (*corev1.Event)(nil),
		&unstructured.Unstructured{}, (*unstructured.Unstructured)(nil),
		&corev1.PodList{}, &metav1.Status{}, nil,
	}
}

func TestEmptyObjects(t *testing.T) {
	for _, obj := range emptyObjects() {
		kind := kindOf(obj)
		row := Row(obj, now)
		if len(row) != len(Columns(kind)) {
			t.Errorf("%T: %d cells for %d columns", obj, len(row), len(Columns(kind)))
		}
		for _, wide := range []bool{false, true} {
			tab := Table(kind, []runtime.Object{obj}, now, wide, true)
			if len(tab) != 2 || len(tab[1]) != len(tab[0]) {
				t.Errorf("%T wide=%v: table %q", obj, wide, tab)
			}
		}
	}
	// The generic row of nothing.
	if got := strings.Join(Row(nil, now), "|"); got != "|<unknown>" {
		t.Errorf("Row(nil) = %s", got)
	}
	if got := strings.Join(Row((*corev1.Pod)(nil), now), "|"); got != "|0/0||0|<unknown>|<none>|<none>|<none>|<none>" {
		t.Errorf("Row of a nil pod = %s", got)
	}
}

func TestGeneric(t *testing.T) {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Pod") // TypeMeta does not choose the printer: the Go type does
	u.SetName("web-1")
	u.SetNamespace("shop")
	u.SetCreationTimestamp(ago(5 * time.Minute))
	checkRows(t, []rowCase{
		{"unstructured", u, "web-1|5m"},
		{"no creation time", &corev1.PodList{}, "|<unknown>"},
		{"status", &metav1.Status{}, "|<unknown>"},
	})
}

func TestTable(t *testing.T) {
	dep := func(ns, name string, ready int32) runtime.Object {
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, CreationTimestamp: ago(time.Hour)},
			Spec:       appsv1.DeploymentSpec{Replicas: ptr(int32(2))},
			Status:     appsv1.DeploymentStatus{ReadyReplicas: ready, UpdatedReplicas: 2, AvailableReplicas: ready},
		}
	}
	u := &unstructured.Unstructured{}
	u.SetName("raw")
	u.SetNamespace("shop")
	u.SetCreationTimestamp(ago(3 * time.Minute))
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", CreationTimestamp: ago(48 * time.Hour)}}
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "web.1", Namespace: "shop"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web"},
		Type:           "Normal", Reason: "Pulled", Message: "pulled", LastTimestamp: ago(time.Minute), FirstTimestamp: ago(time.Minute),
	}
	for _, c := range []struct {
		name        string
		kind        string
		objs        []runtime.Object
		wide, allNS bool
		want        []string
	}{
		{"deployments -A", "Deployment", []runtime.Object{dep("shop", "web", 2), dep("default", "db", 1)}, false, true, []string{
			"NAMESPACE|NAME|READY|UP-TO-DATE|AVAILABLE|AGE",
			"shop|web|2/2|2|2|60m",
			"default|db|1/2|2|1|60m",
		}},
		{"deployments -o wide", "Deployment", []runtime.Object{dep("shop", "web", 2)}, true, false, []string{
			"NAME|READY|UP-TO-DATE|AVAILABLE|AGE|CONTAINERS|IMAGES|SELECTOR",
			"web|2/2|2|2|60m|||",
		}},
		{"nodes -A have no namespace", "Node", []runtime.Object{node}, false, true, []string{
			"NAME|STATUS|ROLES|AGE|VERSION",
			"n1|Unknown|<none>|2d|",
		}},
		{"events without wide columns between", "Event", []runtime.Object{ev}, false, false, []string{
			"LAST SEEN|TYPE|REASON|OBJECT|MESSAGE",
			"60s|Normal|Pulled|pod/web|pulled",
		}},
		{"an object of another type keeps its name and age", "Deployment", []runtime.Object{u}, false, true, []string{
			"NAMESPACE|NAME|READY|UP-TO-DATE|AVAILABLE|AGE",
			"shop|raw||||3m",
		}},
		{"a kind without printer", "Widget", []runtime.Object{u, dep("shop", "web", 2)}, false, true, []string{
			"NAMESPACE|NAME|AGE",
			"shop|raw|3m",
			"shop|web|60m",
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, row := range Table(c.kind, c.objs, now, c.wide, c.allNS) {
				got = append(got, strings.Join(row, "|"))
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("table\n got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// TestRandomObjects prints objects of every type with a random part of their
// fields set, pointers nil or not, to hold Row to never panicking.
func TestRandomObjects(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, zero := range emptyObjects() {
		typ := reflect.TypeOf(zero)
		if typ == nil || typ.Kind() != reflect.Pointer || typ.Elem().Kind() != reflect.Struct {
			continue
		}
		for range 300 {
			v := reflect.New(typ.Elem())
			fill(rng, v.Elem(), 0)
			obj := v.Interface().(runtime.Object)
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("%T panicked: %v\n%+v", obj, r, obj)
					}
				}()
				if n, want := len(Row(obj, now)), len(Columns(kindOf(obj))); n != want {
					t.Fatalf("%T: %d cells for %d columns", obj, n, want)
				}
				Table(kindOf(obj), []runtime.Object{obj}, now, false, true)
			}()
		}
	}
}

// fill sets about half of v's settable fields to small random values.
func fill(rng *rand.Rand, v reflect.Value, depth int) {
	if depth > 10 || !v.CanSet() {
		return
	}
	if v.Type() == reflect.TypeFor[time.Time]() {
		v.Set(reflect.ValueOf(now.Add(time.Duration(rng.IntN(1e6)-1e5) * time.Second)))
		return
	}
	words := []string{"", "a", "Running", "True", "Completed", "Always", "LoadBalancer", "10.0.0.1", "node-role.kubernetes.io/x"}
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && rng.IntN(2) == 0 {
				fill(rng, v.Field(i), depth+1)
			}
		}
	case reflect.Pointer:
		if rng.IntN(2) == 0 {
			p := reflect.New(v.Type().Elem())
			fill(rng, p.Elem(), depth+1)
			v.Set(p)
		}
	case reflect.Slice:
		n := rng.IntN(5)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range rng.IntN(3) {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(rng, k, depth+1)
			fill(rng, e, depth+1)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.String:
		v.SetString(words[rng.IntN(len(words))])
	case reflect.Bool:
		v.SetBool(rng.IntN(2) == 0)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(rng.IntN(7) - 1))
	}
}
