package topology

import (
	"reflect"
	"sort"
	"strings"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	resourcev1 "k8s.io/api/resource/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
)

// kindTable is what the built-in API serves: which kinds exist in which group/version.
// It is the GA (v1/v2) groups of k8s.io/api, as a current API server serves them, and
// the Gateway API's v1 and v1beta1 (gateway.networking.k8s.io, sigs.k8s.io/gateway-api
// v1.6), as a cluster with its CRDs installed serves them.
type kindTable struct {
	types    map[string]map[string]reflect.Type // apiVersion -> kind -> Go type
	versions map[string][]string                // kind -> apiVersions serving it, newest first
	kinds    []string                           // every kind, sorted
	apis     []string                           // every apiVersion, sorted
}

var builtinKinds = sync.OnceValue(func() *kindTable {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, discoveryv1.AddToScheme,
		networkingv1.AddToScheme, policyv1.AddToScheme, rbacv1.AddToScheme,
		autoscalingv1.AddToScheme, autoscalingv2.AddToScheme, storagev1.AddToScheme,
		schedulingv1.AddToScheme, coordinationv1.AddToScheme, nodev1.AddToScheme,
		certificatesv1.AddToScheme, admissionregistrationv1.AddToScheme, eventsv1.AddToScheme,
		flowcontrolv1.AddToScheme, resourcev1.AddToScheme,
		gatewayv1.Install, gatewayv1beta1.Install,
	} {
		if err := add(scheme); err != nil {
			panic(err) // static registration; cannot depend on input
		}
	}
	objectMeta := reflect.TypeFor[metav1.ObjectMeta]()
	kt := &kindTable{types: map[string]map[string]reflect.Type{}, versions: map[string][]string{}}
	for gvk, t := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		// Objects a user can write have ObjectMeta; that leaves out lists and options.
		if f, ok := t.FieldByName("ObjectMeta"); !ok || f.Type != objectMeta {
			continue
		}
		api := gvk.GroupVersion().String()
		if kt.types[api] == nil {
			kt.types[api] = map[string]reflect.Type{}
			kt.apis = append(kt.apis, api)
		}
		if _, seen := kt.versions[gvk.Kind]; !seen {
			kt.kinds = append(kt.kinds, gvk.Kind)
		}
		kt.types[api][gvk.Kind] = t
		kt.versions[gvk.Kind] = append(kt.versions[gvk.Kind], api)
	}
	sort.Strings(kt.kinds)
	sort.Strings(kt.apis)
	for _, v := range kt.versions {
		sort.Sort(sort.Reverse(sort.StringSlice(v)))
	}
	return kt
})

// resolve finds the Go type for apiVersion+kind, or explains, in kubectl's words, why
// there is none.
func (kt *kindTable) resolve(apiVersion, kind string) (t reflect.Type, msg, hint string) {
	if _, err := schema.ParseGroupVersion(apiVersion); err != nil || strings.Count(apiVersion, "/") > 1 {
		return nil, "invalid apiVersion " + quote(apiVersion), `write group/version, e.g. apps/v1, or v1 for the core group`
	}
	if t, ok := kt.types[apiVersion][kind]; ok {
		return t, "", ""
	}
	noMatch := "no matches for kind " + quote(kind) + " in version " + quote(apiVersion)
	if _, ok := kt.versions[kind]; ok {
		return nil, noMatch, kt.servedBy(kind)
	}
	inVersion := make([]string, 0, len(kt.types[apiVersion]))
	for k := range kt.types[apiVersion] {
		inVersion = append(inVersion, k)
	}
	sort.Strings(inVersion)
	s := Suggest(kind, inVersion)
	if s == "" {
		s = Suggest(kind, kt.kinds)
	}
	if s != "" {
		hint = ""
		if !contains(kt.versions[s], apiVersion) {
			hint = kt.servedBy(s)
		}
		return nil, noMatch + `; did you mean "` + s + `"?`, hint
	}
	if _, ok := kt.types[apiVersion]; !ok {
		msg = "unknown apiVersion " + quote(apiVersion) + didYouMean(apiVersion, kt.apis)
		return nil, msg, "podlab knows the built-in Kubernetes APIs and the Gateway API: " + strings.Join(kt.apis, ", ")
	}
	return nil, noMatch, "kinds in " + apiVersion + ": " + strings.Join(inVersion, ", ")
}

func (kt *kindTable) servedBy(kind string) string {
	vs := kt.versions[kind]
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quote(v)
	}
	return kind + " is served by apiVersion " + strings.Join(q, " or ") + ": write apiVersion: " + vs[0]
}

// ClusterScoped says whether kind has no namespace (Node, Namespace, IngressClass,
// ...): get lists it without -A and prints no NAMESPACE for it.
func ClusterScoped(kind string) bool { return clusterScoped[kind] }

// clusterScoped kinds have no namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ComponentStatus": true,
	"ClusterRole": true, "ClusterRoleBinding": true, "IngressClass": true, "IPAddress": true,
	"ServiceCIDR": true, "StorageClass": true, "CSIDriver": true, "CSINode": true,
	"VolumeAttachment": true, "VolumeAttributesClass": true, "PriorityClass": true,
	"RuntimeClass": true, "CertificateSigningRequest": true, "ValidatingWebhookConfiguration": true,
	"MutatingWebhookConfiguration": true, "ValidatingAdmissionPolicy": true,
	"ValidatingAdmissionPolicyBinding": true, "MutatingAdmissionPolicy": true,
	"MutatingAdmissionPolicyBinding": true, "FlowSchema": true, "PriorityLevelConfiguration": true,
	"DeviceClass": true, "ResourceSlice": true, "GatewayClass": true,
}

func quote(s string) string { return `"` + s + `"` }
