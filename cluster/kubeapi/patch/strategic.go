package patch

import (
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/mergepatch"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	kjson "sigs.k8s.io/json"
)

// strategicPatch applies a strategic merge patch with the Go type's patch
// metadata (patchStrategy/patchMergeKey tags: containers merged by name, ...),
// as the API server's smpPatcher does. Custom resources have none: refused.
func strategicPatch(current runtime.Object, body []byte, o Options) (runtime.Object, error) {
	if !isBuiltin(o) {
		return nil, unsupportedMediaType(o)
	}
	original, err := runtime.DefaultUnstructuredConverter.ToUnstructured(withKind(current, o))
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	patchMap := map[string]any{}
	var strictErrs []error
	if o.strict() {
		strictErrs, err = kjson.UnmarshalStrict(body, &patchMap)
	} else {
		err = kjson.UnmarshalCaseSensitivePreserveInts(body, &patchMap)
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	patched, err := strategicpatch.StrategicMergeMapPatch(original, patchMap, newObject(o))
	if err != nil {
		return nil, strategicError(err)
	}
	// The API server decodes the merged map into the URL's Go type, whose
	// kind is its type's: a patched apiVersion or kind is ignored, not refused
	// as with JSON patches.
	patched["apiVersion"], patched["kind"] = o.GVK.GroupVersion().String(), o.GVK.Kind
	return fromMap(patched, fmt.Sprintf("%+v", patchMap), strictErrs, o)
}

// strategicError gives a strategic merge failure the API server's status
// (interpretStrategicMergePatchError).
func strategicError(err error) error {
	switch err {
	case mergepatch.ErrBadJSONDoc, mergepatch.ErrBadPatchFormatForPrimitiveList, mergepatch.ErrBadPatchFormatForRetainKeys,
		mergepatch.ErrBadPatchFormatForSetElementOrderList, mergepatch.ErrUnsupportedStrategicMergePatchFormat:
		return apierrors.NewBadRequest(err.Error())
	case mergepatch.ErrNoListOfLists, mergepatch.ErrPatchContentNotMatchRetainKeys:
		return apierrors.NewGenericServerResponse(http.StatusUnprocessableEntity, "", schema.GroupResource{}, "", err.Error(), 0, false)
	}
	return serverError(err)
}
