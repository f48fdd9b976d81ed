package gateways

import (
	"fmt"
	"reflect"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/cluster/ingress/table"
)

// entry is one compiled match of a route attached to a listener under one effective
// hostname (the intersection of the route's and the listener's).
type entry struct {
	route *gatewayv1.HTTPRoute
	host  string
	r     *table.Route
}

// routes attaches every HTTPRoute to the listeners of our Gateways it names, and
// writes the routes' status.
func (c *compile) routes() {
	for _, obj := range c.r.List("HTTPRoute", "") {
		hr, ok := obj.(*gatewayv1.HTTPRoute)
		if !ok {
			continue
		}
		var cr *compiledRoute
		var ours []gatewayv1.RouteParentStatus
		for _, pr := range hr.Spec.ParentRefs {
			if (pr.Group != nil && *pr.Group != gatewayv1.GroupName) || (pr.Kind != nil && *pr.Kind != "Gateway") {
				continue
			}
			ns := hr.Namespace
			if pr.Namespace != nil {
				ns = string(*pr.Namespace)
			}
			g := c.gws[types.NamespacedName{Namespace: ns, Name: string(pr.Name)}]
			if g == nil {
				continue // not a Gateway of ours: its controller answers
			}
			if cr == nil {
				cr = c.compileRoute(hr)
			}
			ours = append(ours, gatewayv1.RouteParentStatus{
				ParentRef:      pr,
				ControllerName: gatewayv1.GatewayController(c.o.ControllerName),
				Conditions:     c.attach(hr, pr, g, cr),
			})
		}
		c.routeStatus(hr, ours)
	}
}

// attach attaches hr through parentRef pr to g's listeners and returns the parent's
// conditions (without transition times).
func (c *compile) attach(hr *gatewayv1.HTTPRoute, pr gatewayv1.ParentReference, g *gateway, cr *compiledRoute) []metav1.Condition {
	gen := hr.Generation
	resolved := cond("ResolvedRefs", true, "ResolvedRefs", "", gen)
	if cr.unresolved != "" {
		resolved = cond("ResolvedRefs", false, cr.unresolved, cr.unresolvedMsg, gen)
	}
	notAccepted := func(reason, format string, args ...any) []metav1.Condition {
		msg := fmt.Sprintf(format, args...)
		c.problem("HTTPRoute", hr.Namespace, hr.Name, reason, "parent Gateway %s/%s: %s", g.obj.Namespace, g.obj.Name, msg)
		return []metav1.Condition{cond("Accepted", false, reason, msg, gen), resolved}
	}
	if !g.accepted && g.acc.Reason != "ListenersNotValid" {
		// Rejected as a whole (class, parameters, addresses); with only invalid
		// listeners the listeners answer below (NotAllowedByListeners).
		return notAccepted("NoMatchingParent", "the Gateway is not accepted (see its status)")
	}
	var named []*listener
	for _, l := range g.listeners {
		if (pr.SectionName == nil || *pr.SectionName == l.Name) && (pr.Port == nil || *pr.Port == l.Port) {
			named = append(named, l)
		}
	}
	if len(named) == 0 {
		return notAccepted("NoMatchingParent", "no listener matches sectionName %s and port %s", strOr(pr.SectionName), portOr(pr.Port))
	}
	var allowed []*listener
	why := "no listener named by the parentRef is valid"
	for _, l := range named {
		if l.rejected != "" {
			continue
		}
		if !l.httpRoutes() {
			why = fmt.Sprintf("listener %s does not allow HTTPRoute (allowedRoutes.kinds)", l.Name)
			continue
		}
		ok, err := c.admits(g.obj, l, hr.Namespace)
		if err != nil {
			why = fmt.Sprintf("listener %s: %v", l.Name, err)
			continue
		}
		if !ok {
			why = fmt.Sprintf("listener %s does not allow routes from namespace %s (allowedRoutes.namespaces)", l.Name, hr.Namespace)
			continue
		}
		allowed = append(allowed, l)
	}
	if len(allowed) == 0 {
		return notAccepted("NotAllowedByListeners", "%s", why)
	}
	type attachment struct {
		l     *listener
		hosts []string
	}
	var attached []attachment
	for _, l := range allowed {
		if hs := effectiveHosts(l.hostname, hr.Spec.Hostnames); len(hs) > 0 {
			attached = append(attached, attachment{l, hs})
		}
	}
	if len(attached) == 0 {
		return notAccepted("NoMatchingListenerHostname", "no hostname of the route is within a listener's hostname")
	}
	if cr.validRules == 0 {
		return notAccepted(cr.invalid, "%s", cr.invalidMsg)
	}
	key := hr.Namespace + "/" + hr.Name
	for _, a := range attached {
		if a.l.routesSeen == nil {
			a.l.routesSeen = map[string]bool{}
		}
		if !a.l.routesSeen[key] {
			a.l.attached++
		}
		a.l.routesSeen[key] = true
		for _, h := range a.hosts {
			if a.l.routesSeen[key+" "+h] {
				continue // a second parentRef to the same listener
			}
			a.l.routesSeen[key+" "+h] = true
			for _, r := range cr.routes {
				a.l.entries = append(a.l.entries, &entry{route: hr, host: h, r: r})
			}
		}
	}
	out := []metav1.Condition{cond("Accepted", true, "Accepted", "", gen), resolved}
	if cr.invalid != "" {
		out = append(out, cond("PartiallyInvalid", true, cr.invalid, cr.invalidMsg+" (that rule is dropped)", gen))
	}
	return out
}

// effectiveHosts is the hostnames a route with hostnames rhs serves on a listener
// with hostname l: the intersections, once each; none when they are disjoint.
func effectiveHosts(l string, rhs []gatewayv1.Hostname) []string {
	if len(rhs) == 0 {
		return []string{l}
	}
	var out []string
	seen := map[string]bool{}
	for _, rh := range rhs {
		if h, ok := intersect(l, string(rh)); ok && !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

func strOr(s *gatewayv1.SectionName) string {
	if s == nil {
		return "(any)"
	}
	return string(*s)
}

func portOr(p *gatewayv1.PortNumber) string {
	if p == nil {
		return "(any)"
	}
	return fmt.Sprint(*p)
}

// routeStatus records hr's status: other controllers' parents as they are, then ours
// in parentRefs order, each condition keeping its old transition time when unchanged.
func (c *compile) routeStatus(hr *gatewayv1.HTTPRoute, ours []gatewayv1.RouteParentStatus) {
	var others, old []gatewayv1.RouteParentStatus
	for _, p := range hr.Status.Parents {
		if string(p.ControllerName) == c.o.ControllerName {
			old = append(old, p)
		} else {
			others = append(others, p)
		}
	}
	if len(ours) == 0 && len(old) == 0 {
		return
	}
	st := gatewayv1.HTTPRouteStatus{}
	st.Parents = append([]gatewayv1.RouteParentStatus{}, others...)
	for _, p := range ours {
		var prev []metav1.Condition
		for _, o := range old {
			if reflect.DeepEqual(o.ParentRef, p.ParentRef) {
				prev = o.Conditions
			}
		}
		p.Conditions = merge(prev, p.Conditions, []string{"Accepted", "ResolvedRefs", "PartiallyInvalid"}, c.o.Now)
		st.Parents = append(st.Parents, p)
	}
	c.res.HTTPRoutes[types.NamespacedName{Namespace: hr.Namespace, Name: hr.Name}] = st
}
