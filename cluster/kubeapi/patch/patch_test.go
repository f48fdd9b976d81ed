package patch

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/cluster/store"
)

const (
	smp   = types.StrategicMergePatchType
	merge = types.MergePatchType
	jsonp = types.JSONPatchType
	apply = types.ApplyYAMLPatchType
)

var created = metav1.Date(2026, 12, 1, 10, 0, 0, 0, metav1.Now().Location())

// deployment is the stored "web" Deployment the patches start from: two
// containers, so that merging by name shows.
func deployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-web",
			CreationTimestamp: created, Generation: 1, ResourceVersion: "7",
			Labels: map[string]string{"app": "web"}},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{
					{Name: "web", Image: "nginx:1.27", Ports: []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}}},
					{Name: "sidecar", Image: "busybox:1.36", Command: []string{"sleep", "infinity"}},
				}},
			},
		},
	}
}

func httpRoute() *gatewayv1.HTTPRoute {
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-route", CreationTimestamp: created},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: "gw"}}},
			Hostnames:       []gatewayv1.Hostname{"web.example"},
			Rules: []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{
				BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "web", Port: ptr.To[gatewayv1.PortNumber](80)}},
			}}}},
		},
	}
}

// widget is an object of a kind podlab has no Go type for: the store keeps it
// unstructured.
func widget() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "namespace": "default", "uid": "uid-w"},
		"spec":     map[string]any{"size": int64(1), "color": "blue"},
	}}
}

func opts(manager string) Options {
	return Options{FieldManager: manager, Scheme: store.Scheme()}
}

// The kubectl bodies below are the ones kubectl v1.32 sends (seen with -v=8
// against this package behind the kubeapi handler): label and annotate send
// merge patches, set image and rollout restart strategic ones, apply
// --server-side the manifest as JSON.

// step is one request in a case: the patch, who sends it and what must follow.
type step struct {
	patchType types.PatchType
	body      string
	manager   string
	force     bool
	want      map[string]string // field path -> value as fmt prints it ("<none>" when absent)
	wantCode  int32             // an error's HTTP code, 0 for success
	wantMsg   string            // the error's message (exact)
}

