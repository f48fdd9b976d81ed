// Package patch turns a PATCH request's body into the patched object, the way the
// Kubernetes API server does: strategic merge patch, JSON merge patch (RFC 7386),
// JSON patch (RFC 6902) and server-side apply, with metadata.managedFields kept
// up to date for every one of them.
//
// It is pure: it owns no object and does no I/O. The HTTP handler reads the stored
// object, calls Apply, and stores what comes back (resourceVersion, generation
// bumps, admission and persistence stay the handler's). Errors are
// *apierrors.StatusError values carrying the API server's code, reason and
// message, so the handler writes them out as they are.
//
// It follows k8s.io/apiserver's handlers/patch.go (v0.37) and uses the
// published pieces it uses: strategicpatch, gopkg.in/evanphx/json-patch.v4 and
// managedfields. Server-side apply types objects with the structured-merge-diff
// schemas client-go (applyconfigurations) and the Gateway API
// (applyconfiguration) generate from the OpenAPI definitions the API server
// serves, so lists merge by their keys as there; kinds without a Go type fall
// back to the deduced schema (every list atomic), as a CRD without a schema.
package patch

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Options says who patches what. Resource, Namespace and Name are the request
// URL's: they name NotFound errors and are checked against the patched object,
// as the API server checks them.
type Options struct {
	// FieldManager is ?fieldManager= (see Manager for the default the API
	// server takes from the User-Agent). Required for server-side apply.
	FieldManager string
	// Force is ?force=true (kubectl apply --server-side --force-conflicts);
	// only allowed for server-side apply.
	Force bool
	// Scheme knows the Go types (store.Scheme()); required.
	Scheme *runtime.Scheme
	// GVK is the object's kind; when empty it is taken from current.
	GVK schema.GroupVersionKind

	Resource    string // plural resource name, e.g. "deployments"
	Namespace   string
	Name        string
	Subresource string // "" or "status"; managedFields entries record it

	// FieldValidation is ?fieldValidation= ("Strict" is kubectl's default,
	// "Warn", "Ignore" or ""): unknown and duplicate fields are refused under
	// Strict and passed to Warn (one message each, for a Warning header)
	// under Warn.
	FieldValidation string
	Warn            func(message string)
}

// Apply patches current (the stored object, nil when there is none) with body
// and returns the new object, typed as current is. Only server-side apply may
// create an object (current nil).
func Apply(current runtime.Object, patchType types.PatchType, body []byte, o Options) (runtime.Object, error) {
	o, err := o.complete(current)
	if err != nil {
		return nil, err
	}
	if err := o.validate(patchType); err != nil {
		return nil, err
	}
	if body, err = transcode(body, patchType); err != nil {
		return nil, err
	}
	if current == nil && patchType != types.ApplyYAMLPatchType {
		return nil, apierrors.NewNotFound(o.groupResource(), o.Name)
	}

	var patched runtime.Object
	switch patchType {
	case types.JSONPatchType, types.MergePatchType:
		patched, err = jsonPatch(current, patchType, body, o)
	case types.StrategicMergePatchType:
		patched, err = strategicPatch(current, body, o)
	case types.ApplyYAMLPatchType:
		patched, err = serverSideApply(current, body, o)
	default:
		return nil, unsupportedMediaType(o)
	}
	if err != nil {
		return nil, err
	}
	if err := o.checkIdentity(patched, current != nil); err != nil {
		return nil, err
	}
	if current == nil {
		return patched, nil
	}
	if err := keepSystemMeta(current, patched, o); err != nil {
		return nil, err
	}
	keepOtherHalf(current, patched, o)
	if patchType == types.ApplyYAMLPatchType {
		return patched, nil // the apply itself recorded its managedFields
	}
	return recordUpdate(current, patched, o)
}

// Manager is the field manager the API server records for a request:
// ?fieldManager= when given, else the User-Agent's program name
// ("kubectl/v1.32.0 (linux/amd64) ..." -> "kubectl") without unprintable
// characters and cut to the 128 bytes a manager may have (prefixFromUserAgent).
func Manager(fieldManager, userAgent string) string {
	if fieldManager != "" {
		return fieldManager
	}
	prefix, _, _ := strings.Cut(userAgent, "/")
	var b strings.Builder
	for _, r := range prefix {
		if !unicode.IsPrint(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > validation.FieldManagerMaxLength {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// complete fills what Options can derive from current.
func (o Options) complete(current runtime.Object) (Options, error) {
	if o.Scheme == nil {
		return o, apierrors.NewInternalError(fmt.Errorf("patch: Options.Scheme is nil"))
	}
	if o.GVK.Empty() && current != nil {
		gvks, _, err := o.Scheme.ObjectKinds(current)
		if err != nil || len(gvks) == 0 {
			o.GVK = current.GetObjectKind().GroupVersionKind()
		} else {
			o.GVK = gvks[0]
		}
	}
	if o.GVK.Kind == "" {
		return o, apierrors.NewInternalError(fmt.Errorf("patch: the object's kind is unknown: set Options.GVK"))
	}
	if current != nil {
		if m, err := meta.Accessor(current); err == nil {
			if o.Name == "" {
				o.Name = m.GetName()
			}
			if o.Namespace == "" {
				o.Namespace = m.GetNamespace()
			}
		}
	}
	return o, nil
}

func (o Options) groupResource() schema.GroupResource {
	resource := o.Resource
	if resource == "" {
		// Only for messages: the handler knows the real plural.
		resource = strings.ToLower(o.GVK.Kind) + "s"
	}
	return schema.GroupResource{Group: o.GVK.Group, Resource: resource}
}
