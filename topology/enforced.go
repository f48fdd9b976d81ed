package topology

// enforced are the kinds a component of this version acts on: the supervisor's
// controllers, kubelet, Services and NetworkPolicy components; the data kinds
// and events, for which being stored is all there is to do.
var enforced = map[string]bool{
	"Namespace": true, "Node": true, "Pod": true,
	"Deployment": true, "ReplicaSet": true, "StatefulSet": true, "DaemonSet": true,
	"Service": true, "Endpoints": true, "EndpointSlice": true,
	"NetworkPolicy": true,
	"Ingress":       true, "IngressClass": true, "GatewayClass": true, "Gateway": true, "HTTPRoute": true, "ReferenceGrant": true,
	"ConfigMap": true, "Secret": true, "Event": true,
	"Lease": true, // the nodes' are kubelet's heartbeat (cluster/nodelease); a user's is data
}

// notEnforced says what a user would expect of a kept kind and this version does not do.
var notEnforced = map[string]string{
	"GRPCRoute":               "routes no gRPC yet (HTTPRoute is served)",
	"TLSRoute":                "passes no TLS through yet (HTTPS listeners terminate TLS for HTTPRoutes)",
	"Job":                     "runs no pods for them yet",
	"CronJob":                 "runs no pods for them yet",
	"HorizontalPodAutoscaler": "scales nothing yet",
	"PodDisruptionBudget":     "evicts nothing, so they protect nothing yet",
}

// NotEnforced says plainly, for get, describe, inspect and validate, that objects of
// kind are stored but not acted on ("NOT ENFORCED: this version keeps Ingress objects
// but routes nothing yet"), or "" when a component enforces them.
func NotEnforced(kind string) string {
	if enforced[kind] {
		return ""
	}
	what, ok := notEnforced[kind]
	if !ok {
		what = "nothing acts on them yet"
	}
	return "NOT ENFORCED: this version keeps " + kind + " objects but " + what
}
