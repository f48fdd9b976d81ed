package topology

import (
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// enum is a field whose value must be one of a fixed set. path uses [*] for any index.
type enum struct {
	path   string
	values []string
}

var (
	serviceEnums = []enum{
		{"spec.type", []string{"ClusterIP", "NodePort", "LoadBalancer", "ExternalName"}},
		{"spec.ports[*].protocol", protocols},
		{"spec.sessionAffinity", []string{"None", "ClientIP"}},
		{"spec.externalTrafficPolicy", []string{"Cluster", "Local"}},
		{"spec.internalTrafficPolicy", []string{"Cluster", "Local"}},
		{"spec.ipFamilyPolicy", []string{"SingleStack", "PreferDualStack", "RequireDualStack"}},
		{"spec.ipFamilies[*]", []string{"IPv4", "IPv6"}},
	}
	podSpecEnums = []enum{
		{"restartPolicy", []string{"Always", "OnFailure", "Never"}},
		{"dnsPolicy", []string{"ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"}},
		{"containers[*].ports[*].protocol", protocols},
		{"initContainers[*].ports[*].protocol", protocols},
		{"containers[*].imagePullPolicy", []string{"Always", "IfNotPresent", "Never"}},
		{"initContainers[*].imagePullPolicy", []string{"Always", "IfNotPresent", "Never"}},
	}
	otherEnums = map[string][]enum{
		"networking.k8s.io/NetworkPolicy": {
			{"spec.policyTypes[*]", []string{"Ingress", "Egress"}},
			{"spec.ingress[*].ports[*].protocol", protocols},
			{"spec.egress[*].ports[*].protocol", protocols},
		},
		"networking.k8s.io/Ingress": {
			{"spec.rules[*].http.paths[*].pathType", []string{"Exact", "Prefix", "ImplementationSpecific"}},
		},
		"discovery.k8s.io/EndpointSlice": {
			{"addressType", []string{"IPv4", "IPv6", "FQDN"}},
			{"ports[*].protocol", protocols},
		},
		"/Endpoints": {{"subsets[*].ports[*].protocol", protocols}},
		"/Service":   serviceEnums,
		"gateway.networking.k8s.io/Gateway": {
			{"spec.listeners[*].tls.mode", []string{"Terminate", "Passthrough"}},
			{"spec.listeners[*].allowedRoutes.namespaces.from", []string{"All", "Selector", "Same"}},
		},
		"gateway.networking.k8s.io/HTTPRoute": append(httpFilterEnums("spec.rules[*].filters[*]"),
			append(httpFilterEnums("spec.rules[*].backendRefs[*].filters[*]"),
				enum{"spec.rules[*].matches[*].path.type", []string{"Exact", "PathPrefix", "RegularExpression"}},
				enum{"spec.rules[*].matches[*].headers[*].type", []string{"Exact", "RegularExpression"}},
				enum{"spec.rules[*].matches[*].queryParams[*].type", []string{"Exact", "RegularExpression"}},
				enum{"spec.rules[*].matches[*].method", []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}},
			)...),
		"gateway.networking.k8s.io/GRPCRoute": {
			{"spec.rules[*].matches[*].method.type", []string{"Exact", "RegularExpression"}},
			{"spec.rules[*].matches[*].headers[*].type", []string{"Exact", "RegularExpression"}},
			{"spec.rules[*].filters[*].type", grpcFilterTypes},
			{"spec.rules[*].backendRefs[*].filters[*].type", grpcFilterTypes},
		},
	}
	// enumNotes add to the hint of an enum path what a value from a neighbouring
	// API means here.
	enumNotes = map[string]string{
		"spec.rules[*].matches[*].path.type": "Ingress's Prefix is PathPrefix here; ImplementationSpecific has no counterpart",
	}
	grpcFilterTypes = []string{"ResponseHeaderModifier", "RequestHeaderModifier", "RequestMirror", "ExtensionRef"}
	// Where each workload kind keeps its pod spec.
	podSpecPaths = map[string]string{
		"/Pod": "spec", "/PodTemplate": "template.spec", "/ReplicationController": "spec.template.spec",
		"apps/Deployment": "spec.template.spec", "apps/ReplicaSet": "spec.template.spec",
		"apps/StatefulSet": "spec.template.spec", "apps/DaemonSet": "spec.template.spec",
		"batch/Job": "spec.template.spec", "batch/CronJob": "spec.jobTemplate.spec.template.spec",
	}
)

// httpFilterEnums are the enums of an HTTPRoute filter at path.
func httpFilterEnums(path string) []enum {
	return []enum{
		{path + ".type", []string{"RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "RequestRedirect", "URLRewrite", "ExtensionRef", "CORS"}},
		{path + ".requestRedirect.scheme", []string{"http", "https"}},
		{path + ".requestRedirect.statusCode", []string{"301", "302", "303", "307", "308"}},
		{path + ".requestRedirect.path.type", []string{"ReplaceFullPath", "ReplacePrefixMatch"}},
		{path + ".urlRewrite.path.type", []string{"ReplaceFullPath", "ReplacePrefixMatch"}},
	}
}

// groupKind is "group/Kind", "/Kind" for the core group.
func groupKind(apiVersion, kind string) string {
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group = ""
	}
	return group + "/" + kind
}

func enumsFor(apiVersion, kind string) []enum {
	gk := groupKind(apiVersion, kind)
	rules := otherEnums[gk]
	if p, ok := podSpecPaths[gk]; ok {
		for _, r := range podSpecEnums {
			rules = append(rules, enum{p + "." + r.path, r.values})
		}
	}
	return rules
}

var indexRE = regexp.MustCompile(`\[\d+\]`)

// checkEnums reports every enum field whose value is not one of its values, with the
// closest value as a suggestion (a case slip first: "ClusterIp" -> "ClusterIP").
func (d *doc) checkEnums(rules []enum) {
	if len(rules) == 0 {
		return
	}
	byPath := map[string][]string{}
	for _, r := range rules {
		byPath[r.path] = r.values
	}
	paths := make([]string, 0, len(d.idx))
	for p := range d.idx {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		values, ok := byPath[indexRE.ReplaceAllString(p, "[*]")]
		n := d.idx[p]
		if !ok || n.Kind != yaml.ScalarNode || isNull(n) || n.Value == "" || contains(values, n.Value) {
			continue
		}
		hint := "supported values: " + quoteList(values)
		if note := enumNotes[indexRE.ReplaceAllString(p, "[*]")]; note != "" {
			hint += "\n" + note
		}
		d.add(p, hint, "unsupported value %q%s", n.Value, didYouMean(n.Value, values))
	}
}
