package kubeapi

import (
	"net/http"
	"runtime"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// The version served: kubectl's dispatcher (/usr/bin/kubectl) picks the kubectl
// matching it, and refuses a version it cannot parse.
const (
	gitVersion = "v1.32.0"
	major      = "1"
	minor      = "32"
)

func serveVersion(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, version.Info{Major: major, Minor: minor, GitVersion: gitVersion,
		GitTreeState: "clean", GoVersion: runtime.Version(), Compiler: "gc", Platform: "linux/amd64"})
}

// aggregatedV2 is the Accept profile of aggregated discovery (kubectl 1.32 asks for it
// first, and falls back to /api/v1 and every /apis/G/V when answered plain JSON).
const aggregatedV2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

func wantsAggregated(r *http.Request) bool {
	for _, m := range accepted(r) {
		if m.typ == "application/json" && m.params["g"] == "apidiscovery.k8s.io" && m.params["v"] == "v2" && m.params["as"] == "APIGroupDiscoveryList" {
			return true
		}
	}
	return false
}

// serveAPI is /api: the core group's versions, or its aggregated discovery.
func serveAPI(w http.ResponseWriter, r *http.Request) {
	if wantsAggregated(r) {
		writeAggregated(w, aggregated(true))
		return
	}
	writeJSON(w, http.StatusOK, &metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: "127.0.0.1:6443"}}})
}

// serveAPIs is /apis: the named groups, or their aggregated discovery.
func serveAPIs(w http.ResponseWriter, r *http.Request) {
	if wantsAggregated(r) {
		writeAggregated(w, aggregated(false))
		return
	}
	list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, g := range groups() {
		list.Groups = append(list.Groups, apiGroup(g))
	}
	writeJSON(w, http.StatusOK, list)
}

// groups lists the named groups in order.
func groups() []string {
	var out []string
	for _, gv := range groupVersions() {
		if gv.Group != "" && (len(out) == 0 || out[len(out)-1] != gv.Group) {
			out = append(out, gv.Group)
		}
	}
	return out
}

func apiGroup(group string) metav1.APIGroup {
	g := metav1.APIGroup{Name: group}
	for _, gv := range groupVersions() {
		if gv.Group == group {
			v := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
			g.Versions = append(g.Versions, v)
			if g.PreferredVersion.Version == "" {
				g.PreferredVersion = v
			}
		}
	}
	return g
}

// resourceList is /api/v1 or /apis/G/V.
func resourceList(gv schema.GroupVersion) (*metav1.APIResourceList, bool) {
	list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
	for i := range resources {
		r := &resources[i]
		if r.gv != gv {
			continue
		}
		ar := metav1.APIResource{Name: r.plural, SingularName: r.singular, Namespaced: r.namespaced, Kind: r.kind,
			Verbs: r.verbs(), ShortNames: r.short}
		if r.all {
			ar.Categories = []string{"all"}
		}
		list.APIResources = append(list.APIResources, ar)
		for _, sub := range r.subs {
			sk := r.subKind(sub)
			sr := metav1.APIResource{Name: r.plural + "/" + sub, Namespaced: r.namespaced, Kind: sk.Kind, Verbs: r.subVerbs(sub)}
			if sk.GroupVersion() != gv {
				sr.Group, sr.Version = sk.Group, sk.Version
			}
			list.APIResources = append(list.APIResources, sr)
		}
	}
	return list, len(list.APIResources) > 0
}

// aggregated is the aggregated discovery document of the core group (core) or of
// the named groups.
func aggregated(core bool) *apidiscoveryv2.APIGroupDiscoveryList {
	list := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"}}
	names := groups()
	if core {
		names = []string{""}
	}
	for _, g := range names {
		gd := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g}}
		for _, gv := range groupVersions() {
			if gv.Group != g {
				continue
			}
			vd := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			for i := range resources {
				r := &resources[i]
				if r.gv != gv {
					continue
				}
				scope := apidiscoveryv2.ScopeCluster
				if r.namespaced {
					scope = apidiscoveryv2.ScopeNamespace
				}
				rd := apidiscoveryv2.APIResourceDiscovery{Resource: r.plural, SingularResource: r.singular, Scope: scope,
					ResponseKind: &metav1.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: r.kind},
					Verbs:        r.verbs(), ShortNames: r.short}
				if r.all {
					rd.Categories = []string{"all"}
				}
				for _, sub := range r.subs {
					sk := r.subKind(sub)
					rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{Subresource: sub,
						ResponseKind: &metav1.GroupVersionKind{Group: sk.Group, Version: sk.Version, Kind: sk.Kind}, Verbs: r.subVerbs(sub)})
				}
				vd.Resources = append(vd.Resources, rd)
			}
			gd.Versions = append(gd.Versions, vd)
		}
		list.Items = append(list.Items, gd)
	}
	return list
}

func writeAggregated(w http.ResponseWriter, list *apidiscoveryv2.APIGroupDiscoveryList) {
	w.Header().Set("Content-Type", aggregatedV2)
	w.Header().Set("Vary", "Accept")
	writeBody(w, http.StatusOK, list)
}
