package patch

import (
	"fmt"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// The scale subresource (kubectl scale: a merge patch {"spec":{"replicas":N}}
// to .../deployments/NAME/scale, or a GET and a PUT with --current-replicas)
// is an autoscaling/v1 Scale standing for the parent's replicas, as the API
// server's deployment, replicaset, statefulset and replicationcontroller
// storages serve it.

var scaleGVK = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

// scaleScheme types the Scale alone: the store never holds one.
var scaleScheme = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := autoscalingv1.AddToScheme(s); err != nil {
		panic(err) // compiled-in types: a failure is a bug
	}
	return s
})

// replicasPath is where each parent keeps what Scale's spec.replicas stands for.
var replicasPath = fieldpath.MakePathOrDie("spec", "replicas")

// ScaleOf is the Scale of a Deployment, ReplicaSet, StatefulSet or
// ReplicationController (GET .../scale), with the managedFields that concern
// its replicas.
func ScaleOf(parent runtime.Object) (*autoscalingv1.Scale, error) {
	var m metav1.Object
	var replicas *int32
	var status int32
	var selector string
	switch p := parent.(type) {
	case *appsv1.Deployment:
		m, replicas, status, selector = p, p.Spec.Replicas, p.Status.Replicas, labelSelector(p.Spec.Selector)
	case *appsv1.ReplicaSet:
		m, replicas, status, selector = p, p.Spec.Replicas, p.Status.Replicas, labelSelector(p.Spec.Selector)
	case *appsv1.StatefulSet:
		m, replicas, status, selector = p, p.Spec.Replicas, p.Status.Replicas, labelSelector(p.Spec.Selector)
	case *corev1.ReplicationController:
		m, replicas, status, selector = p, p.Spec.Replicas, p.Status.Replicas, labels.SelectorFromSet(p.Spec.Selector).String()
	default:
		return nil, noScale(parent)
	}
	scale := &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: scaleGVK.GroupVersion().String(), Kind: scaleGVK.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: 1}, // the API server's default for an unset count
		Status: autoscalingv1.ScaleStatus{Replicas: status, Selector: selector},
	}
	if replicas != nil {
		scale.Spec.Replicas = *replicas
	}
	entries, err := scaleHandler(parent, m).ToSubresource()
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	scale.ManagedFields = entries
	return scale, nil
}

// ApplyScale patches parent's Scale (PATCH .../scale) and returns the parent
// with the new replica count and the Scale to answer with. o names the
// parent (Resource, Namespace, Name) and the manager; its Scheme and GVK are
// not used.
func ApplyScale(parent runtime.Object, patchType types.PatchType, body []byte, o Options) (runtime.Object, *autoscalingv1.Scale, error) {
	old, err := ScaleOf(parent)
	if err != nil {
		return nil, nil, err
	}
	so := o
	so.Scheme, so.GVK, so.Subresource = scaleScheme(), scaleGVK, "scale"
	patched, err := Apply(old, patchType, body, so)
	if err != nil {
		return nil, nil, err
	}
	return UpdateScale(parent, patched.(*autoscalingv1.Scale))
}

// UpdateScale sets parent's replicas from scale (PUT .../scale; ApplyScale's
// last step) and returns the new parent and its Scale. scale's managedFields
// are the Scale's (as ScaleOf and ApplyScale give them); a PUT's go through
// RecordUpdate with Subresource "scale" first.
func UpdateScale(parent runtime.Object, scale *autoscalingv1.Scale) (runtime.Object, *autoscalingv1.Scale, error) {
	if scale.Spec.Replicas < 0 {
		return nil, nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), scale.Name, field.ErrorList{
			field.Invalid(field.NewPath("spec", "replicas"), scale.Spec.Replicas, "must be greater than or equal to 0"),
		})
	}
	updated := parent.DeepCopyObject()
	var m metav1.Object
	replicas := scale.Spec.Replicas
	switch p := updated.(type) {
	case *appsv1.Deployment:
		m, p.Spec.Replicas = p, &replicas
	case *appsv1.ReplicaSet:
		m, p.Spec.Replicas = p, &replicas
	case *appsv1.StatefulSet:
		m, p.Spec.Replicas = p, &replicas
	case *corev1.ReplicationController:
		m, p.Spec.Replicas = p, &replicas
	default:
		return nil, nil, noScale(parent)
	}
	if scale.UID != "" && scale.UID != m.GetUID() {
		return nil, nil, apierrors.NewConflict(scaleResource(parent), scale.Name,
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", scale.UID, m.GetUID()))
	}
	entries, err := scaleHandler(parent, m).ToParent(scale.ManagedFields)
	if err != nil {
		return nil, nil, apierrors.NewInternalError(err)
	}
	m.SetManagedFields(entries)
	newScale, err := ScaleOf(updated)
	if err != nil {
		return nil, nil, err
	}
	return updated, newScale, nil
}

func noScale(parent runtime.Object) error {
	return apierrors.NewBadRequest(fmt.Sprintf("%T has no scale subresource", parent))
}

// scaleResource names the subresource in errors: deployments.apps/scale, ...
func scaleResource(parent runtime.Object) schema.GroupResource {
	gvk := parent.GetObjectKind().GroupVersionKind()
	if gvks, _, err := scaleParents().ObjectKinds(parent); err == nil && len(gvks) > 0 {
		gvk = gvks[0]
	}
	return schema.GroupResource{Group: gvk.Group, Resource: strings.ToLower(gvk.Kind) + "s/scale"}
}

// scaleParents types the kinds with a scale subresource.
var scaleParents = sync.OnceValue(func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{appsv1.AddToScheme, corev1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err) // compiled-in types: a failure is a bug
		}
	}
	return s
})

func scaleHandler(parent runtime.Object, m metav1.Object) *managedfields.ScaleHandler {
	gv := appsv1.SchemeGroupVersion
	if _, ok := parent.(*corev1.ReplicationController); ok {
		gv = corev1.SchemeGroupVersion
	}
	return managedfields.NewScaleHandler(m.GetManagedFields(), gv, managedfields.ResourcePathMappings{gv.String(): replicasPath})
}

func labelSelector(s *metav1.LabelSelector) string {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return ""
	}
	return sel.String()
}
