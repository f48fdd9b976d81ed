// Package gateways compiles the Gateway API objects in the store (GatewayClass,
// Gateway, HTTPRoute, ReferenceGrant, gateway.networking.k8s.io/v1) into the routing
// table the proxy serves (cluster/ingress/table), one Frontend per Gateway, and into
// the status every one of those objects should have. It is pure: it reads the store
// through refs.Reader and returns values; the ingress component writes the status and
// hands the table to the proxy.
//
// What it implements is SEMANTICS.md §6b; where the spec leaves a choice it follows
// the conformance suite (kubernetes-sigs/gateway-api conformance/tests).
package gateways

import (
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/cluster/ingress/refs"
	"podlab.dev/podlab/cluster/ingress/table"
)

// ControllerName is podlab's GatewayClass controllerName.
const ControllerName = "podlab.dev/gateway-controller"

// SupportedFeatures are the conformance features (kubernetes-sigs/gateway-api
// pkg/features) our GatewayClasses announce in status.supportedFeatures, sorted as the
// API asks. Each is compiled into the table here; the proxy must honour it.
var SupportedFeatures = []string{
	"Gateway",
	"GatewayAddressEmpty",
	"GatewayHTTPListenerIsolation",
	"GatewayPort8080",
	"HTTPRoute",
	"HTTPRoute303RedirectStatusCode",
	"HTTPRoute307RedirectStatusCode",
	"HTTPRoute308RedirectStatusCode",
	"HTTPRouteBackendRequestHeaderModification",
	"HTTPRouteBackendRequestRedirect",
	"HTTPRouteBackendURLRewrite",
	"HTTPRouteHostRewrite",
	"HTTPRouteMethodMatching",
	"HTTPRouteNamedRouteRule",
	"HTTPRouteParentRefPort",
	"HTTPRoutePathRedirect",
	"HTTPRoutePathRewrite",
	"HTTPRoutePortRedirect",
	"HTTPRouteQueryParamMatching",
	"HTTPRouteRequestMirror",
	"HTTPRouteRequestMultipleMirrors",
	"HTTPRouteRequestPercentageMirror",
	"HTTPRouteResponseHeaderModification",
	"HTTPRouteSchemeRedirect",
	"ReferenceGrant",
}

// Options are what the compile needs beyond the store.
type Options struct {
	// ControllerName selects our GatewayClasses (ControllerName when empty).
	ControllerName string
	// Addresses is Gateway namespace/name's LoadBalancer address once assigned;
	// empty: not yet (Programmed False/AddressNotAssigned). Nil: never assigned.
	Addresses func(namespace, name string) []gatewayv1.GatewayStatusAddress
	// Now stamps the lastTransitionTime of conditions whose status changed.
	Now metav1.Time
}

// Result is one compile's output.
type Result struct {
	// Frontends by table.FrontendGateway(ns, name): every Gateway of one of our
	// accepted classes that is itself Accepted, with its programmed listeners (maybe
	// none, when all conflict: then the Frontend has no Listeners).
	Frontends map[string]*table.Frontend
	// Ports by the same key: the ports of the Frontend's listeners, sorted, for the
	// Gateway's Service. (The same as the Frontend's Listeners' ports.)
	Ports map[string][]int32

	// Status to write, complete, for our GatewayClasses, the Gateways of our classes,
	// and every HTTPRoute that names one of those Gateways or carries an old status
	// entry of ours (routes: other controllers' parents entries are kept as they are).
	GatewayClasses map[string]gatewayv1.GatewayClassStatus
	Gateways       map[types.NamespacedName]gatewayv1.GatewayStatus
	HTTPRoutes     map[types.NamespacedName]gatewayv1.HTTPRouteStatus

	// Problems are for Warning events, sorted by kind, namespace, name, reason.
	Problems []Problem
}

// Problem is one thing wrong with an object, as a Warning event says it.
type Problem struct {
	Kind, Namespace, Name string
	Reason, Message       string
}

