package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// Scheme knows the Go types of the kinds podlab types; other kinds are kept as
// unstructured objects. The Gateway API (gateway.networking.k8s.io) is typed too;
// its v1beta1 objects are stored as v1 (see canonical). It is built on first use,
// not at package init: every podlab command links this package, and most (the CLI's
// apply, get, version) never touch the scheme, only the supervisor does.
var Scheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, discoveryv1.AddToScheme, networkingv1.AddToScheme,
		batchv1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme, coordinationv1.AddToScheme,
		gatewayv1.Install, gatewayv1beta1.Install,
	} {
		if err := add(s); err != nil {
			panic(err) // the scheme is built from compiled-in types: a failure is a bug
		}
	}
	return s
})

// KindOf says what kind o is: from its Go type, else from its TypeMeta.
func KindOf(o runtime.Object) string {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u.GetKind()
	}
	if gvks, _, err := Scheme().ObjectKinds(o); err == nil && len(gvks) > 0 {
		return gvks[0].Kind
	}
	return o.GetObjectKind().GroupVersionKind().Kind
}

// setTypeMeta fills apiVersion and kind so that a stored object serializes as a
// Kubernetes client expects.
func setTypeMeta(o Object, kind string) {
	if _, ok := o.(*unstructured.Unstructured); ok {
		return
	}
	if gvks, _, err := Scheme().ObjectKinds(o); err == nil && len(gvks) > 0 {
		o.GetObjectKind().SetGroupVersionKind(gvks[0])
		return
	}
	gvk := o.GetObjectKind().GroupVersionKind()
	gvk.Kind = kind
	o.GetObjectKind().SetGroupVersionKind(gvk)
}

// Decode turns one object's JSON into its Go type (unstructured for kinds without one).
func Decode(apiVersion, kind string, data []byte) (Object, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, fmt.Errorf("apiVersion %q: %w", apiVersion, err)
	}
	gvk := storageVersion(gv.WithKind(kind))
	if typed, err := Scheme().New(gvk); err == nil {
		if err := json.Unmarshal(data, typed); err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		typed.GetObjectKind().SetGroupVersionKind(gvk)
		return typed.(Object), nil
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("%s: %w", kind, err)
	}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

// storageVersion is the version the store keeps an object of gvk in: v1 for the
// Gateway API kinds that v1 serves (an API server with the CRDs stores them so too),
// gvk itself otherwise. The v1beta1 types are v1's under other names (type Gateway
// v1.Gateway) with the same JSON, so nothing is lost.
func storageVersion(gvk schema.GroupVersionKind) schema.GroupVersionKind {
	if gvk.Group != gatewayv1.GroupName || gvk.Version == "v1" {
		return gvk
	}
	if v1 := (schema.GroupVersionKind{Group: gatewayv1.GroupName, Version: "v1", Kind: gvk.Kind}); Scheme().Recognizes(v1) {
		return v1
	}
	return gvk
}

// canonical is o as the store keeps it: a v1beta1 Gateway API object becomes its
// v1 type (a pointer conversion: the types are the same struct), so that components
// only handle the v1 types. Other objects are returned as they are.
func canonical(o Object) Object {
	switch t := o.(type) {
	case *gatewayv1beta1.GatewayClass:
		return (*gatewayv1.GatewayClass)(t)
	case *gatewayv1beta1.Gateway:
		return (*gatewayv1.Gateway)(t)
	case *gatewayv1beta1.HTTPRoute:
		return (*gatewayv1.HTTPRoute)(t)
	case *gatewayv1beta1.ReferenceGrant:
		return (*gatewayv1.ReferenceGrant)(t)
	}
	return o
}

// field returns the struct field name of o (a pointer to a struct), if it has one.
func field(o runtime.Object, name string) (reflect.Value, bool) {
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}, false
	}
	f := v.Elem().FieldByName(name)
	return f, f.IsValid()
}

// hasSpec says whether changes to o's kind count as generations (anything with a spec).
func hasSpec(o Object) bool {
	if u, ok := o.(*unstructured.Unstructured); ok {
		_, has := u.Object["spec"]
		return has
	}
	_, ok := field(o, "Spec")
	return ok
}

// specOf is everything of o a user declares: all but metadata and status.
func specOf(o Object) any {
	if u, ok := o.(*unstructured.Unstructured); ok {
		m := map[string]any{}
		for k, v := range u.Object {
			if k != "metadata" && k != "status" {
				m[k] = v
			}
		}
		return m
	}
	v := reflect.ValueOf(o).Elem()
	m := map[string]any{}
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if name != "TypeMeta" && name != "ObjectMeta" && name != "Status" {
			m[name] = v.Field(i).Interface()
		}
	}
	return m
}

func hasStatusField(o Object) bool {
	if u, ok := o.(*unstructured.Unstructured); ok {
		_, has := u.Object["status"]
		return has
	}
	_, ok := field(o, "Status")
	return ok
}

// setStatus copies from's status into to; false when the kind has none.
func setStatus(to, from Object) bool {
	if u, ok := to.(*unstructured.Unstructured); ok {
		fu, ok := from.(*unstructured.Unstructured)
		if !ok {
			return false
		}
		if st, has := fu.Object["status"]; has {
			u.Object["status"] = runtime.DeepCopyJSONValue(st)
		} else {
			delete(u.Object, "status")
		}
		return true
	}
	t, ok := field(to, "Status")
	if !ok {
		return false
	}
	f, ok := field(from, "Status")
	if !ok {
		return false
	}
	t.Set(f)
	return true
}

func equalObjects(a, b Object) bool { return apiequality.Semantic.DeepEqual(a, b) }

// randomSuffix is generateName's 5 characters.
func randomSuffix() string { return rand.String(5) }
