package store

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// The Gateway API kinds are typed: KindOf, Decode and the stored apiVersion know
// them, and a v1beta1 manifest is kept as the v1 type.
func TestGatewayAPIKinds(t *testing.T) {
	for _, c := range []struct {
		apiVersion, kind, json string
		want                   Object
	}{
		{"gateway.networking.k8s.io/v1", "GatewayClass", `{"metadata":{"name":"gc"},"spec":{"controllerName":"podlab.dev/ingress"}}`, &gatewayv1.GatewayClass{}},
		{"gateway.networking.k8s.io/v1", "Gateway", `{"metadata":{"name":"gw"},"spec":{"gatewayClassName":"gc","listeners":[{"name":"http","port":80,"protocol":"HTTP"}]}}`, &gatewayv1.Gateway{}},
		{"gateway.networking.k8s.io/v1", "HTTPRoute", `{"metadata":{"name":"r"},"spec":{"parentRefs":[{"name":"gw"}]}}`, &gatewayv1.HTTPRoute{}},
		{"gateway.networking.k8s.io/v1", "GRPCRoute", `{"metadata":{"name":"r"},"spec":{}}`, &gatewayv1.GRPCRoute{}},
		{"gateway.networking.k8s.io/v1", "ReferenceGrant", `{"metadata":{"name":"g"},"spec":{"from":[],"to":[]}}`, &gatewayv1.ReferenceGrant{}},
		{"gateway.networking.k8s.io/v1beta1", "Gateway", `{"metadata":{"name":"gw"},"spec":{"gatewayClassName":"gc"}}`, &gatewayv1.Gateway{}},
		{"gateway.networking.k8s.io/v1beta1", "HTTPRoute", `{"metadata":{"name":"r"},"spec":{"hostnames":["a.example"]}}`, &gatewayv1.HTTPRoute{}},
		{"gateway.networking.k8s.io/v1beta1", "ReferenceGrant", `{"metadata":{"name":"g"},"spec":{}}`, &gatewayv1.ReferenceGrant{}},
		{"gateway.networking.k8s.io/v1beta1", "GatewayClass", `{"metadata":{"name":"gc"},"spec":{"controllerName":"x.io/y"}}`, &gatewayv1.GatewayClass{}},
	} {
		o, err := Decode(c.apiVersion, c.kind, []byte(c.json))
		if err != nil {
			t.Fatalf("%s %s: %v", c.apiVersion, c.kind, err)
		}
		if got, want := typeName(o), typeName(c.want); got != want {
			t.Errorf("%s %s decodes to %s, want %s", c.apiVersion, c.kind, got, want)
		}
		if KindOf(o) != c.kind {
			t.Errorf("KindOf(%s %s) = %q", c.apiVersion, c.kind, KindOf(o))
		}
		if got := o.GetObjectKind().GroupVersionKind().GroupVersion().String(); got != "gateway.networking.k8s.io/v1" {
			t.Errorf("%s %s: apiVersion %q, want gateway.networking.k8s.io/v1", c.apiVersion, c.kind, got)
		}
	}
}

func typeName(o any) string { return fmt.Sprintf("%T", o) }

// A v1beta1 object handed to the store in Go is kept as v1; its status is written
// through UpdateStatus only, and it survives a reload as v1.
func TestGatewayStoredAsV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.ndjson")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	gw := &gatewayv1beta1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "gw"},
		Spec: gatewayv1.GatewaySpec{GatewayClassName: "gc", Listeners: []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}}}}
	o, err := s.Create(gw)
	if err != nil {
		t.Fatal(err)
	}
	v1, ok := o.(*gatewayv1.Gateway)
	if !ok {
		t.Fatalf("stored as %T, want *v1.Gateway", o)
	}
	if v1.APIVersion != "gateway.networking.k8s.io/v1" || v1.Kind != "Gateway" || v1.Generation != 1 {
		t.Fatalf("type meta %+v, generation %d", v1.TypeMeta, v1.Generation)
	}
	if got, ok := s.Get("Gateway", "default", "gw"); !ok || got != o {
		t.Fatalf("Get(Gateway) = %v, %v", got, ok)
	}

	// status: only through UpdateStatus; a spec change in the same object is ignored
	st := v1.DeepCopy()
	st.Spec.GatewayClassName = "other"
	st.Status.Conditions = []metav1.Condition{{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed"}}
	st.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Value: "10.0.0.1"}}
	o, err = s.UpdateStatus(st)
	if err != nil {
		t.Fatal(err)
	}
	got := o.(*gatewayv1.Gateway)
	if got.Spec.GatewayClassName != "gc" || len(got.Status.Conditions) != 1 || got.Generation != 1 {
		t.Fatalf("after UpdateStatus: class %q, conditions %v, generation %d", got.Spec.GatewayClassName, got.Status.Conditions, got.Generation)
	}
	upd := got.DeepCopy()
	upd.Status = gatewayv1.GatewayStatus{}
	upd.Spec.Listeners[0].Port = 8080
	o, err = s.Update((*gatewayv1beta1.Gateway)(upd))
	if err != nil {
		t.Fatal(err)
	}
	got = o.(*gatewayv1.Gateway)
	if got.Generation != 2 || len(got.Status.Addresses) != 1 {
		t.Fatalf("after Update: generation %d, status %+v", got.Generation, got.Status)
	}
	raw, err := s.JSON(o)
	if err != nil || !json.Valid(raw) {
		t.Fatalf("JSON: %s, %v", raw, err)
	}
	s.Close()

	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	re, ok := r.Get("Gateway", "default", "gw")
	if !ok {
		t.Fatal("Gateway lost in the reload")
	}
	if g, ok := re.(*gatewayv1.Gateway); !ok || g.Spec.Listeners[0].Port != 8080 || g.Status.Addresses[0].Value != "10.0.0.1" {
		t.Fatalf("reloaded %T %+v", re, re)
	}
}
