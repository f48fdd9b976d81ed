// Package ingress is the lab's ingress and gateway controller, one component: it
// watches the store's Ingresses, IngressClasses, GatewayClasses, Gateways, HTTPRoutes
// and ReferenceGrants (with the Services, EndpointSlices, Secrets and Namespaces they
// name), compiles them into one routing table (ingresses.Compile, gateways.Compile),
// hands it to the proxy, and writes back what a controller writes: Ingress
// status.loadBalancer, GatewayClass, Gateway and HTTPRoute conditions.
//
// As in a cluster, the proxies are pods. The first Ingress brings up the ingress
// controller (Deployment and LoadBalancer Service podlab-ingress/podlab-ingress-
// controller, as ingress-nginx's manifests make them); each Gateway of the podlab
// class gets its own Deployment and LoadBalancer Service in podlab-gateway-system
// (as Envoy Gateway makes them), so its address comes from the lab's pool and
// traffic from a host outside the cluster reaches the proxy through kube-proxy's
// rules. The proxy itself runs in the supervisor with its sockets inside those pods'
// namespaces (ServePod), dialing backends from there, like the other built-in servers.
//
// It owns: podlab's IngressClass and GatewayClass, the objects in podlab-ingress and
// podlab-gateway-system it made (labelled app.kubernetes.io/managed-by=podlab), and the
// status of the Ingresses and Gateway API objects of its classes. It never touches
// objects of other classes, nor another component's state.
package ingress

import (
	"context"
	"crypto/tls"
	"sort"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/ingress/gateways"
	"podlab.dev/podlab/cluster/ingress/ingresses"
	"podlab.dev/podlab/cluster/ingress/proxy"
	"podlab.dev/podlab/cluster/ingress/table"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// Services admits and removes the Services the controller makes, through the same
// registry as a user's (ClusterIP, node ports and a LoadBalancer address from the
// pool).
type Services interface {
	ApplyService(*corev1.Service) error
	DeleteService(namespace, name string) error
}

// Component is the ingress and gateway controller.
type Component struct {
	component.Loop
	w     component.Writer
	svcs  Services
	emit  component.Emit
	proxy *proxy.Proxy
	log   *AccessLog

	// Controller brings the ingress controller up before any Ingress exists (the
	// lab's cluster.ingress.controller); set before Run.
	Controller bool

	fake ingressFake
	// problems are the Warning events of the last sync and current those of this one:
	// a problem is said once, and again only after it went away and came back.
	problems, current map[string]events.Event
	classes           bool // podlab's classes are written
	// quiet: the last sync saw no Ingress, Gateway or HTTPRoute, with classCount
	// classes; until that changes there is nothing to compile (a 1,000-pod deploy
	// changes Services and EndpointSlices a thousand times).
	quiet      bool
	classCount int
}

// New returns the controller; it writes through w and svcs and reports through emit.
func New(w component.Writer, svcs Services, emit component.Emit) *Component {
	c := &Component{w: w, svcs: svcs, emit: emit, log: NewAccessLog(accessLogSize), problems: map[string]events.Event{}}
	c.proxy = proxy.New(proxy.Options{Log: c.log.Add, Errors: func(err error) {
		if emit != nil {
			emit(events.Event{Type: events.Warning, Kind: "Lab", Message: "ingress and gateway proxy: " + err.Error()})
		}
	}})
	c.Interest = func(_ store.Reader, ch store.Change) bool { return interesting[ch.Key.Kind] }
	return c
}

// interesting are the kinds whose changes can change a route, a status or the proxies.
var interesting = map[string]bool{
	"Ingress": true, "IngressClass": true, "GatewayClass": true, "Gateway": true, "HTTPRoute": true,
	"ReferenceGrant": true, "Service": true, "EndpointSlice": true, "Secret": true, "Namespace": true,
}

// Name is the component's name.
func (c *Component) Name() string { return "ingress" }

// Log is the access log of every proxy pod.
func (c *Component) Log() *AccessLog { return c.log }

// Run programs the proxies until ctx ends.
func (c *Component) Run(ctx context.Context, r store.Reader) error {
	return c.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { c.sync(r) })
}

