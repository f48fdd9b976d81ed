package gateways

import (
	"fmt"
	"sort"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/cluster/ingress/refs"
	"podlab.dev/podlab/cluster/ingress/table"
)

// gateway is one Gateway of one of our classes, as compiled.
type gateway struct {
	obj       *gatewayv1.Gateway
	accepted  bool
	acc       metav1.Condition
	listeners []*listener
}

// listener is one entry of spec.listeners with what validation found.
type listener struct {
	gatewayv1.Listener
	hostname string
	// Accepted False: reason and message (UnsupportedProtocol, UnsupportedValue,
	// HostnameConflict, ProtocolConflict).
	rejected, rejectMsg string
	conflict            string // HostnameConflict | ProtocolConflict | ""
	// ResolvedRefs False: reason and message (InvalidCertificateRef, RefNotPermitted,
	// InvalidRouteKinds).
	unresolved, unresolvedMsg string
	kinds                     []gatewayv1.RouteGroupKind // the valid ones
	certs                     []table.Cert
	attached                  int32
	entries                   []*entry // the route matches attached here
	routesSeen                map[string]bool
}

func (l *listener) httpRoutes() bool { return len(l.kinds) > 0 }

// programmed: the proxy serves it.
func (l *listener) programmed() bool {
	return l.rejected == "" && l.httpRoutes() && (l.Protocol == gatewayv1.HTTPProtocolType || len(l.certs) > 0)
}

var httpRouteKind = gatewayv1.RouteGroupKind{Group: ptr(gatewayv1.Group(gatewayv1.GroupName)), Kind: "HTTPRoute"}

func ptr[T any](v T) *T { return &v }

// gateway validates g and its listeners; routes attach later.
func (c *compile) gateway(gw *gatewayv1.Gateway, classAccepted bool) {
	g := &gateway{obj: gw}
	key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	c.gws[key] = g
	for i := range gw.Spec.Listeners {
		g.listeners = append(g.listeners, c.listener(gw, gw.Spec.Listeners[i]))
	}
	conflicts(g.listeners)
	valid := 0
	for _, l := range g.listeners {
		if l.rejected == "" {
			valid++
		}
	}
	gen := gw.Generation
	switch {
	case !classAccepted:
		g.acc = cond("Accepted", false, "Invalid", fmt.Sprintf("GatewayClass %s is not accepted (see its status)", gw.Spec.GatewayClassName), gen)
	case gw.Spec.Infrastructure != nil && gw.Spec.Infrastructure.ParametersRef != nil:
		p := gw.Spec.Infrastructure.ParametersRef
		g.acc = cond("Accepted", false, "InvalidParameters", fmt.Sprintf("spec.infrastructure.parametersRef %s/%s %s: podlab's gateway controller takes no parameters", p.Group, p.Kind, p.Name), gen)
	case !poolAddresses(gw.Spec.Addresses):
		g.acc = cond("Accepted", false, "UnsupportedAddress", "spec.addresses: podlab gives each Gateway one address from the LoadBalancer pool; a requested value is not supported (remove spec.addresses, or leave one IPAddress entry without a value)", gen)
	case valid == 0:
		g.acc = cond("Accepted", false, "ListenersNotValid", "no listener is valid (see status.listeners)", gen)
	case valid < len(g.listeners):
		g.acc = cond("Accepted", true, "ListenersNotValid", fmt.Sprintf("%d of %d listeners are not valid (see status.listeners)", len(g.listeners)-valid, len(g.listeners)), gen)
	default:
		g.acc = cond("Accepted", true, "Accepted", "", gen)
	}
	g.accepted = g.acc.Status == metav1.ConditionTrue
	if g.acc.Reason != "Accepted" {
		c.problem("Gateway", gw.Namespace, gw.Name, g.acc.Reason, "%s", g.acc.Message)
	}
	for _, l := range g.listeners {
		if l.rejected != "" {
			c.problem("Gateway", gw.Namespace, gw.Name, l.rejected, "listener %s: %s", l.Name, l.rejectMsg)
		}
		if l.unresolved != "" {
			c.problem("Gateway", gw.Namespace, gw.Name, l.unresolved, "listener %s: %s", l.Name, l.unresolvedMsg)
		}
	}
}

// poolAddresses says whether spec.addresses asks only for what podlab gives: nothing,
// or one IPAddress without a value ("pick one", GatewayAddressEmpty).
func poolAddresses(as []gatewayv1.GatewaySpecAddress) bool {
	switch {
	case len(as) == 0:
		return true
	case len(as) > 1:
		return false
	}
	a := as[0]
	return a.Value == "" && (a.Type == nil || *a.Type == gatewayv1.IPAddressType)
}

