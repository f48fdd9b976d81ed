package printers

import (
	"encoding/json"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The Gateway API kinds are custom resources: kubectl prints the columns of their
// CRDs' additionalPrinterColumns (the +kubebuilder:printcolumn markers of
// sigs.k8s.io/gateway-api/apis/v1), which the API server fills with a JSONPath:
// of a path that selects several values it keeps the first (Gateway ADDRESS shows
// one address), a list prints as JSON (HOSTNAMES ["a.example.com"]), and nothing
// found leaves the cell empty.
var (
	ingressClassColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Controller", "string", "Controller that is responsible for handling this class"),
		column("Parameters", "string", "A reference to an object with additional parameters"),
		ageColumn,
	}
	// The CRDs' columns have no descriptions; these are their fields' first lines.
	gatewayClassColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Controller", "string", "The name of the controller that is managing Gateways of this class"),
		column("Accepted", "string", "Whether the controller has accepted this GatewayClass"),
		ageColumn,
		wideColumn("Description", "A human-readable description of this GatewayClass"),
	}
	gatewayColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Class", "string", "The name of the GatewayClass this Gateway uses"),
		column("Address", "string", "The network addresses the Gateway is bound to"),
		column("Programmed", "string", "Whether the Gateway's configuration is ready in its data plane"),
		ageColumn,
	}
	routeColumns = []metav1.TableColumnDefinition{
		nameColumn,
		column("Hostnames", "string", "The hostnames matched against the Host header (gRPC :authority) to select the route"),
		ageColumn,
	}
	referenceGrantColumns = []metav1.TableColumnDefinition{nameColumn, ageColumn}
)

// ingressClassRow is kubectl's printIngressClass: PARAMETERS is Kind[.apiGroup]/name.
func ingressClassRow(ic *networkingv1.IngressClass, now time.Time, _ bool) []string {
	params := "<none>"
	if p := ic.Spec.Parameters; p != nil {
		params = p.Kind
		if p.APIGroup != nil {
			params += "." + *p.APIGroup
		}
		params += "/" + p.Name
	}
	return []string{ic.Name, ic.Spec.Controller, params, since(ic.CreationTimestamp, now)}
}

func gatewayClassRow(gc *gatewayv1.GatewayClass, now time.Time, _ bool) []string {
	desc := ""
	if gc.Spec.Description != nil {
		desc = *gc.Spec.Description
	}
	return []string{gc.Name, string(gc.Spec.ControllerName), conditionStatus(gc.Status.Conditions, "Accepted"),
		since(gc.CreationTimestamp, now), desc}
}

func gatewayRow(gw *gatewayv1.Gateway, now time.Time, _ bool) []string {
	addr := ""
	if len(gw.Status.Addresses) > 0 {
		addr = gw.Status.Addresses[0].Value
	}
	return []string{gw.Name, string(gw.Spec.GatewayClassName), addr, conditionStatus(gw.Status.Conditions, "Programmed"),
		since(gw.CreationTimestamp, now)}
}

func httpRouteRow(r *gatewayv1.HTTPRoute, now time.Time, _ bool) []string {
	return []string{r.Name, hostnamesCell(r.Spec.Hostnames), since(r.CreationTimestamp, now)}
}

func grpcRouteRow(r *gatewayv1.GRPCRoute, now time.Time, _ bool) []string {
	return []string{r.Name, hostnamesCell(r.Spec.Hostnames), since(r.CreationTimestamp, now)}
}

func referenceGrantRow(g *gatewayv1.ReferenceGrant, now time.Time, _ bool) []string {
	return []string{g.Name, since(g.CreationTimestamp, now)}
}

// conditionStatus is `.status.conditions[?(@.type==typ)].status`. An object with
// no conditions at all shows the CRD's default status (typ Unknown, reason
// Pending), which the API server writes at creation and podlab's store does not.
func conditionStatus(conds []metav1.Condition, typ string) string {
	if len(conds) == 0 {
		return string(metav1.ConditionUnknown)
	}
	for _, c := range conds {
		if c.Type == typ {
			return string(c.Status)
		}
	}
	return ""
}

// hostnamesCell is `.spec.hostnames` as a string column: the list as JSON, or
// empty when there is none.
func hostnamesCell(hosts []gatewayv1.Hostname) string {
	if len(hosts) == 0 {
		return ""
	}
	b, err := json.Marshal(hosts)
	if err != nil {
		return ""
	}
	return string(b)
}
