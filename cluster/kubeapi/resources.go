package kubeapi

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// resource is one kind the API serves, as discovery describes it.
type resource struct {
	gv         schema.GroupVersion
	kind       string // also the store's kind
	plural     string
	singular   string
	short      []string
	namespaced bool
	all        bool     // in the category "all" (kubectl get all)
	subs       []string // subresources: status, scale, log, exec, attach, portforward
	readOnly   bool     // served from elsewhere than the store (Events): get, list, watch only
	review     bool     // a review answered at once and kept nowhere (kubectl auth): create only
}

var (
	coreV1         = schema.GroupVersion{Version: "v1"}
	appsV1         = schema.GroupVersion{Group: "apps", Version: "v1"}
	discoveryV1    = schema.GroupVersion{Group: "discovery.k8s.io", Version: "v1"}
	networkingV1   = schema.GroupVersion{Group: "networking.k8s.io", Version: "v1"}
	gatewayV1      = schema.GroupVersion{Group: "gateway.networking.k8s.io", Version: "v1"}
	gatewayV1beta1 = schema.GroupVersion{Group: "gateway.networking.k8s.io", Version: "v1beta1"}
	autoscalingV1  = schema.GroupVersion{Group: "autoscaling", Version: "v1"}
	coordinationV1 = schema.GroupVersion{Group: "coordination.k8s.io", Version: "v1"}
	authnV1        = schema.GroupVersion{Group: "authentication.k8s.io", Version: "v1"}
	authzV1        = schema.GroupVersion{Group: "authorization.k8s.io", Version: "v1"}
)

