// Package printers owns the columns `kubectl get` shows for each kind: one row
// function per kind, written from kubectl's own printers
// (k8s.io/kubernetes/pkg/printers/internalversion, as of Kubernetes 1.32), so that
// `podlab get`, the TUI and a future Table endpoint print the same cells.
//
// It reads typed k8s.io/api objects and the Gateway API's v1 types, and never
// fetches, sorts or filters them: the caller lists the objects and decides their
// order. A row never panics on a
// partially filled object. Where the API server would have defaulted a field before
// kubectl saw it (a Service's type and protocols, replicas, a Secret's type, a
// Namespace's phase), the row shows that default, because podlab's objects may be
// stored as written.
package printers

import (
	"reflect"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/topology"
)

// Column is one column of a kind's table as kubectl heads it.
type Column struct {
	Name string // the header: "NAME", "CLUSTER-IP", "LAST SEEN"
	Wide bool   // shown only with -o wide (a TableColumnDefinition's Priority 1)
}

// printer is one kind's columns and row function. row returns a cell for every
// column, wide ones included; wide says whether the row is for -o wide, which
// changes some cells (kubectl clips load-balancer addresses to 16 characters
// without it).
type printer struct {
	columns []metav1.TableColumnDefinition
	row     func(obj runtime.Object, now time.Time, wide bool) []string
}

var byKind = map[string]printer{
	"Pod":           {podColumns, rowOf(podRow)},
	"Deployment":    {deploymentColumns, rowOf(deploymentRow)},
	"ReplicaSet":    {replicaSetColumns, rowOf(replicaSetRow)},
	"StatefulSet":   {statefulSetColumns, rowOf(statefulSetRow)},
	"DaemonSet":     {daemonSetColumns, rowOf(daemonSetRow)},
	"Job":           {jobColumns, rowOf(jobRow)},
	"Service":       {serviceColumns, rowOf(serviceRow)},
	"Endpoints":     {endpointsColumns, rowOf(endpointsRow)},
	"EndpointSlice": {endpointSliceColumns, rowOf(endpointSliceRow)},
	"Ingress":       {ingressColumns, rowOf(ingressRow)},
	"IngressClass":  {ingressClassColumns, rowOf(ingressClassRow)},
	"NetworkPolicy": {networkPolicyColumns, rowOf(networkPolicyRow)},
	"Node":          {nodeColumns, rowOf(nodeRow)},
	"Namespace":     {namespaceColumns, rowOf(namespaceRow)},
	"ConfigMap":     {configMapColumns, rowOf(configMapRow)},
	"Secret":        {secretColumns, rowOf(secretRow)},
	"Lease":         {leaseColumns, rowOf(leaseRow)},
	"Event":         {eventColumns, rowOf(eventRow)},

	"GatewayClass":   {gatewayClassColumns, rowOf(gatewayClassRow)},
	"Gateway":        {gatewayColumns, rowOf(gatewayRow)},
	"HTTPRoute":      {routeColumns, rowOf(httpRouteRow)},
	"GRPCRoute":      {routeColumns, rowOf(grpcRouteRow)},
	"ReferenceGrant": {referenceGrantColumns, rowOf(referenceGrantRow)},
}

// generic is kubectl's table for a kind it has no printer for (a custom resource
// without printer columns, or an *unstructured.Unstructured).
var generic = printer{[]metav1.TableColumnDefinition{nameColumn, ageColumn}, genericRow}

// kindOf names the kind of obj from its Go type, never from its TypeMeta, which
// decoded objects often leave empty. It returns "" for kinds without a printer.
func kindOf(obj runtime.Object) string {
	switch obj.(type) {
	case *corev1.Pod:
		return "Pod"
	case *appsv1.Deployment:
		return "Deployment"
	case *appsv1.ReplicaSet:
		return "ReplicaSet"
	case *appsv1.StatefulSet:
		return "StatefulSet"
	case *appsv1.DaemonSet:
		return "DaemonSet"
	case *batchv1.Job:
		return "Job"
	case *corev1.Service:
		return "Service"
	case *corev1.Endpoints:
		return "Endpoints"
	case *discoveryv1.EndpointSlice:
		return "EndpointSlice"
	case *networkingv1.Ingress:
		return "Ingress"
	case *networkingv1.IngressClass:
		return "IngressClass"
	case *networkingv1.NetworkPolicy:
		return "NetworkPolicy"
	case *corev1.Node:
		return "Node"
	case *corev1.Namespace:
		return "Namespace"
	case *corev1.ConfigMap:
		return "ConfigMap"
	case *corev1.Secret:
		return "Secret"
	case *coordinationv1.Lease:
		return "Lease"
	case *corev1.Event:
		return "Event"
	case *gatewayv1.GatewayClass:
		return "GatewayClass"
	case *gatewayv1.Gateway:
		return "Gateway"
	case *gatewayv1.HTTPRoute:
		return "HTTPRoute"
	case *gatewayv1.GRPCRoute:
		return "GRPCRoute"
	case *gatewayv1.ReferenceGrant:
		return "ReferenceGrant"
	}
	return ""
}

