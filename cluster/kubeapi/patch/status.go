package patch

import (
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// A kind with a status has a status subresource: a write to the object
// leaves its status as it was, a write to /status leaves its spec, as the API
// server's strategies do (PrepareForUpdate) and as their reset fields tell the
// field manager, so that nobody is recorded owning what they could not change.
// Only typed kinds are covered; the handler owns the rest of a strategy.

// topField is the Status or Spec field of a typed object, invalid when it has
// none (ConfigMap, unstructured objects).
func topField(obj runtime.Object, name string) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	f := v.Elem().FieldByName(name)
	if !f.IsValid() || f.Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return f
}

// hasStatus says whether o's kind has a status subresource.
func hasStatus(o Options) bool {
	obj, err := o.Scheme.New(o.GVK)
	return err == nil && topField(obj, "Status").IsValid()
}

// keepOtherHalf puts back current's status into a write of the object, and
// current's spec into a write of /status.
func keepOtherHalf(current, patched runtime.Object, o Options) {
	name := "Status"
	if o.Subresource == "status" {
		name = "Spec"
	}
	from, to := topField(current.DeepCopyObject(), name), topField(patched, name)
	if from.IsValid() && to.IsValid() && from.Type() == to.Type() {
		to.Set(from)
	}
}

// resetFields are the fields the field manager drops from an apply and never
// records as owned: the other half, as in keepOtherHalf.
func resetFields(o Options) map[fieldpath.APIVersion]fieldpath.Filter {
	if !hasStatus(o) {
		return nil
	}
	reset := fieldpath.MakePathOrDie("status")
	if o.Subresource == "status" {
		reset = fieldpath.MakePathOrDie("spec")
	}
	return map[fieldpath.APIVersion]fieldpath.Filter{
		fieldpath.APIVersion(o.GVK.GroupVersion().String()): fieldpath.NewExcludeSetFilter(fieldpath.NewSet(reset)),
	}
}