// listener validates one listener alone (conflicts are between listeners).
func (c *compile) listener(gw *gatewayv1.Gateway, spec gatewayv1.Listener) *listener {
	l := &listener{Listener: spec, kinds: []gatewayv1.RouteGroupKind{}}
	if spec.Hostname != nil {
		l.hostname = string(*spec.Hostname)
	}
	switch spec.Protocol {
	case gatewayv1.HTTPProtocolType:
		if spec.TLS != nil {
			l.rejected, l.rejectMsg = "UnsupportedValue", "an HTTP listener takes no tls (use protocol HTTPS)"
		}
	case gatewayv1.HTTPSProtocolType:
		switch {
		case spec.TLS == nil:
			l.rejected, l.rejectMsg = "UnsupportedValue", "an HTTPS listener needs tls.certificateRefs"
		case spec.TLS.Mode != nil && *spec.TLS.Mode != gatewayv1.TLSModeTerminate:
			l.rejected, l.rejectMsg = "UnsupportedValue", fmt.Sprintf("tls.mode %s: an HTTPS listener terminates TLS (mode Terminate)", *spec.TLS.Mode)
		default:
			c.certificates(gw, l)
		}
	default:
		l.rejected, l.rejectMsg = "UnsupportedProtocol", fmt.Sprintf("protocol %s is not supported: podlab's gateway serves HTTP and HTTPS (HTTPRoute)", spec.Protocol)
		return l
	}
	if spec.AllowedRoutes == nil || len(spec.AllowedRoutes.Kinds) == 0 {
		l.kinds = append(l.kinds, httpRouteKind)
		return l
	}
	for _, k := range spec.AllowedRoutes.Kinds {
		if (k.Group == nil || *k.Group == gatewayv1.GroupName) && k.Kind == "HTTPRoute" {
			if len(l.kinds) == 0 {
				l.kinds = append(l.kinds, httpRouteKind)
			}
			continue
		}
		group := gatewayv1.GroupName
		if k.Group != nil {
			group = string(*k.Group)
		}
		if l.unresolved == "" {
			l.unresolved, l.unresolvedMsg = "InvalidRouteKinds", fmt.Sprintf("allowedRoutes.kinds: %s/%s is not supported on %s (HTTPRoute is)", group, k.Kind, spec.Protocol)
		}
	}
	return l
}

// certificates resolves an HTTPS listener's certificateRefs; every resolvable one is
// served, and the first bad one is reported.
func (c *compile) certificates(gw *gatewayv1.Gateway, l *listener) {
	bad := func(reason, msg string) {
		if l.unresolved == "" {
			l.unresolved, l.unresolvedMsg = reason, msg
		}
	}
	if len(l.TLS.CertificateRefs) == 0 {
		bad("InvalidCertificateRef", "tls.certificateRefs is empty: an HTTPS listener needs a kubernetes.io/tls Secret")
	}
	for i, ref := range l.TLS.CertificateRefs {
		ns := gw.Namespace
		if ref.Namespace != nil {
			ns = string(*ref.Namespace)
		}
		group, kind := "", "Secret"
		if ref.Group != nil {
			group = string(*ref.Group)
		}
		if ref.Kind != nil {
			kind = string(*ref.Kind)
		}
		if group != "" || kind != "Secret" {
			bad("InvalidCertificateRef", fmt.Sprintf("tls.certificateRefs[%d]: %s/%s is not a Secret (group \"\", kind Secret)", i, group, kind))
			continue
		}
		if !granted(c.r, "Gateway", gw.Namespace, "Secret", ns, string(ref.Name)) {
			bad("RefNotPermitted", fmt.Sprintf("tls.certificateRefs[%d]: Secret %s/%s is in another namespace and no ReferenceGrant there allows it", i, ns, ref.Name))
			continue
		}
		crt, p := refs.Certificate(c.r, ns, string(ref.Name))
		if p != nil {
			bad("InvalidCertificateRef", fmt.Sprintf("tls.certificateRefs[%d]: %s", i, p.Message))
			continue
		}
		cert := table.Cert{Cert: crt, Source: ns + "/" + string(ref.Name)}
		if l.hostname != "" {
			cert.Hosts = []string{l.hostname}
		}
		l.certs = append(l.certs, cert)
	}
}

// conflicts marks listeners that cannot be told apart: HTTP and HTTPS on one port
// (ProtocolConflict), or the same port, protocol and hostname (HostnameConflict).
// Neither is served; listeners already rejected take no part.
func conflicts(ls []*listener) {
	for _, a := range ls {
		if a.rejected != "" {
			continue
		}
		for _, b := range ls {
			if a == b || b.rejected != "" || a.Port != b.Port {
				continue
			}
			if a.Protocol != b.Protocol {
				a.conflict = "ProtocolConflict"
				break
			}
			if a.hostname == b.hostname && a.conflict == "" {
				a.conflict = "HostnameConflict"
			}
		}
	}
	for _, l := range ls {
		switch l.conflict {
		case "ProtocolConflict":
			l.rejected, l.rejectMsg = l.conflict, fmt.Sprintf("port %d is used by listeners of another protocol", l.Port)
		case "HostnameConflict":
			l.rejected, l.rejectMsg = l.conflict, fmt.Sprintf("another %s listener on port %d has the same hostname %q", l.Protocol, l.Port, l.hostname)
		}
	}
}

