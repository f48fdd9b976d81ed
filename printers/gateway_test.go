package printers

import (
	"bytes"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestIngressClass(t *testing.T) {
	checkRows(t, []rowCase{
		{"no parameters", &networkingv1.IngressClass{ObjectMeta: meta("nginx"), Spec: networkingv1.IngressClassSpec{Controller: "k8s.io/ingress-nginx"}},
			"nginx|k8s.io/ingress-nginx|<none>|3h"},
		{"parameters with a group", &networkingv1.IngressClass{ObjectMeta: meta("lb"), Spec: networkingv1.IngressClassSpec{
			Controller: "example.com/lb",
			Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr("k8s.example.com"), Kind: "IngressParameters", Name: "external-lb"},
		}}, "lb|example.com/lb|IngressParameters.k8s.example.com/external-lb|3h"},
		{"parameters in the core group", &networkingv1.IngressClass{ObjectMeta: meta("lb"), Spec: networkingv1.IngressClassSpec{
			Controller: "example.com/lb", Parameters: &networkingv1.IngressClassParametersReference{Kind: "ConfigMap", Name: "lb"},
		}}, "lb|example.com/lb|ConfigMap/lb|3h"},
	})
}

func cond(typ string, status metav1.ConditionStatus) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: "R"}
}

func TestGatewayAPIRows(t *testing.T) {
	checkRows(t, []rowCase{
		{"gateway class, not seen by its controller", &gatewayv1.GatewayClass{ObjectMeta: meta("podlab"),
			Spec: gatewayv1.GatewayClassSpec{ControllerName: "podlab.dev/gateway"}},
			"podlab|podlab.dev/gateway|Unknown|3h|"},
		{"gateway class accepted, described", &gatewayv1.GatewayClass{ObjectMeta: meta("podlab"),
			Spec:   gatewayv1.GatewayClassSpec{ControllerName: "podlab.dev/gateway", Description: ptr("the lab's")},
			Status: gatewayv1.GatewayClassStatus{Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue)}}},
			"podlab|podlab.dev/gateway|True|3h|the lab's"},
		{"gateway pending", &gatewayv1.Gateway{ObjectMeta: meta("web"), Spec: gatewayv1.GatewaySpec{GatewayClassName: "podlab"}},
			"web|podlab||Unknown|3h"},
		{"gateway programmed: the first address", &gatewayv1.Gateway{ObjectMeta: meta("web"), Spec: gatewayv1.GatewaySpec{GatewayClassName: "podlab"},
			Status: gatewayv1.GatewayStatus{
				Addresses:  []gatewayv1.GatewayStatusAddress{{Value: "10.0.0.2"}, {Value: "10.0.0.1"}},
				Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue), cond("Programmed", metav1.ConditionFalse)},
			}}, "web|podlab|10.0.0.2|False|3h"},
		{"gateway with conditions but no Programmed", &gatewayv1.Gateway{ObjectMeta: meta("web"),
			Status: gatewayv1.GatewayStatus{Conditions: []metav1.Condition{cond("Accepted", metav1.ConditionTrue)}}},
			"web||||3h"},
		{"http route without hostnames", &gatewayv1.HTTPRoute{ObjectMeta: meta("web")}, "web||3h"},
		{"http route hostnames as JSON", &gatewayv1.HTTPRoute{ObjectMeta: meta("web"),
			Spec: gatewayv1.HTTPRouteSpec{Hostnames: []gatewayv1.Hostname{"shop.example", "*.shop.example"}}},
			`web|["shop.example","*.shop.example"]|3h`},
		{"grpc route", &gatewayv1.GRPCRoute{ObjectMeta: meta("users"),
			Spec: gatewayv1.GRPCRouteSpec{Hostnames: []gatewayv1.Hostname{"grpc.example"}}},
			`users|["grpc.example"]|3h`},
		{"reference grant", &gatewayv1.ReferenceGrant{ObjectMeta: meta("allow")}, "allow|3h"},
	})
}

// The tables print as kubectl prints them for the CRDs: GatewayClass has no
// NAMESPACE column even with -A.
func TestGatewayAPITables(t *testing.T) {
	gc := &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "podlab", CreationTimestamp: ago(90 * time.Second)},
		Spec: gatewayv1.GatewayClassSpec{ControllerName: "podlab.dev/gateway"}}
	gw := &gatewayv1.Gateway{ObjectMeta: meta("web"), Spec: gatewayv1.GatewaySpec{GatewayClassName: "podlab"},
		Status: gatewayv1.GatewayStatus{Addresses: []gatewayv1.GatewayStatusAddress{{Value: "10.0.0.1"}},
			Conditions: []metav1.Condition{cond("Programmed", metav1.ConditionTrue)}}}
	rt := &gatewayv1.HTTPRoute{ObjectMeta: meta("shop"), Spec: gatewayv1.HTTPRouteSpec{Hostnames: []gatewayv1.Hostname{"shop.example"}}}
	var b bytes.Buffer
	for _, tab := range [][][]string{
		Table("GatewayClass", []runtime.Object{gc}, now, false, true),
		Table("Gateway", []runtime.Object{gw}, now, false, true),
		Table("HTTPRoute", []runtime.Object{rt, &gatewayv1.HTTPRoute{ObjectMeta: meta("any")}}, now, false, false),
	} {
		if err := Write(&b, tab); err != nil {
			t.Fatal(err)
		}
	}
	want := `NAME     CONTROLLER           ACCEPTED   AGE
podlab   podlab.dev/gateway   Unknown    90s
NAMESPACE   NAME   CLASS    ADDRESS    PROGRAMMED   AGE
shop        web    podlab   10.0.0.1   True         3h
NAME   HOSTNAMES          AGE
shop   ["shop.example"]   3h
any                       3h
`
	if b.String() != want {
		t.Errorf("tables:\n%s\nwant:\n%s", b.String(), want)
	}
}