// Serves says whether p is a proxy pod this component serves.
func Serves(p *corev1.Pod) bool { return FrontendOf(p) != "" }

// ServePod serves proxy pod p from inside the network namespace at netnsPath.
func (c *Component) ServePod(p *corev1.Pod, netnsPath string) (interface{ Close() }, error) {
	ps, err := servePod(c.proxy, FrontendOf(p), p.Namespace+"/"+p.Name, netnsPath)
	if err != nil {
		return nil, err
	}
	return ps, nil
}

func (c *Component) sync(r store.Reader) {
	if !c.classes {
		c.classes = c.ensureClasses(r)
	}
	quiet := r.Count("Ingress")+r.Count("Gateway")+r.Count("HTTPRoute") == 0 && !c.Controller
	classes := r.Count("IngressClass") + r.Count("GatewayClass")
	if quiet && c.quiet && classes == c.classCount {
		return
	}
	c.quiet, c.classCount = quiet, classes
	c.current = map[string]events.Event{}
	defer c.sayProblems()
	t := &table.Table{Frontends: map[string]*table.Frontend{}}

	if r.Count("Ingress") > 0 || c.Controller {
		c.ensureIngressController(r)
	}
	fake, err := c.fake.get()
	if err != nil {
		c.problem("Deployment", IngressNamespace, IngressControllerName, "the default certificate: "+err.Error())
	}
	ing := ingresses.Compile(r, ingresses.Options{
		ClassName: IngressClassName, Controller: IngressController, HTTPPort: 80, HTTPSPort: 443,
		DefaultCert: fake, Addresses: ingressAddresses(r),
	})
	if ing.Frontend != nil {
		t.Frontends[table.FrontendIngress] = ing.Frontend
	}
	for _, p := range ing.Problems {
		c.warn(p.Kind, p.Namespace, p.Name, p.Reason, p.Message)
	}

	gw := gateways.Compile(r, gateways.Options{
		ControllerName: GatewayController, Now: metav1.Now(),
		Addresses: func(namespace, name string) []gatewayv1.GatewayStatusAddress {
			return gatewayAddresses(r, namespace, name)
		},
	})
	for k, f := range gw.Frontends {
		t.Frontends[k] = f
	}
	for _, p := range gw.Problems {
		c.warn(p.Kind, p.Namespace, p.Name, p.Reason, p.Message)
	}
	c.ensureGatewayProxies(r, gw.Frontends)
	c.proxy.Update(t)

	for k, st := range ing.Status {
		c.writeIngressStatus(r, k, st)
	}
	for name, st := range gw.GatewayClasses {
		writeStatus(c, r, "GatewayClass", types.NamespacedName{Name: name}, func(o *gatewayv1.GatewayClass) *gatewayv1.GatewayClassStatus { return &o.Status }, st)
	}
	for k, st := range gw.Gateways {
		writeStatus(c, r, "Gateway", k, func(o *gatewayv1.Gateway) *gatewayv1.GatewayStatus { return &o.Status }, st)
	}
	for k, st := range gw.HTTPRoutes {
		writeStatus(c, r, "HTTPRoute", k, func(o *gatewayv1.HTTPRoute) *gatewayv1.HTTPRouteStatus { return &o.Status }, st)
	}
}

func (c *Component) writeIngressStatus(r store.Reader, k types.NamespacedName, st networkingv1.IngressStatus) {
	writeStatus(c, r, "Ingress", k, func(o *networkingv1.Ingress) *networkingv1.IngressStatus { return &o.Status }, st)
}

// writeStatus writes status st of kind k when it differs from the stored one.
func writeStatus[O store.Object, S any](c *Component, r store.Reader, kind string, k types.NamespacedName, field func(O) *S, st S) {
	o, ok := r.Get(kind, k.Namespace, k.Name)
	if !ok {
		return
	}
	cur, ok := o.(O)
	if !ok || apiequality.Semantic.DeepEqual(*field(cur), st) {
		return
	}
	n := o.DeepCopyObject().(O)
	*field(n) = st
	if _, err := c.w.UpdateStatus(n); err != nil {
		c.problem(kind, k.Namespace, k.Name, "writing status: "+err.Error())
	}
}