func printerFor(kind string) printer {
	if p, ok := byKind[kind]; ok {
		return p
	}
	return generic
}

// rowOf adapts a typed row function; a nil pointer of the right type prints as an
// empty object rather than panicking.
func rowOf[T any](f func(*T, time.Time, bool) []string) func(runtime.Object, time.Time, bool) []string {
	return func(obj runtime.Object, now time.Time, wide bool) []string {
		t, _ := any(obj).(*T)
		if t == nil {
			t = new(T)
		}
		return f(t, now, wide)
	}
}

// Columns returns kind's columns in kubectl's order, wide ones included. A kind
// without a printer has NAME and AGE.
func Columns(kind string) []Column {
	defs := printerFor(kind).columns
	cols := make([]Column, len(defs))
	for i, d := range defs {
		cols[i] = Column{Name: strings.ToUpper(d.Name), Wide: d.Priority != 0}
	}
	return cols
}

// TableColumns returns kind's columns as the API server describes them in a
// meta.k8s.io Table, for serving `kubectl get` directly. Cells from Row are strings
// even where the Type says integer; kubectl prints either the same way.
func TableColumns(kind string) []metav1.TableColumnDefinition {
	return append([]metav1.TableColumnDefinition(nil), printerFor(kind).columns...)
}

// Row returns obj's cells as `kubectl get -o wide` shows them, one for each of
// Columns(kind of obj), with ages measured at now. The kind comes from obj's Go
// type; other types, *unstructured.Unstructured included, give NAME and AGE.
func Row(obj runtime.Object, now time.Time) []string {
	return printerFor(kindOf(obj)).row(obj, now, true)
}

// Table returns the header and one row per object as `kubectl get KIND` prints
// them: without wide columns unless wide, and with a leading NAMESPACE column if
// withNamespace (kubectl's -A) and kind is namespaced. Objects stay in the order
// given. An object whose Go type is not kind's keeps its name and age under the
// NAME and AGE columns. With no objects, the table is the header alone (kubectl
// then prints "No resources found" instead).
func Table(kind string, objs []runtime.Object, now time.Time, wide, withNamespace bool) [][]string {
	p := printerFor(kind)
	withNamespace = withNamespace && !topology.ClusterScoped(kind)
	var shown []int
	header := []string{}
	if withNamespace {
		header = append(header, "NAMESPACE")
	}
	for i, d := range p.columns {
		if wide || d.Priority == 0 {
			shown = append(shown, i)
			header = append(header, strings.ToUpper(d.Name))
		}
	}
	table := [][]string{header}
	for _, obj := range objs {
		var cells []string
		if _, known := byKind[kind]; known && kindOf(obj) != kind {
			cells = nameAndAge(p.columns, obj, now)
		} else {
			cells = p.row(obj, now, wide)
		}
		row := make([]string, 0, len(header))
		if withNamespace {
			ns := ""
			if m := objectMeta(obj); m != nil {
				ns = m.GetNamespace()
			}
			row = append(row, ns)
		}
		for _, i := range shown {
			row = append(row, cells[i])
		}
		table = append(table, row)
	}
	return table
}

// nameAndAge fills a row of cols with only the object's name and age, for an
// object printed under another kind's header.
func nameAndAge(cols []metav1.TableColumnDefinition, obj runtime.Object, now time.Time) []string {
	g := genericRow(obj, now, true)
	cells := make([]string, len(cols))
	for i, c := range cols {
		switch {
		case c.Format == "name":
			cells[i] = g[0]
		case c.Name == "Age":
			cells[i] = g[1]
		}
	}
	return cells
}

func genericRow(obj runtime.Object, now time.Time, _ bool) []string {
	m := objectMeta(obj)
	if m == nil {
		return []string{"", "<unknown>"}
	}
	return []string{m.GetName(), since(m.GetCreationTimestamp(), now)}
}

// objectMeta returns obj's metadata, or nil for nil objects (typed nil pointers
// included, which would panic in their getters) and objects without metadata.
func objectMeta(obj runtime.Object) metav1.Object {
	if obj == nil {
		return nil
	}
	if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil
	}
	return m
}

// Age is kubectl's human duration for the AGE column: 5s, 119s, 2m3s, 10m, 3h4m,
// 2d3h, 5d, 2y45d, 9y. Durations a little below zero (clock skew) read 0s, others
// below -1s <invalid>.
func Age(d time.Duration) string {
	return duration.HumanDuration(d)
}

// since is kubectl's translateTimestampSince: the age of t at now.
func since(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return Age(now.Sub(t.Time))
}

func sinceMicro(t metav1.MicroTime, now time.Time) string {
	return since(metav1.Time{Time: t.Time}, now)
}

// The column definitions all kinds share, as kubectl writes them.
var (
	nameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
	ageColumn  = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}
)

func column(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

func wideColumn(name, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: "string", Priority: 1, Description: description}
}

// The wide CONTAINERS and IMAGES columns of the workload kinds.
var (
	containersColumn = wideColumn("Containers", "Names of each container in the template.")
	imagesColumn     = wideColumn("Images", "Images referenced by each container in the template.")
)
