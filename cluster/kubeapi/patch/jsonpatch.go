package patch

import (
	"encoding/json"
	"fmt"
	"net/http"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	kjson "sigs.k8s.io/json"
)

// maxJSONPatchOperations is the API server's limit on a JSON patch's length.
const maxJSONPatchOperations = 10000

// jsonPatchOp is one JSON patch operation, only to find unknown and
// duplicate fields in it under strict validation.
type jsonPatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	From  string `json:"from"`
	Value any    `json:"value"`
}

// jsonPatch applies an RFC 6902 JSON patch or an RFC 7386 merge patch to the
// object's JSON, as the API server's jsonPatcher does.
func jsonPatch(current runtime.Object, patchType types.PatchType, body []byte, o Options) (runtime.Object, error) {
	doc, err := json.Marshal(withKind(current, o))
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var patched []byte
	var strictErrs []error
	if patchType == types.JSONPatchType {
		if o.strict() {
			var ops []jsonPatchOp
			if strictErrs, err = kjson.UnmarshalStrict(body, &ops); err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
			}
			for i, e := range strictErrs {
				strictErrs[i] = fmt.Errorf("json patch %v", e)
			}
		}
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
		if o.strict() {
			if strictErrs, err = kjson.UnmarshalStrict(body, &map[string]any{}); err != nil {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
			}
		}
		if patched, err = jsonpatch.MergePatch(doc, body); err != nil {
			if err == jsonpatch.ErrBadJSONPatch {
				return nil, apierrors.NewBadRequest(err.Error())
			}
			return nil, serverError(err)
		}
	}
	m := map[string]any{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(patched, &m); err != nil {
		return nil, serverError(err)
	}
	return fromMap(m, string(patched), strictErrs, o)
}
