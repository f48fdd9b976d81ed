package patch

import (
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/yaml"

	"k8s.io/client-go/applyconfigurations"
	gatewayapply "sigs.k8s.io/gateway-api/applyconfiguration"
)

// serverSideApply merges an apply configuration into current (or into a new
// object when there is none) and records who owns which field, as the API
// server's applyPatcher does; conflicts are its 409 with the fields and managers.
func serverSideApply(current runtime.Object, body []byte, o Options) (runtime.Object, error) {
	applied := &unstructured.Unstructured{Object: map[string]any{}}
	if err := yaml.Unmarshal(body, &applied.Object); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
	}
	fm, err := fieldManager(o)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	live := current
	if live == nil {
		live = newObject(o)
	} else {
		live = withKind(current, o)
	}
	obj, err := fm.Apply(live, applied, o.FieldManager, o.Force)
	if err != nil {
		return nil, serverError(err)
	}
	if o.strict() {
		// Unknown fields fail the apply itself (they are not in the schema):
		// only duplicates are left to find.
		if err := yaml.UnmarshalStrict(body, &map[string]any{}); err != nil {
			if o.FieldValidation == metav1.FieldValidationStrict {
				return nil, apierrors.NewBadRequest(fmt.Sprintf("error strict decoding patch: %v", err))
			}
			if o.Warn != nil {
				o.Warn(err.Error())
			}
		}
	}
	if obj == nil {
		// The apply removed every field of an object that did not exist.
		return nil, apierrors.NewNotFound(o.groupResource(), o.Name)
	}
	obj.GetObjectKind().SetGroupVersionKind(o.GVK)
	return obj, nil
}

// RecordUpdate records in new's metadata.managedFields that o.FieldManager
// (see Manager) set the fields new changed from old, as the API server does
// for a POST (old nil), a PUT and a non-apply PATCH (Apply calls it itself).
// Fields the client sent in new's managedFields replace the record, as they do
// on the API server; an empty list resets it.
func RecordUpdate(old, new runtime.Object, o Options) (runtime.Object, error) {
	o, err := o.complete(new)
	if err != nil {
		return nil, err
	}
	if old == nil {
		old = newObject(o)
	}
	return recordUpdate(old, new, o)
}

func recordUpdate(old, new runtime.Object, o Options) (runtime.Object, error) {
	fm, err := fieldManager(o)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	// The API server never fails a write over its bookkeeping: on error the
	// old record stays (UpdateNoErrors).
	obj := fm.UpdateNoErrors(withKind(old, o), withKind(new, o), o.FieldManager)
	obj.GetObjectKind().SetGroupVersionKind(o.GVK)
	return obj, nil
}

// fieldManagers caches one FieldManager per scheme, kind and subresource:
// building one parses the kind's schema.
var fieldManagers sync.Map // fieldManagerKey -> *managedfields.FieldManager

type fieldManagerKey struct {
	scheme      *runtime.Scheme
	gvk         schema.GroupVersionKind
	subresource string
}

func fieldManager(o Options) (*managedfields.FieldManager, error) {
	key := fieldManagerKey{o.Scheme, o.GVK, o.Subresource}
	if fm, ok := fieldManagers.Load(key); ok {
		return fm.(*managedfields.FieldManager), nil
	}
	tc, k := typeConverter(o), kinds{o.Scheme}
	var fm *managedfields.FieldManager
	var err error
	if isBuiltin(o) {
		fm, err = managedfields.NewDefaultFieldManager(tc, k, k, k, o.GVK, o.GVK.GroupVersion(), o.Subresource, resetFields(o))
	} else {
		fm, err = managedfields.NewDefaultCRDFieldManager(tc, k, k, k, o.GVK, o.GVK.GroupVersion(), o.Subresource, resetFields(o))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.GVK, err)
	}
	fieldManagers.Store(key, fm)
	return fm, nil
}

// typeConverter gives the structured-merge-diff schema of a kind: the ones
// client-go and the Gateway API generate from the same OpenAPI definitions the
// API server serves (so lists merge by their keys: containers by name, ports
// by containerPort and protocol), else a deduced one (every list atomic) for
// kinds without a Go type.
func typeConverter(o Options) managedfields.TypeConverter {
	probe := newObject(o)
	if _, ok := probe.(*unstructured.Unstructured); !ok {
		for _, tc := range []managedfields.TypeConverter{
			applyconfigurations.NewTypeConverter(o.Scheme),
			gatewayapply.NewTypeConverter(o.Scheme),
		} {
			if _, err := tc.ObjectToTyped(probe); err == nil {
				return tc
			}
		}
	}
	return managedfields.NewDeducedTypeConverter()
}
