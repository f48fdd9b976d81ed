package patch

import (
	"net/http"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab.dev/podlab/cluster/store"
)

// TestScale: kubectl scale's merge patch to .../scale sets the parent's
// replicas and records kubectl-scale as their manager with subresource
// "scale", so that a later apply of other replicas conflicts with it, as on
// the API server.
func TestScale(t *testing.T) {
	parent := createdThroughAPI(t, deployment())
	scale, err := ScaleOf(parent)
	if err != nil {
		t.Fatal(err)
	}
	if scale.Spec.Replicas != 1 || scale.Status.Selector != "app=web" || scale.Name != "web" || scale.UID != "uid-web" {
		t.Errorf("ScaleOf = %+v", scale)
	}

	o := Options{FieldManager: "kubectl-scale", Resource: "deployments"}
	parent, scale, err = ApplyScale(parent, merge, []byte(`{"spec":{"replicas":3}}`), o)
	if err != nil {
		t.Fatal(err)
	}
	if r := *parent.(*appsv1.Deployment).Spec.Replicas; r != 3 || scale.Spec.Replicas != 3 {
		t.Errorf("replicas = %d, Scale's %d, want 3", r, scale.Spec.Replicas)
	}
	if got := fieldOf(t, parent, "spec.template.spec.containers.1.name"); got != "sidecar" {
		t.Errorf("the rest of the spec changed: containers.1.name = %q", got)
	}
	if !hasEntry(t, parent, `kubectl-scale/Update/scale: {"f:spec":{"f:replicas":{}}}`) {
		t.Errorf("managedFields = %q, want kubectl-scale's replicas with subresource scale", managedFields(t, parent))
	}

	_, err = Apply(parent, apply, []byte(ssaDeployment(5, "nginx:1.27", true)), Options{FieldManager: "kubectl", Scheme: store.Scheme()})
	checkStatus(t, 0, err, http.StatusConflict, `Apply failed with 1 conflict: conflict with "kubectl-scale" with subresource "scale" using apps/v1: .spec.replicas`)

	_, _, err = ApplyScale(parent, merge, []byte(`{"spec":{"replicas":-1}}`), o)
	checkStatus(t, 1, err, http.StatusUnprocessableEntity, `Scale.autoscaling "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`)

	_, _, err = ApplyScale(parent, merge, []byte(`{"metadata":{"uid":"other"}}`), o)
	checkStatus(t, 2, err, http.StatusConflict, `Operation cannot be fulfilled on deployments/scale.apps "web": Precondition failed: UID in precondition: other, UID in object meta: uid-web`)
}

func hasEntry(t *testing.T, obj runtime.Object, want string) bool {
	for _, e := range managedFields(t, obj) {
		if e == want {
			return true
		}
	}
	return false
}
