package patch

import (
	"fmt"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"podlab.dev/podlab/cluster/store"
)

// TestRecordUpdate follows an object through the writes that are not patches:
// POST (kubectl create), PUT (kubectl replace) and a status write.
func TestRecordUpdate(t *testing.T) {
	created := createdThroughAPI(t, deployment())
	replaced := created.DeepCopyObject().(*appsv1.Deployment)
	replaced.Spec.Replicas = ptr.To[int32](4)
	got, err := RecordUpdate(created, replaced, opts("kubectl-replace"))
	if err != nil {
		t.Fatal(err)
	}
	status := got.DeepCopyObject().(*appsv1.Deployment)
	status.Status.Replicas = 4
	o := opts("kube-controller-manager")
	o.Subresource = "status"
	got, err = RecordUpdate(got, status, o)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`kube-controller-manager/Update/status: {"f:status":{"f:replicas":{}}}`,
		`kubectl-create/Update/: {"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:selector":{},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},` +
			`"f:spec":{"f:containers":{"k:{\"name\":\"sidecar\"}":{".":{},"f:command":{},"f:image":{},"f:name":{},"f:resources":{}},` +
			`"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"f:resources":{}}}}}}}`,
		`kubectl-replace/Update/: {"f:spec":{"f:replicas":{}}}`,
	}
	entries := managedFields(t, got)
	if len(entries) != len(want) {
		t.Fatalf("managedFields:\n%q\nwant\n%q", entries, want)
	}
	for i := range want {
		if entries[i] != want[i] {
			t.Errorf("managedFields[%d] = %s\nwant %s", i, entries[i], want[i])
		}
	}
}

// TestWarn: under fieldValidation=Warn the unknown field is reported and the
// patch goes through, as the API server's Warning header does.
func TestWarn(t *testing.T) {
	var warnings []string
	o := Options{FieldManager: "kubectl-patch", Scheme: store.Scheme(), FieldValidation: "Warn",
		Warn: func(msg string) { warnings = append(warnings, msg) }}
	got, err := Apply(deployment(), merge, []byte(`{"spec":{"replicas":2,"replicaz":3}}`), o)
	if err != nil {
		t.Fatal(err)
	}
	if r := got.(*appsv1.Deployment).Spec.Replicas; *r != 2 {
		t.Errorf("replicas = %d, want 2", *r)
	}
	if len(warnings) != 1 || warnings[0] != `unknown field "spec.replicaz"` {
		t.Errorf("warnings = %q, want [unknown field \"spec.replicaz\"]", warnings)
	}
}

// managedFields renders each entry as manager/operation/subresource: fields.
func managedFields(t *testing.T, obj runtime.Object) []string {
	t.Helper()
	m, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range m.GetManagedFields() {
		out = append(out, e.Manager+"/"+string(e.Operation)+"/"+e.Subresource+": "+string(e.FieldsV1.Raw))
	}
	return out
}

// TestApplyDoesNotOwnStatus: an apply of a manifest copied from `kubectl get
// -o yaml` (status included) owns its spec, never the status it could not set.
func TestApplyDoesNotOwnStatus(t *testing.T) {
	body := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3},"status":{"replicas":9}}`
	got, err := Apply(createdThroughAPI(t, deployment()), apply, []byte(body), Options{FieldManager: "kubectl", Force: true, Scheme: store.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	entries := managedFields(t, got)
	want := `kubectl/Apply/: {"f:spec":{"f:replicas":{}}}`
	if len(entries) == 0 || entries[0] != want {
		t.Errorf("managedFields = %q, want %s first", entries, want)
	}
}

// TestTyped: whatever the patch type, the result has the store's Go type, so
// the handler can store it as it is.
func TestTyped(t *testing.T) {
	for _, c := range []struct {
		current   runtime.Object
		patchType types.PatchType
		body      string
		want      string
	}{
		{deployment(), apply, ssaDeployment(2, "nginx:1.27", true), "*v1.Deployment"},
		{deployment(), smp, `{"spec":{"replicas":2}}`, "*v1.Deployment"},
		{deployment(), jsonp, `[{"op":"replace","path":"/spec/replicas","value":2}]`, "*v1.Deployment"},
		{httpRoute(), apply, ssaRoute("web.example"), "*v1.HTTPRoute"},
		{httpRoute(), merge, `{"spec":{"hostnames":["a.example"]}}`, "*v1.HTTPRoute"},
		{widget(), merge, `{"spec":{"size":2}}`, "*unstructured.Unstructured"},
	} {
		got, err := Apply(c.current, c.patchType, []byte(c.body), Options{FieldManager: "kubectl", Force: c.patchType == apply, Scheme: store.Scheme()})
		if err != nil {
			t.Fatalf("%s %s: %v", c.want, c.patchType, err)
		}
		if typ := fmt.Sprintf("%T", got); typ != c.want {
			t.Errorf("%s: result is a %s, want %s", c.patchType, typ, c.want)
		}
	}
}

func TestManager(t *testing.T) {
	for _, c := range []struct{ fieldManager, userAgent, want string }{
		{"kubectl-label", "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", "kubectl-label"},
		{"", "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", "kubectl"},
		{"", "helm\x00/3", "helm"},
		{"", "", ""},
	} {
		if got := Manager(c.fieldManager, c.userAgent); got != c.want {
			t.Errorf("Manager(%q, %q) = %q, want %q", c.fieldManager, c.userAgent, got, c.want)
		}
	}
}