func TestApply(t *testing.T) {
	restartedAt := "2026-12-02T11:00:00Z"
	cases := []struct {
		name    string
		current runtime.Object // nil: absent (only apply creates)
		opts    Options        // beyond the manager (Scheme is always store.Scheme())
		// untracked: current was stored without managedFields (not created
		// through the API), so updates are not tracked, as on the API server.
		untracked bool
		steps     []step
	}{
		{name: "kubectl label (merge patch, as kubectl 1.32 sends it)", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-label", body: `{"metadata":{"labels":{"tier":"frontend"}}}`,
			want: map[string]string{"metadata.labels.tier": "frontend", "metadata.labels.app": "web", "metadata.uid": "uid-web"},
		}, {
			patchType: merge, manager: "kubectl-label", body: `{"metadata":{"labels":{"tier":null}}}`,
			want: map[string]string{"metadata.labels.tier": "<none>", "metadata.labels.app": "web"},
		}}},
		{name: "kubectl annotate (merge patch)", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-annotate", body: `{"metadata":{"annotations":{"note":"hello"}}}`,
			want: map[string]string{"metadata.annotations.note": "hello", "managedFields": "kubectl-annotate/Update,kubectl-create/Update"},
		}}},
		{name: "label as a strategic merge patch", current: deployment(), steps: []step{{
			patchType: smp, manager: "kubectl-patch", body: `{"metadata":{"labels":{"tier":"frontend","app":null}}}`,
			want: map[string]string{"metadata.labels.tier": "frontend", "metadata.labels.app": "<none>"},
		}}},
		{name: "kubectl set image deploy/web web=nginx:1.28 merges containers by name", current: deployment(), steps: []step{{
			patchType: smp, manager: "kubectl-set", body: `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"},{"name":"sidecar"}],"containers":[{"image":"nginx:1.28","name":"web"}]}}}}`,
			want: map[string]string{"spec.template.spec.containers.0.image": "nginx:1.28",
				"spec.template.spec.containers.0.ports.0.containerPort": "80",
				"spec.template.spec.containers.1.name":                  "sidecar"},
		}}},
		{name: "kubectl rollout restart", current: deployment(), steps: []step{{
			patchType: smp, manager: "kubectl-rollout",
			body: `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"` + restartedAt + `"}}}}}`,
			want: map[string]string{"spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt": restartedAt,
				"spec.template.metadata.labels.app": "web", "managedFields": "kubectl-create/Update,kubectl-rollout/Update"},
		}}},
		{name: "kubectl apply (client side) with $setElementOrder and $patch delete", current: deployment(), steps: []step{{
			patchType: smp, manager: "kubectl-client-side-apply",
			body: `{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"web"}],"containers":[{"image":"nginx:1.28","name":"web"}]}}}}`,
			want: map[string]string{"spec.template.spec.containers.0.name": "sidecar", "spec.template.spec.containers.1.image": "nginx:1.28"},
		}, {
			patchType: smp, manager: "kubectl-patch", body: `{"spec":{"template":{"spec":{"containers":[{"$patch":"delete","name":"sidecar"}]}}}}`,
			want: map[string]string{"spec.template.spec.containers.0.name": "web", "spec.template.spec.containers.1.name": "<none>"},
		}}},
		{name: "strategic patch of the wrong type", current: deployment(), steps: []step{{
			patchType: smp, manager: "kubectl-patch", body: `{"spec":{"replicas":"two"}}`,
			wantCode: http.StatusUnprocessableEntity,
			wantMsg:  ` "" is invalid: patch: Invalid value: `,
		}}},
		{name: "merge patch replaces lists and deletes with null", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-patch",
			body: `{"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}},"metadata":{"labels":{"app":null}}}`,
			want: map[string]string{"spec.replicas": "3", "spec.template.spec.containers.0.image": "nginx:1.28",
				"spec.template.spec.containers.0.ports": "<none>", "spec.template.spec.containers.1": "<none>", "metadata.labels.app": "<none>"},
		}}},
		{name: "json patch ops", current: deployment(), steps: []step{{
			patchType: jsonp, manager: "kubectl-patch",
			body: `[{"op":"test","path":"/spec/replicas","value":1},{"op":"replace","path":"/spec/replicas","value":2},` +
				`{"op":"add","path":"/metadata/labels/example.com~1tier","value":"web"},{"op":"remove","path":"/spec/template/spec/containers/1"},` +
				`{"op":"copy","from":"/metadata/labels/app","path":"/metadata/labels/copy"},{"op":"move","from":"/metadata/labels/copy","path":"/metadata/labels/moved"},` +
				`{"op":"add","path":"/spec/template/spec/containers/0/args","value":["-g","daemon off;"]},{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"x"}]`,
			want: map[string]string{"spec.replicas": "2", "metadata.labels.example\\.com/tier": "web", "metadata.labels.moved": "web",
				"metadata.labels.copy": "<none>", "spec.template.spec.containers.1": "<none>", "spec.template.spec.containers.0.args.2": "x"},
		}}},
		{name: "json patch test fails", current: deployment(), steps: []step{{
			patchType: jsonp, manager: "kubectl-patch", body: `[{"op":"test","path":"/spec/replicas","value":5},{"op":"replace","path":"/spec/replicas","value":2}]`,
			wantCode: http.StatusUnprocessableEntity,
			wantMsg:  "the server rejected our request due to an error in our request",
		}}},
		{name: "json patch that is not a list", current: deployment(), steps: []step{{
			patchType: jsonp, manager: "kubectl-patch", body: `{"op":"add"}`,
			wantCode: http.StatusBadRequest,
			wantMsg:  "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
		}}},
		{name: "patch renaming the object", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"metadata":{"name":"other"}}`,
			wantCode: http.StatusBadRequest,
			wantMsg:  "the name of the object (other) does not match the name on the URL (web)",
		}}},
		{name: "patch moving the object to another namespace", current: deployment(), steps: []step{{
			patchType: smp, manager: "kubectl-patch", body: `{"metadata":{"namespace":"prod"}}`,
			wantCode: http.StatusBadRequest,
			wantMsg:  "the namespace of the provided object does not match the namespace sent on the request",
		}}},
		{name: "patch changing the kind", current: deployment(), steps: []step{{
			patchType: jsonp, manager: "kubectl-patch", body: `[{"op":"replace","path":"/kind","value":"StatefulSet"}]`,
			wantCode: http.StatusUnprocessableEntity,
			wantMsg:  "unable to decode apps/v1, Kind=StatefulSet into *v1.Deployment",
		}}},
		{name: "strategic patch changing the kind (ignored)", current: deployment(), steps: []step{{
			patchType: smp, manager: "kubectl-patch", body: `{"kind":"StatefulSet","spec":{"replicas":2}}`,
			want: map[string]string{"kind": "Deployment", "spec.replicas": "2"},
		}}},
		{name: "patch changing the uid", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"metadata":{"uid":"other"}}`,
			wantCode: http.StatusUnprocessableEntity,
			wantMsg:  `Deployment.apps "web" is invalid: metadata.uid: Invalid value: "other": field is immutable`,
		}}},
		{name: "system metadata is kept", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"metadata":{"creationTimestamp":"2020-01-01T00:00:00Z","generation":9,"uid":null}}`,
			want: map[string]string{"metadata.creationTimestamp": "2026-12-01T10:00:00Z", "metadata.generation": "1", "metadata.uid": "uid-web"},
		}}},
		{name: "patch of an absent object", steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"spec":{"replicas":2}}`,
			wantCode: http.StatusNotFound, wantMsg: `deployments.apps "web" not found`,
		}}, opts: Options{Resource: "deployments", Namespace: "default", Name: "web"}},
		{name: "force without apply", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-patch", force: true, body: `{}`,
			wantCode: http.StatusUnprocessableEntity,
			wantMsg:  `PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch`,
		}}},
		{name: "apply without a field manager", current: deployment(), steps: []step{{
			patchType: apply, body: `{}`,
			wantCode: http.StatusUnprocessableEntity,
			wantMsg:  `PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch`,
		}}},
		{name: "server-side apply creates, updates, conflicts, forces and prunes", opts: Options{Resource: "deployments", Namespace: "default", Name: "web"}, steps: []step{{
			patchType: apply, manager: "kubectl", body: ssaDeployment(1, "nginx:1.27", true),
			want: map[string]string{"spec.replicas": "1", "spec.template.spec.containers.1.name": "sidecar", "metadata.namespace": "default",
				"managedFields": "kubectl/Apply"},
		}, {
			patchType: apply, manager: "kubectl", body: ssaDeployment(1, "nginx:1.28", true),
			want: map[string]string{"spec.template.spec.containers.0.image": "nginx:1.28", "managedFields": "kubectl/Apply"},
		}, {
			patchType: apply, manager: "ci", body: ssaDeployment(3, "nginx:1.28", false),
			wantCode: http.StatusConflict,
			wantMsg:  `Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas`,
		}, {
			patchType: apply, manager: "ci", force: true, body: ssaDeployment(3, "nginx:1.28", false),
			want: map[string]string{"spec.replicas": "3", "managedFields": "ci/Apply,kubectl/Apply"},
		}, {
			// kubectl no longer owns replicas, so leaving it out keeps ci's 3;
			// leaving the sidecar out removes it, as kubectl alone owned it.
			patchType: apply, manager: "kubectl", body: ssaDeployment(0, "nginx:1.28", false),
			want: map[string]string{"spec.replicas": "3", "spec.template.spec.containers.0.name": "web",
				"spec.template.spec.containers.1": "<none>", "spec.template.spec.containers.0.ports.0.containerPort": "80"},
		}, {
			patchType: merge, manager: "kubectl-edit", body: `{"spec":{"replicas":5}}`,
			want: map[string]string{"spec.replicas": "5", "managedFields": "ci/Apply,kubectl/Apply,kubectl-edit/Update"},
		}, {
			patchType: apply, manager: "ci", body: ssaDeployment(4, "nginx:1.28", false),
			wantCode: http.StatusConflict,
			wantMsg:  `Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas`,
		}}},
		{name: "server-side apply of another version", current: deployment(), steps: []step{{
			patchType: apply, manager: "kubectl", body: `{"apiVersion":"apps/v1beta1","kind":"Deployment","metadata":{"name":"web"}}`,
			wantCode: http.StatusBadRequest,
			wantMsg:  "invalid object type: apps/v1beta1, Kind=Deployment",
		}}},
		{name: "server-side apply of bad YAML", current: deployment(), steps: []step{{
			patchType: apply, manager: "kubectl", body: "metadata: [",
			wantCode: http.StatusBadRequest,
			wantMsg:  "error encoding patch: yaml: line 1: did not find expected node content",
		}}},
		{name: "strict validation refuses an unknown field", current: deployment(), opts: Options{FieldValidation: "Strict"}, steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"spec":{"replicaz":2}}`,
			wantCode: http.StatusUnprocessableEntity, wantMsg: `strict decoding error: unknown field "spec.replicaz"`,
		}}},
		{name: "strict validation refuses a duplicate field", current: deployment(), opts: Options{FieldValidation: "Strict"}, steps: []step{{
			patchType: smp, manager: "kubectl-patch", body: `{"metadata":{"labels":{"a":"1","a":"2"}}}`,
			wantCode: http.StatusUnprocessableEntity, wantMsg: `strict decoding error: duplicate field "metadata.labels.a"`,
		}}},
		{name: "unknown fields are dropped without strict validation", current: deployment(), steps: []step{{
			patchType: jsonp, manager: "kubectl-patch", body: `[{"op":"add","path":"/spec/replicaz","value":2}]`,
			want: map[string]string{"spec.replicas": "1", "spec.replicaz": "<none>"},
		}}},
		{name: "a body that is not JSON", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"spec":`,
			wantCode: http.StatusBadRequest, wantMsg: "invalid JSON patch",
		}}},
		{name: "server-side apply creating with a uid", opts: Options{Resource: "deployments", Namespace: "default", Name: "web"}, steps: []step{{
			patchType: apply, manager: "kubectl", body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","uid":"x"}}`,
			wantCode: http.StatusConflict,
			wantMsg:  `Operation cannot be fulfilled on deployments.apps "web": uid mismatch: the provided object specified uid x, and no existing object was found`,
		}}},
		{name: "server-side apply of a field the schema does not have", current: deployment(), steps: []step{{
			patchType: apply, manager: "kubectl", body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicaz":2}}`,
			wantCode: http.StatusInternalServerError,
			wantMsg:  `failed to create typed patch object (/web; apps/v1, Kind=Deployment): .spec.replicaz: field not declared in schema`,
		}}},
		{name: "an object stored without managedFields", current: deployment(), untracked: true, steps: []step{{
			patchType: merge, manager: "kubectl-label", body: `{"metadata":{"labels":{"tier":"web"}}}`,
			want: map[string]string{"metadata.labels.tier": "web", "managedFields": ""},
		}, {
			// What was there belongs to "before-first-apply": the same values
			// do not conflict, other ones would.
			patchType: apply, manager: "kubectl", body: ssaDeployment(1, "nginx:1.27", true),
			want: map[string]string{"spec.replicas": "1", "managedFields": "kubectl/Apply,before-first-apply/Update"},
		}, {
			patchType: apply, manager: "kubectl", body: ssaDeployment(2, "nginx:1.27", true),
			wantCode: http.StatusConflict, wantMsg: `Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas`,
		}}},
		{name: "a kind without a Go type (unstructured)", current: widget(), steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"spec":{"size":3}}`,
			want: map[string]string{"spec.size": "3", "spec.color": "blue", "managedFields": "kubectl-create/Update,kubectl-patch/Update"},
		}, {
			patchType: smp, manager: "kubectl-patch", body: `{"spec":{"size":4}}`,
			wantCode: http.StatusUnsupportedMediaType, wantMsg: "accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
		}, {
			patchType: apply, manager: "kubectl", body: `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":5}}`,
			wantCode: http.StatusConflict, wantMsg: `Apply failed with 1 conflict: conflict with "kubectl-patch" using example.com/v1: .spec.size`,
		}, {
			patchType: apply, manager: "kubectl", force: true, body: `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":5}}`,
			want: map[string]string{"spec.size": "5", "spec.color": "blue"},
		}}},
		{name: "a write to the object leaves its status", current: deployment(), steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"spec":{"replicas":2},"status":{"replicas":9}}`,
			want: map[string]string{"spec.replicas": "2", "status.replicas": "<none>"},
		}, {
			patchType: apply, manager: "kubectl", force: true, body: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3},"status":{"replicas":9}}`,
			want: map[string]string{"spec.replicas": "3", "status.replicas": "<none>"},
		}}},
		{name: "a write to /status leaves the spec", current: deployment(), opts: Options{Subresource: "status"}, steps: []step{{
			patchType: merge, manager: "kube-controller-manager", body: `{"spec":{"replicas":2},"status":{"replicas":1,"readyReplicas":1}}`,
			want: map[string]string{"spec.replicas": "1", "status.readyReplicas": "1"},
		}}},
		{name: "HTTPRoute: merge patch", current: httpRoute(), steps: []step{{
			patchType: merge, manager: "kubectl-patch", body: `{"spec":{"hostnames":["web.example","www.example"]}}`,
			want: map[string]string{"spec.hostnames.1": "www.example", "spec.parentRefs.0.name": "gw", "managedFields": "kubectl-create/Update,kubectl-patch/Update"},
		}}},
		{name: "HTTPRoute: strategic merge patch is refused", current: httpRoute(), steps: []step{{
			patchType: smp, manager: "kubectl-patch", body: `{"spec":{"hostnames":["www.example"]}}`,
			wantCode: http.StatusUnsupportedMediaType,
			wantMsg:  "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
		}}},
		{name: "HTTPRoute: server-side apply", opts: Options{Resource: "httproutes", Namespace: "default", Name: "web"}, steps: []step{{
			patchType: apply, manager: "kubectl", body: ssaRoute("web.example"),
			want: map[string]string{"spec.hostnames.0": "web.example", "spec.rules.0.backendRefs.0.port": "80", "managedFields": "kubectl/Apply"},
		}, {
			patchType: apply, manager: "other", body: ssaRoute("www.example"),
			wantCode: http.StatusConflict,
			wantMsg:  `Apply failed with 1 conflict: conflict with "kubectl": .spec.hostnames`,
		}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			current := c.current
			if current != nil && !c.untracked {
				current = createdThroughAPI(t, current)
			}
			for i, s := range c.steps {
				o := c.opts
				o.Scheme, o.FieldManager, o.Force = store.Scheme(), s.manager, s.force
				if current == nil && o.GVK.Empty() {
					o.GVK = gvkOf(t, c.steps, c.name)
				}
				got, err := Apply(current, s.patchType, []byte(s.body), o)
				if s.wantCode != 0 {
					checkStatus(t, i, err, s.wantCode, s.wantMsg)
					continue
				}
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				for path, want := range s.want {
					if v := fieldOf(t, got, path); v != want {
						t.Errorf("step %d: %s = %q, want %q", i, path, v, want)
					}
				}
				current = got
			}
		})
	}
}

