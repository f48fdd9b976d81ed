package patch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validate checks the request's options as the API server's
// ValidatePatchOptions does, with its messages.
func (o Options) validate(patchType types.PatchType) error {
	var errs field.ErrorList
	if patchType != types.ApplyYAMLPatchType {
		if o.Force {
			errs = append(errs, field.Forbidden(field.NewPath("force"), "may not be specified for non-apply patch"))
		}
	} else if o.FieldManager == "" {
		errs = append(errs, field.Required(field.NewPath("fieldManager"), "is required for apply patch"))
	}
	if len(o.FieldManager) > 128 {
		errs = append(errs, field.TooLong(field.NewPath("fieldManager"), "", 128))
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "PatchOptions"}, "", errs)
}

// patchTypes are the media types the API server accepts for a kind: custom
// resources (here: every kind whose Go type is not in k8s.io/api) have no
// strategic merge metadata.
func patchTypes(builtin bool) []string {
	if builtin {
		return []string{string(types.JSONPatchType), string(types.MergePatchType),
			string(types.StrategicMergePatchType), string(types.ApplyYAMLPatchType)}
	}
	return []string{string(types.JSONPatchType), string(types.MergePatchType), string(types.ApplyYAMLPatchType)}
}

// unsupportedMediaType is the API server's 415 for a patch type the kind does
// not take (negotiation.NewUnsupportedMediaTypeError).
func unsupportedMediaType(o Options) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure,
		Code:   http.StatusUnsupportedMediaType,
		Reason: metav1.StatusReasonUnsupportedMediaType,
		Message: "the body of the request was in an unknown format - accepted media types include: " +
			strings.Join(patchTypes(isBuiltin(o)), ", "),
	}}
}

// isBuiltin says whether the kind is served by the API server itself (its Go
// type lives in k8s.io/api) rather than by a CustomResourceDefinition, as the
// Gateway API's kinds are.
func isBuiltin(o Options) bool {
	obj, err := o.Scheme.New(o.GVK)
	if err != nil {
		return false
	}
	if _, ok := obj.(runtime.Unstructured); ok {
		return false
	}
	return strings.HasPrefix(reflect.TypeOf(obj).Elem().PkgPath(), "k8s.io/api/")
}

// checkKind refuses a JSON or strategic patch that changed apiVersion or kind:
// the API server fails to decode the patched JSON into the URL's type and says
// so (runtime.DecodeInto's message, wrapped as an invalid "patch" field).
func (o Options) checkKind(patched map[string]any, into runtime.Object) error {
	apiVersion, _ := patched["apiVersion"].(string)
	kind, _ := patched["kind"].(string)
	if apiVersion == o.GVK.GroupVersion().String() && kind == o.GVK.Kind {
		return nil
	}
	gvk := schema.FromAPIVersionAndKind(apiVersion, kind)
	js, _ := json.Marshal(patched)
	return apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{
		field.Invalid(field.NewPath("patch"), string(js), fmt.Sprintf("unable to decode %s into %v", gvk, reflect.TypeOf(into))),
	})
}

// checkIdentity refuses a patch that changed the name or namespace the URL
// names (checkName in the API server), and fills them in when left empty.
func (o Options) checkIdentity(obj runtime.Object) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s based on URL) was undeterminable: %v", o.Name, err))
	}
	if m.GetName() == "" && m.GetGenerateName() == "" {
		m.SetName(o.Name)
	}
	if m.GetName() != o.Name && o.Name != "" {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), o.Name))
	}
	if o.Namespace != "" {
		switch m.GetNamespace() {
		case "":
			m.SetNamespace(o.Namespace)
		case o.Namespace:
		default:
			return apierrors.NewBadRequest(fmt.Sprintf("the namespace of the object (%s) does not match the namespace on the request (%s)", m.GetNamespace(), o.Namespace))
		}
	}
	obj.GetObjectKind().SetGroupVersionKind(o.GVK)
	return nil
}

// keepSystemMeta puts back the metadata a client may not change, as the API
// server's rest.BeforeUpdate does: creationTimestamp, deletionTimestamp,
// deletionGracePeriodSeconds and generation silently, uid with an error when
// the patch changed it (left empty, it is kept).
func keepSystemMeta(old, patched runtime.Object, o Options) error {
	om, err := meta.Accessor(old)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	nm, err := meta.Accessor(patched)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if nm.GetUID() == "" {
		nm.SetUID(om.GetUID())
	}
	if nm.GetUID() != om.GetUID() {
		return apierrors.NewInvalid(o.GVK.GroupKind(), o.Name, field.ErrorList{
			field.Invalid(field.NewPath("metadata", "uid"), nm.GetUID(), "field is immutable"),
		})
	}
	nm.SetCreationTimestamp(om.GetCreationTimestamp())
	nm.SetGeneration(om.GetGeneration())
	if !om.GetDeletionTimestamp().IsZero() {
		nm.SetDeletionTimestamp(om.GetDeletionTimestamp())
		nm.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	}
	return nil
}
