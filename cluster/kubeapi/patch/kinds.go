package patch

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// kinds serves the field manager's object creation and conversion: the
// scheme's for the kinds it types; a kind it does not know stays
// unstructured, as a custom resource does in the API server (the store keeps
// such objects unstructured too). Only one version of each kind is served, so
// there is nothing to convert between.
type kinds struct{ *runtime.Scheme }

func (k kinds) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	if obj, err := k.Scheme.New(gvk); err == nil {
		return obj, nil
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}

func (k kinds) ConvertToVersion(in runtime.Object, gv runtime.GroupVersioner) (runtime.Object, error) {
	if u, ok := in.(runtime.Unstructured); ok && !k.Scheme.Recognizes(in.GetObjectKind().GroupVersionKind()) {
		return u.(runtime.Object), nil
	}
	return k.Scheme.ConvertToVersion(in, gv)
}