// compile is the state of one Compile call.
type compile struct {
	r    refs.Reader
	o    Options
	res  *Result
	gws  map[types.NamespacedName]*gateway // Gateways of our accepted classes
	nsLb map[string]map[string]string      // namespace labels, read once each
}

// Compile reads the Gateway API objects and what they reference and returns the
// table and status they give.
func Compile(r refs.Reader, o Options) Result {
	if o.ControllerName == "" {
		o.ControllerName = ControllerName
	}
	res := Result{
		Frontends:      map[string]*table.Frontend{},
		Ports:          map[string][]int32{},
		GatewayClasses: map[string]gatewayv1.GatewayClassStatus{},
		Gateways:       map[types.NamespacedName]gatewayv1.GatewayStatus{},
		HTTPRoutes:     map[types.NamespacedName]gatewayv1.HTTPRouteStatus{},
	}
	c := &compile{r: r, o: o, res: &res, gws: map[types.NamespacedName]*gateway{}, nsLb: map[string]map[string]string{}}
	classes := c.classes()
	for _, obj := range r.List("Gateway", "") {
		gw, ok := obj.(*gatewayv1.Gateway)
		if !ok {
			continue
		}
		accepted, ours := classes[string(gw.Spec.GatewayClassName)]
		if !ours {
			continue
		}
		c.gateway(gw, accepted)
	}
	c.routes()
	for key, g := range c.gws {
		res.Gateways[key] = c.gatewayStatus(g)
		if g.accepted {
			f := c.frontend(g)
			res.Frontends[f.Key] = f
			ports := []int32{}
			for _, l := range f.Listeners {
				ports = append(ports, l.Port)
			}
			res.Ports[f.Key] = ports
		}
	}
	sort.Slice(res.Problems, func(i, j int) bool {
		a, b := res.Problems[i], res.Problems[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Reason+a.Message < b.Reason+b.Message
	})
	return res
}

func (c *compile) problem(kind, ns, name, reason, format string, args ...any) {
	c.res.Problems = append(c.res.Problems, Problem{kind, ns, name, reason, fmt.Sprintf(format, args...)})
}

// classes writes our GatewayClasses' status and says which are ours and accepted.
func (c *compile) classes() map[string]bool {
	out := map[string]bool{}
	for _, obj := range c.r.List("GatewayClass", "") {
		gc, ok := obj.(*gatewayv1.GatewayClass)
		if !ok || string(gc.Spec.ControllerName) != c.o.ControllerName {
			continue
		}
		gen := gc.Generation
		accepted := cond("Accepted", true, "Accepted", "podlab's gateway controller serves this class", gen)
		if p := gc.Spec.ParametersRef; p != nil {
			accepted = cond("Accepted", false, "InvalidParameters",
				fmt.Sprintf("parametersRef %s/%s %s: podlab's gateway controller takes no parameters; remove spec.parametersRef", p.Group, p.Kind, p.Name), gen)
			c.problem("GatewayClass", "", gc.Name, accepted.Reason, "%s", accepted.Message)
		}
		ours := []metav1.Condition{
			accepted,
			// The built-in API serves exactly the v1.6 kinds this compiler reads.
			cond("SupportedVersion", true, "SupportedVersion", "gateway-api v1.6", gen),
		}
		st := gc.Status
		st.Conditions = merge(gc.Status.Conditions, ours, []string{"Accepted", "SupportedVersion"}, c.o.Now)
		st.SupportedFeatures = nil
		for _, f := range SupportedFeatures {
			st.SupportedFeatures = append(st.SupportedFeatures, gatewayv1.SupportedFeature{Name: gatewayv1.FeatureName(f)})
		}
		c.res.GatewayClasses[gc.Name] = st
		out[gc.Name] = accepted.Status == metav1.ConditionTrue
	}
	return out
}