// problem notes a Warning event about an object for this sync.
func (c *Component) problem(kind, namespace, name, msg string) {
	c.warn(kind, namespace, name, events.Warning, msg)
}

// warn notes a Warning event with its reason (the event's type, as kubectl describe
// shows it: IngressClassNotFound, BackendNotFound, RefNotPermitted, ...).
func (c *Component) warn(kind, namespace, name, reason, msg string) {
	if reason == "" {
		reason = events.Warning
	}
	warningReasons.Store(reason, true)
	c.current[kind+"/"+namespace+"/"+name+": "+msg] = events.Event{Type: reason, Kind: kind, Namespace: namespace, Name: name, Message: msg}
}

// warningReasons are the reasons this component has emitted Warning events with.
var warningReasons sync.Map

// IsWarning says whether reason is one of this component's Warning reasons, so the
// lab's Kubernetes events call them Warning as a cluster would.
func IsWarning(reason string) bool {
	_, ok := warningReasons.Load(reason)
	return ok
}

// sayProblems emits the problems this sync found that the last one did not.
func (c *Component) sayProblems() {
	keys := make([]string, 0, len(c.current))
	for k := range c.current {
		if _, said := c.problems[k]; !said {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if c.emit != nil {
			c.emit(c.current[k])
		}
	}
	c.problems = c.current
}

// ensureClasses writes podlab's IngressClass and GatewayClass, once per lab; a
// user's own object of the same name is left as it is.
func (c *Component) ensureClasses(r store.Reader) bool {
	ok := true
	if _, exists := r.Get("IngressClass", "", IngressClassName); !exists {
		if _, err := c.w.Create(IngressClass()); err != nil {
			ok = false
		}
	}
	if _, exists := r.Get("GatewayClass", "", GatewayClassName); !exists {
		if _, err := c.w.Create(GatewayClass()); err != nil {
			ok = false
		}
	}
	return ok
}

func (c *Component) ensureNamespace(r store.Reader, name string) {
	if _, ok := r.Get("Namespace", "", name); !ok {
		if _, err := c.w.Create(infraNamespace(name)); err != nil {
			c.problem("Namespace", "", name, "creating the namespace: "+err.Error())
		}
	}
}

// ensureIngressController brings up the ingress controller's Deployment and Service
// once; after that they are ordinary objects (a user may scale or delete them, as
// in a cluster; deleting one brings it back at the next Ingress change).
func (c *Component) ensureIngressController(r store.Reader) {
	c.ensureNamespace(r, IngressNamespace)
	if _, ok := r.Get("Service", IngressNamespace, IngressControllerName); !ok {
		if err := c.svcs.ApplyService(ingressService()); err != nil {
			c.problem("Service", IngressNamespace, IngressControllerName, "creating the ingress controller's Service: "+err.Error())
		}
	}
	if _, ok := r.Get("Deployment", IngressNamespace, IngressControllerName); !ok {
		if _, err := c.w.Create(ingressDeployment()); err != nil {
			c.problem("Deployment", IngressNamespace, IngressControllerName, "creating the ingress controller: "+err.Error())
		}
	}
}

// ensureGatewayProxies keeps one Deployment and Service per served Gateway, the
// Service's ports those of the Gateway's listeners, and removes those of Gateways
// that are gone or no longer served.
func (c *Component) ensureGatewayProxies(r store.Reader, frontends map[string]*table.Frontend) {
	want := map[string]bool{}
	keys := make([]string, 0, len(frontends))
	for k := range frontends {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		c.ensureNamespace(r, GatewayNamespace)
	}
	for _, k := range keys {
		ns, name, ok := splitGatewayKey(k)
		if !ok {
			continue
		}
		infra := gatewayInfraName(ns, name)
		want[infra] = true
		var ports []int32
		for _, l := range frontends[k].Listeners {
			ports = append(ports, l.Port)
		}
		svc := gatewayService(ns, name, ports)
		if old, ok := r.Get("Service", GatewayNamespace, infra); !ok || !sameServicePorts(old.(*corev1.Service), svc) {
			if err := c.svcs.ApplyService(svc); err != nil {
				c.problem("Gateway", ns, name, "creating the gateway's Service: "+err.Error())
			}
		}
		if _, ok := r.Get("Deployment", GatewayNamespace, infra); !ok {
			if _, err := c.w.Create(gatewayDeployment(ns, name)); err != nil {
				c.problem("Gateway", ns, name, "creating the gateway's proxy: "+err.Error())
			}
		}
	}
	for _, o := range r.List("Deployment", GatewayNamespace) {
		d := o.(*appsv1.Deployment)
		if d.Labels[labelName] != nameGateway || d.Labels[labelManagedBy] != managedBy || want[d.Name] {
			continue
		}
		if _, err := c.w.Delete("Deployment", GatewayNamespace, d.Name); err != nil {
			c.problem("Deployment", GatewayNamespace, d.Name, "removing a gateway's proxy: "+err.Error())
		}
	}
	for _, o := range r.List("Service", GatewayNamespace) {
		s := o.(*corev1.Service)
		if s.Labels[labelName] != nameGateway || s.Labels[labelManagedBy] != managedBy || want[s.Name] {
			continue
		}
		if err := c.svcs.DeleteService(GatewayNamespace, s.Name); err != nil {
			c.problem("Service", GatewayNamespace, s.Name, "removing a gateway's Service: "+err.Error())
		}
	}
}

func splitGatewayKey(k string) (namespace, name string, ok bool) {
	rest, ok := strings.CutPrefix(k, "gateway/")
	if !ok {
		return "", "", false
	}
	return strings.Cut(rest, "/")
}

func sameServicePorts(a, b *corev1.Service) bool {
	if len(a.Spec.Ports) != len(b.Spec.Ports) {
		return false
	}
	for i := range a.Spec.Ports {
		if a.Spec.Ports[i].Port != b.Spec.Ports[i].Port || a.Spec.Ports[i].TargetPort != b.Spec.Ports[i].TargetPort {
			return false
		}
	}
	return true
}

// ingressAddresses are the ingress controller Service's LoadBalancer addresses, as
// ingress-nginx publishes its Service's status on every Ingress (--publish-service).
func ingressAddresses(r store.Reader) []networkingv1.IngressLoadBalancerIngress {
	o, ok := r.Get("Service", IngressNamespace, IngressControllerName)
	if !ok {
		return nil
	}
	var out []networkingv1.IngressLoadBalancerIngress
	for _, in := range o.(*corev1.Service).Status.LoadBalancer.Ingress {
		out = append(out, networkingv1.IngressLoadBalancerIngress{IP: in.IP, Hostname: in.Hostname})
	}
	return out
}

// gatewayAddresses are Gateway namespace/name's addresses: its Service's
// LoadBalancer IP from the pool.
func gatewayAddresses(r store.Reader, namespace, name string) []gatewayv1.GatewayStatusAddress {
	o, ok := r.Get("Service", GatewayNamespace, gatewayInfraName(namespace, name))
	if !ok {
		return nil
	}
	var out []gatewayv1.GatewayStatusAddress
	ip := gatewayv1.IPAddressType
	for _, in := range o.(*corev1.Service).Status.LoadBalancer.Ingress {
		if in.IP != "" {
			out = append(out, gatewayv1.GatewayStatusAddress{Type: &ip, Value: in.IP})
		}
	}
	return out
}

// ingressFake is the controller's default certificate, made once.
type ingressFake struct {
	once sync.Once
	cert *tls.Certificate
	err  error
}

func (f *ingressFake) get() (*tls.Certificate, error) {
	f.once.Do(func() { f.cert, f.err = ingresses.FakeCertificate() })
	return f.cert, f.err
}

const accessLogSize = 2000