// createdThroughAPI records obj's creation by kubectl create, as the API
// server's POST does: without it the API server (and Apply) never starts
// tracking an object's fields on update.
func createdThroughAPI(t *testing.T, obj runtime.Object) runtime.Object {
	t.Helper()
	got, err := RecordUpdate(nil, obj, opts("kubectl-create"))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// gvkOf is the kind a case creates with server-side apply.
func gvkOf(t *testing.T, steps []step, name string) schema.GroupVersionKind {
	if strings.HasPrefix(name, "HTTPRoute") {
		return gatewayv1.SchemeGroupVersion.WithKind("HTTPRoute")
	}
	return appsv1.SchemeGroupVersion.WithKind("Deployment")
}

func checkStatus(t *testing.T, step int, err error, code int32, msg string) {
	t.Helper()
	status, ok := err.(*apierrors.StatusError)
	if !ok {
		t.Fatalf("step %d: error %v (%T), want a *StatusError %d", step, err, err, code)
	}
	if status.ErrStatus.Code != code || !strings.Contains(status.ErrStatus.Message, msg) {
		t.Errorf("step %d: status %d %q, want %d %q", step, status.ErrStatus.Code, status.ErrStatus.Message, code, msg)
	}
}

// fieldOf reads a dotted path ("a.b.0.c", "\." for a dot in a key) from obj's
// JSON form; "managedFields" lists manager/operation pairs.
func fieldOf(t *testing.T, obj runtime.Object, path string) string {
	t.Helper()
	if path == "managedFields" {
		m, err := meta.Accessor(obj)
		if err != nil {
			t.Fatal(err)
		}
		var entries []string
		for _, e := range m.GetManagedFields() {
			entries = append(entries, e.Manager+"/"+string(e.Operation))
		}
		return strings.Join(entries, ",")
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	var v any = u
	for _, key := range splitPath(path) {
		switch node := v.(type) {
		case map[string]any:
			v = node[key]
		case []any:
			i, err := strconv.Atoi(key)
			if err != nil || i >= len(node) {
				return "<none>"
			}
			v = node[i]
		default:
			return "<none>"
		}
		if v == nil {
			return "<none>"
		}
	}
	return fmt.Sprint(v)
}

func splitPath(path string) []string {
	parts := strings.Split(strings.ReplaceAll(path, `\.`, "\x00"), ".")
	for i := range parts {
		parts[i] = strings.ReplaceAll(parts[i], "\x00", ".")
	}
	return parts
}

// ssaDeployment is what kubectl apply --server-side sends for a manifest of the
// web Deployment (JSON, which is YAML too); replicas 0 leaves the field out.
func ssaDeployment(replicas int, image string, sidecar bool) string {
	containers := `{"name":"web","image":"` + image + `","ports":[{"containerPort":80}]}`
	if sidecar {
		containers += `,{"name":"sidecar","image":"busybox:1.36","command":["sleep","infinity"]}`
	}
	spec := `"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[` + containers + `]}}`
	if replicas > 0 {
		spec = `"replicas":` + strconv.Itoa(replicas) + `,` + spec
	}
	return `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},"spec":{` + spec + `}}`
}

// ssaRoute is an HTTPRoute manifest as YAML, the way a user writes it.
func ssaRoute(hostname string) string {
	return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
spec:
  parentRefs:
  - name: gw
  hostnames:
  - ` + hostname + `
  rules:
  - backendRefs:
    - name: web
      port: 80
`
}
