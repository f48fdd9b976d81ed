package store

import (
	"encoding/json"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
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
)

// Scheme knows the Go types of the kinds podlab types; other kinds are kept as
// unstructured objects.
var Scheme = runtime.NewScheme()

func init() {
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, discoveryv1.AddToScheme, networkingv1.AddToScheme,
		batchv1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme,
	} {
		if err := add(Scheme); err != nil {
			panic(err) // the scheme is built from compiled-in types: a failure is a bug
		}
	}
}

// KindOf says what kind o is: from its Go type, else from its TypeMeta.
func KindOf(o runtime.Object) string {
	if u, ok := o.(*unstructured.Unstructured); ok {
		return u.GetKind()
	}
	if gvks, _, err := Scheme.ObjectKinds(o); err == nil && len(gvks) > 0 {
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
	if gvks, _, err := Scheme.ObjectKinds(o); err == nil && len(gvks) > 0 {
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
	gvk := gv.WithKind(kind)
	if typed, err := Scheme.New(gvk); err == nil {
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