// admits says whether l takes routes from namespace ns.
func (c *compile) admits(gw *gatewayv1.Gateway, l *listener, ns string) (bool, error) {
	from := gatewayv1.NamespacesFromSame
	var sel *metav1.LabelSelector
	if l.AllowedRoutes != nil && l.AllowedRoutes.Namespaces != nil {
		if f := l.AllowedRoutes.Namespaces.From; f != nil {
			from = *f
		}
		sel = l.AllowedRoutes.Namespaces.Selector
	}
	switch from {
	case gatewayv1.NamespacesFromAll:
		return true, nil
	case gatewayv1.NamespacesFromSame:
		return ns == gw.Namespace, nil
	case gatewayv1.NamespacesFromSelector:
		if sel == nil {
			return false, fmt.Errorf("allowedRoutes.namespaces.from is Selector but selector is empty")
		}
		s, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return false, fmt.Errorf("allowedRoutes.namespaces.selector: %v", err)
		}
		return s.Matches(labels.Set(c.namespaceLabels(ns))), nil
	}
	return false, nil // None, or a value we do not know
}

func (c *compile) namespaceLabels(ns string) map[string]string {
	if lb, ok := c.nsLb[ns]; ok {
		return lb
	}
	// The API server labels every namespace with its name (Kubernetes 1.22+), and
	// selectors rely on it (the conformance suite selects by it).
	lb := map[string]string{}
	if o, ok := c.r.Get("Namespace", "", ns); ok {
		for k, v := range o.GetLabels() {
			lb[k] = v
		}
	}
	lb["kubernetes.io/metadata.name"] = ns
	c.nsLb[ns] = lb
	return lb
}

// gatewayStatus is g's status to write.
func (c *compile) gatewayStatus(g *gateway) gatewayv1.GatewayStatus {
	gw := g.obj
	gen := gw.Generation
	st := gw.Status
	var addrs []gatewayv1.GatewayStatusAddress
	if c.o.Addresses != nil && g.accepted {
		addrs = c.o.Addresses(gw.Namespace, gw.Name)
	}
	st.Addresses = addrs
	prog := cond("Programmed", true, "Programmed", "", gen)
	switch {
	case !g.accepted:
		prog = cond("Programmed", false, "Invalid", "the Gateway is not accepted", gen)
	case len(addrs) == 0:
		prog = cond("Programmed", false, "AddressNotAssigned", "waiting for an address from the LoadBalancer pool", gen)
	}
	st.Conditions = merge(gw.Status.Conditions, []metav1.Condition{g.acc, prog}, []string{"Accepted", "Programmed", "Ready"}, c.o.Now)
	old := map[gatewayv1.SectionName][]metav1.Condition{}
	for _, ls := range gw.Status.Listeners {
		old[ls.Name] = ls.Conditions
	}
	st.Listeners = nil
	for _, l := range g.listeners {
		acc := cond("Accepted", true, "Accepted", "", gen)
		if l.rejected != "" {
			acc = cond("Accepted", false, l.rejected, l.rejectMsg, gen)
		}
		res := cond("ResolvedRefs", true, "ResolvedRefs", "", gen)
		if l.unresolved != "" {
			res = cond("ResolvedRefs", false, l.unresolved, l.unresolvedMsg, gen)
		}
		confl := cond("Conflicted", false, "NoConflicts", "", gen)
		p := cond("Programmed", true, "Programmed", "", gen)
		switch {
		case l.conflict != "":
			confl = cond("Conflicted", true, l.conflict, l.rejectMsg, gen)
			p = cond("Programmed", false, l.conflict, l.rejectMsg, gen)
		case !g.accepted || !l.programmed():
			p = cond("Programmed", false, "Invalid", "not served (see Accepted and ResolvedRefs)", gen)
		}
		kinds := l.kinds
		if l.rejected == "UnsupportedProtocol" {
			kinds = []gatewayv1.RouteGroupKind{}
		}
		st.Listeners = append(st.Listeners, gatewayv1.ListenerStatus{
			Name:           l.Name,
			SupportedKinds: kinds,
			AttachedRoutes: l.attached,
			Conditions:     merge(old[l.Name], []metav1.Condition{acc, p, res, confl}, []string{"Accepted", "Programmed", "ResolvedRefs", "Conflicted", "Ready", "Detached"}, c.o.Now),
		})
	}
	return st
}

// sortCerts puts certificates in SNI order: precise names, then longer wildcards, then
// the ones for any name.
func sortCerts(cs []table.Cert) {
	host := func(c table.Cert) string {
		if len(c.Hosts) == 0 {
			return ""
		}
		return c.Hosts[0]
	}
	sort.SliceStable(cs, func(i, j int) bool { return moreSpecific(host(cs[i]), host(cs[j])) })
}
