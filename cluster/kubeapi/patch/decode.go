package patch

import (
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// transcode refuses a body that is not JSON (YAML for apply) before anything
// else, with the API server's messages (validateAndTranscodePatch).
func transcode(body []byte, patchType types.PatchType) ([]byte, error) {
	if patchType == types.ApplyYAMLPatchType {
		js, err := yaml.ToJSON(body)
		if err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("error encoding patch: %v", err))
		}
		return js, nil
	}
	if !json.Valid(body) {
		return nil, apierrors.NewBadRequest("invalid JSON patch")
	}
	return body, nil
}

// strict says whether unknown and duplicate fields are looked for
// (?fieldValidation=Strict, kubectl's default, or Warn).
func (o Options) strict() bool {
	return o.FieldValidation == metav1.FieldValidationStrict || o.FieldValidation == metav1.FieldValidationWarn
}

// warnOrFail reports strict decoding errors: as warnings under Warn, else as
// the API server's invalid "patch" field showing shown (the patched JSON for a
// JSON patch, the patch itself for a strategic one).
func (o Options) warnOrFail(errs []error, shown string) error {
	if len(errs) == 0 {
		return nil
	}
	if o.FieldValidation == metav1.FieldValidationWarn {
		for _, e := range errs {
			if o.Warn != nil {
				o.Warn(e.Error())
			}
		}
		return nil
	}
	return apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{
		field.Invalid(field.NewPath("patch"), shown, runtime.NewStrictDecodingError(errs).Error()),
	})
}

// newObject is an empty object of the request's kind: typed when the scheme
// knows it.
func newObject(o Options) runtime.Object {
	if obj, err := o.Scheme.New(o.GVK); err == nil {
		obj.GetObjectKind().SetGroupVersionKind(o.GVK)
		return obj
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(o.GVK)
	return u
}

// withKind is a copy of obj with apiVersion and kind filled, so that the
// patched document carries them as the API server's does.
func withKind(obj runtime.Object, o Options) runtime.Object {
	c := obj.DeepCopyObject()
	c.GetObjectKind().SetGroupVersionKind(o.GVK)
	return c
}

// fromMap turns a patched document back into the request's type as the API
// server decodes it: a changed kind, fields of the wrong type and (under
// strict validation) unknown fields are an invalid "patch" showing shown;
// strictErrs are the patch's own (duplicate fields).
func fromMap(m map[string]any, shown string, strictErrs []error, o Options) (runtime.Object, error) {
	obj := newObject(o)
	if err := checkKind(m, obj, shown, o); err != nil {
		return nil, err
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		u.Object = m
		return u, o.warnOrFail(strictErrs, shown)
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(m, obj, o.strict()); err != nil {
		strictErr, ok := runtime.AsStrictDecodingError(err)
		if !ok {
			return nil, apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{
				field.Invalid(field.NewPath("patch"), shown, err.Error()),
			})
		}
		strictErrs = append(strictErrs, strictErr.Errors()...)
	}
	if err := o.warnOrFail(strictErrs, shown); err != nil {
		return nil, err
	}
	obj.GetObjectKind().SetGroupVersionKind(o.GVK)
	return obj, nil
}

// checkKind refuses a patch that changed apiVersion or kind: the API server
// fails to decode the patched JSON into the URL's type and says so
// (runtime.DecodeInto's message).
func checkKind(m map[string]any, into runtime.Object, shown string, o Options) error {
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if apiVersion == o.GVK.GroupVersion().String() && kind == o.GVK.Kind {
		return nil
	}
	gvk := schema.FromAPIVersionAndKind(apiVersion, kind)
	return apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{
		field.Invalid(field.NewPath("patch"), shown, fmt.Sprintf("unable to decode %s into %v", gvk, reflect.TypeOf(into))),
	})
}
