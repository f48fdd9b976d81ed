package patch

import (
	"encoding/json"
	"fmt"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kjson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxJSONPatchOperations is the API server's limit on a JSON patch's length.
const maxJSONPatchOperations = 10000

// jsonPatch applies an RFC 6902 JSON patch or an RFC 7386 merge patch to the
// object's JSON, as the API server's jsonPatcher does.
func jsonPatch(current runtime.Object, patchType types.PatchType, body []byte, o Options) (runtime.Object, error) {
	doc, err := json.Marshal(withKind(current, o))
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var patched []byte
	if patchType == types.JSONPatchType {
		ops, err := jsonpatch.DecodePatch(body)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		if len(ops) > maxJSONPatchOperations {
			return nil, apierrors.NewRequestEntityTooLargeError(
				fmt.Sprintf("The allowed maximum operations in a JSON patch is %d, got %d", maxJSONPatchOperations, len(ops)))
		}
		if patched, err = ops.Apply(doc); err != nil {
			return nil, apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
		}
	} else {
		if patched, err = jsonpatch.MergePatch(doc, body); err != nil {
			if err == jsonpatch.ErrBadJSONPatch {
				return nil, apierrors.NewBadRequest(err.Error())
			}
			return nil, apierrors.NewInternalError(err)
		}
	}
	m := map[string]any{}
	if err := kjson.Unmarshal(patched, &m); err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	return fromMap(m, o)
}

// withKind is a copy of obj with apiVersion and kind filled, so that the
// patched document carries them as the API server's does.
func withKind(obj runtime.Object, o Options) runtime.Object {
	c := obj.DeepCopyObject()
	c.GetObjectKind().SetGroupVersionKind(o.GVK)
	return c
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

// fromMap turns a patched document back into the request's type, refusing a
// changed kind and fields of the wrong type as the API server does.
func fromMap(m map[string]any, o Options) (runtime.Object, error) {
	obj := newObject(o)
	if err := o.checkKind(m, obj); err != nil {
		return nil, err
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		u.Object = m
		return u, nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, obj); err != nil {
		js, _ := json.Marshal(m)
		return nil, apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{
			field.Invalid(field.NewPath("patch"), string(js), err.Error()),
		})
	}
	obj.GetObjectKind().SetGroupVersionKind(o.GVK)
	return obj, nil
}