// resources are the kinds served, group by group in the order an API server lists
// them; within a group, the preferred version first.
var resources = []resource{
	{gv: coreV1, kind: "ConfigMap", plural: "configmaps", singular: "configmap", short: []string{"cm"}, namespaced: true},
	{gv: coreV1, kind: "Endpoints", plural: "endpoints", singular: "endpoints", short: []string{"ep"}, namespaced: true},
	{gv: coreV1, kind: "Event", plural: "events", singular: "event", short: []string{"ev"}, namespaced: true, readOnly: true},
	{gv: coreV1, kind: "Namespace", plural: "namespaces", singular: "namespace", short: []string{"ns"}, subs: []string{"status"}},
	{gv: coreV1, kind: "Node", plural: "nodes", singular: "node", short: []string{"no"}, subs: []string{"status"}},
	{gv: coreV1, kind: "Pod", plural: "pods", singular: "pod", short: []string{"po"}, namespaced: true, all: true,
		subs: []string{"attach", "eviction", "exec", "log", "portforward", "status"}},
	{gv: coreV1, kind: "Secret", plural: "secrets", singular: "secret", namespaced: true},
	{gv: coreV1, kind: "Service", plural: "services", singular: "service", short: []string{"svc"}, namespaced: true, all: true, subs: []string{"status"}},

	{gv: appsV1, kind: "DaemonSet", plural: "daemonsets", singular: "daemonset", short: []string{"ds"}, namespaced: true, all: true, subs: []string{"status"}},
	{gv: appsV1, kind: "Deployment", plural: "deployments", singular: "deployment", short: []string{"deploy"}, namespaced: true, all: true, subs: []string{"scale", "status"}},
	{gv: appsV1, kind: "ReplicaSet", plural: "replicasets", singular: "replicaset", short: []string{"rs"}, namespaced: true, all: true, subs: []string{"scale", "status"}},
	{gv: appsV1, kind: "StatefulSet", plural: "statefulsets", singular: "statefulset", short: []string{"sts"}, namespaced: true, all: true, subs: []string{"scale", "status"}},

	{gv: coordinationV1, kind: "Lease", plural: "leases", singular: "lease", namespaced: true},

	{gv: discoveryV1, kind: "EndpointSlice", plural: "endpointslices", singular: "endpointslice", namespaced: true},

	{gv: networkingV1, kind: "IngressClass", plural: "ingressclasses", singular: "ingressclass"},
	{gv: networkingV1, kind: "Ingress", plural: "ingresses", singular: "ingress", short: []string{"ing"}, namespaced: true, subs: []string{"status"}},
	{gv: networkingV1, kind: "NetworkPolicy", plural: "networkpolicies", singular: "networkpolicy", short: []string{"netpol"}, namespaced: true},

	{gv: gatewayV1, kind: "GatewayClass", plural: "gatewayclasses", singular: "gatewayclass", short: []string{"gc"}, subs: []string{"status"}},
	{gv: gatewayV1, kind: "Gateway", plural: "gateways", singular: "gateway", short: []string{"gtw"}, namespaced: true, subs: []string{"status"}},
	{gv: gatewayV1, kind: "GRPCRoute", plural: "grpcroutes", singular: "grpcroute", namespaced: true, subs: []string{"status"}},
	{gv: gatewayV1, kind: "HTTPRoute", plural: "httproutes", singular: "httproute", namespaced: true, subs: []string{"status"}},
	{gv: gatewayV1, kind: "ReferenceGrant", plural: "referencegrants", singular: "referencegrant", short: []string{"refgrant"}, namespaced: true},
	{gv: gatewayV1beta1, kind: "GatewayClass", plural: "gatewayclasses", singular: "gatewayclass", short: []string{"gc"}, subs: []string{"status"}},
	{gv: gatewayV1beta1, kind: "Gateway", plural: "gateways", singular: "gateway", short: []string{"gtw"}, namespaced: true, subs: []string{"status"}},
	{gv: gatewayV1beta1, kind: "HTTPRoute", plural: "httproutes", singular: "httproute", namespaced: true, subs: []string{"status"}},
	{gv: gatewayV1beta1, kind: "ReferenceGrant", plural: "referencegrants", singular: "referencegrant", short: []string{"refgrant"}, namespaced: true},

	{gv: authnV1, kind: "SelfSubjectReview", plural: "selfsubjectreviews", singular: "selfsubjectreview", review: true},
	{gv: authzV1, kind: "SelfSubjectAccessReview", plural: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview", review: true},
	{gv: authzV1, kind: "SelfSubjectRulesReview", plural: "selfsubjectrulesreviews", singular: "selfsubjectrulesreview", review: true},
}

// groupVersions lists the served group versions in discovery's order.
func groupVersions() []schema.GroupVersion {
	var out []schema.GroupVersion
	seen := map[schema.GroupVersion]bool{}
	for _, r := range resources {
		if !seen[r.gv] {
			seen[r.gv] = true
			out = append(out, r.gv)
		}
	}
	return out
}

// lookup finds the resource plural in gv.
func lookup(gv schema.GroupVersion, plural string) (*resource, bool) {
	for i := range resources {
		if resources[i].gv == gv && resources[i].plural == plural {
			return &resources[i], true
		}
	}
	return nil, false
}

func (r *resource) has(sub string) bool {
	for _, s := range r.subs {
		if s == sub {
			return true
		}
	}
	return false
}

// verbs are what the resource accepts, as discovery lists them.
func (r *resource) verbs() []string {
	if r.readOnly {
		return []string{"get", "list", "watch"}
	}
	if r.review {
		return []string{"create"}
	}
	return []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
}

// subVerbs and subKind are a subresource's verbs and the kind it answers with.
func (r *resource) subVerbs(sub string) []string {
	switch sub {
	case "log":
		return []string{"get"}
	case "exec", "attach", "portforward":
		return []string{"create", "get"}
	case "eviction":
		return []string{"create"}
	}
	return []string{"get", "patch", "update"}
}

func (r *resource) subKind(sub string) schema.GroupVersionKind {
	switch sub {
	case "scale":
		return autoscalingV1.WithKind("Scale")
	case "eviction":
		return schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}
	case "exec":
		return coreV1.WithKind("PodExecOptions")
	case "attach":
		return coreV1.WithKind("PodAttachOptions")
	case "portforward":
		return coreV1.WithKind("PodPortForwardOptions")
	}
	return r.gv.WithKind(r.kind)
}

// GroupResource is kind's group and plural resource, as API errors name it
// (`deployments.apps "web" not found`); a kind not served is lower-cased plural.
func GroupResource(kind string) schema.GroupResource {
	for i := range resources {
		if resources[i].kind == kind {
			return schema.GroupResource{Group: resources[i].gv.Group, Resource: resources[i].plural}
		}
	}
	return schema.GroupResource{Resource: strings.ToLower(kind) + "s"}
}

// Serves says whether the API serves kind (the store may keep kinds it does not, such
// as Job: podlab get shows them, kubectl does not).
func Serves(kind string) bool {
	for i := range resources {
		if resources[i].kind == kind && !resources[i].review {
			return true
		}
	}
	return false
}
