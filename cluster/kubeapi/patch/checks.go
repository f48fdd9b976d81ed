package patch

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validate checks the request's options with the API server's own
// ValidatePatchOptions.
func (o Options) validate(patchType types.PatchType) error {
	po := &metav1.PatchOptions{FieldManager: o.FieldManager, FieldValidation: o.FieldValidation}
	if o.Force {
		po.Force = &o.Force
	}
	if errs := validation.ValidatePatchOptions(po, patchType); len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Group: metav1.GroupName, Kind: "PatchOptions"}, "", errs)
	}
	return nil
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

// serverError is what the API server answers for an error that is not a
// Status: a 500 carrying the error's text as it is.
func serverError(err error) error {
	if _, ok := err.(apierrors.APIStatus); ok {
		return err
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusInternalServerError,
		Reason:  metav1.StatusReasonUnknown,
		Message: err.Error(),
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

// checkIdentity is the API server's check of the patched object against the
// URL (patcher.applyPatch): no uid on a creation, the request's namespace
// (filled in when left empty, cleared for cluster-scoped kinds), its name.
func (o Options) checkIdentity(obj runtime.Object, exists bool) error {
	m, err := meta.Accessor(obj)
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s based on URL) was undeterminable: %v", o.Name, err))
	}
	if !exists && m.GetUID() != "" {
		return apierrors.NewConflict(o.groupResource(), o.Name,
			fmt.Errorf("uid mismatch: the provided object specified uid %s, and no existing object was found", m.GetUID()))
	}
	namespace := o.Namespace
	if o.GVK.Group == "" && o.GVK.Kind == "Namespace" {
		namespace = ""
	}
	switch m.GetNamespace() {
	case namespace:
	case "":
		m.SetNamespace(namespace)
	default:
		if namespace != "" {
			return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		m.SetNamespace("")
	}
	if o.Name != "" && m.GetName() != o.Name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), o.Name))
	}
	obj.GetObjectKind().SetGroupVersionKind(o.GVK)
	return nil
}

// keepSystemMeta puts back the metadata a client may not change, as the API
// server's rest.BeforeUpdate does: creationTimestamp, deletionTimestamp,
// deletionGracePeriodSeconds and generation silently; uid is kept when left
// empty and refused when changed (ValidateObjectMetaUpdate).
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
	// A Scale's uid is a precondition on its parent, checked by UpdateScale
	// with the API server's conflict.
	if nm.GetUID() != om.GetUID() && o.GVK != scaleGVK {
		return apierrors.NewInvalid(o.GVK.GroupKind(), o.Name, field.ErrorList{
			field.Invalid(field.NewPath("metadata", "uid"), nm.GetUID(), "field is immutable"),
		})
	}
	nm.SetGeneration(om.GetGeneration())
	if ts := om.GetCreationTimestamp(); !ts.IsZero() {
		nm.SetCreationTimestamp(ts)
	}
	if !om.GetDeletionTimestamp().IsZero() {
		nm.SetDeletionTimestamp(om.GetDeletionTimestamp())
		nm.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	}
	return nil
}
