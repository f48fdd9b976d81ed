package controllers

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/topology"
)

// Endpoints is the EndpointSlice, Endpoints and EndpointSlice mirroring controllers: it
// keeps the EndpointSlices and Endpoints of every Service with a selector in step with
// its pods (ready, serving, terminating; named target ports resolved per pod), and
// mirrors the user's own Endpoints of selectorless Services into EndpointSlices. The
// slices are what kube-proxy (and DNS) read.
type Endpoints struct {
	component.Loop
	w    component.Writer
	emit component.Emit
	// done remembers, per Service, the inputs of its last pass (the Service's and its
	// candidate pods' resourceVersions) and what it wrote: an unchanged Service costs
	// no recomputation.
	done map[string]memo
}

type memo struct {
	inputs string
	keys   []store.Key
}

// NewEndpoints returns the endpoints controllers.
func NewEndpoints(w component.Writer, emit component.Emit) *Endpoints {
	c := &Endpoints{w: w, emit: emit, done: map[string]memo{}}
	c.Interest = func(r store.Reader, ch store.Change) bool {
		return kindIs(ch, "Service", "Endpoints", "EndpointSlice") || podsOf(r, ch, "Service")
	}
	return c
}

func (c *Endpoints) Name() string { return "endpoints-controller" }

func (c *Endpoints) Run(ctx context.Context, r store.Reader) error {
	return c.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { c.Sync(r) })
}

// ServicePods is the endpoints controller's view of the lab's pods.
func ServicePods(r store.Reader) []services.Pod {
	objs := r.List("Pod", "")
	out := make([]services.Pod, 0, len(objs))
	for _, o := range objs {
		p := o.(*corev1.Pod)
		ip, _ := netip.ParseAddr(p.Status.PodIP)
		sp := services.Pod{Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName, IP: ip, Labels: p.Labels, Version: p.ResourceVersion,
			Ready: podReady(p), Terminating: p.DeletionTimestamp != nil, Hostname: p.Spec.Hostname, Subdomain: p.Spec.Subdomain}
		for _, ct := range p.Spec.Containers {
			for _, pt := range ct.Ports {
				proto := string(pt.Protocol)
				if proto == "" {
					proto = "TCP"
				}
				sp.Ports = append(sp.Ports, topology.Port{Name: pt.Name, Port: int(pt.ContainerPort), Protocol: proto})
			}
		}
		out = append(out, sp)
	}
	return out
}

// inputs names what a Service's endpoints are computed from.
func inputs(svc *corev1.Service, pods []services.Pod) string {
	var b strings.Builder
	b.WriteString(svc.ResourceVersion)
	for _, p := range pods {
		b.WriteString(";" + p.Name + "@" + p.Version)
	}
	return b.String()
}

// stillThere says whether the objects a memo wrote are still in the store (a user may
// have deleted one).
func (c *Endpoints) stillThere(r store.Reader, keys []store.Key) bool {
	for _, k := range keys {
		if _, ok := r.Get(k.Kind, k.Namespace, k.Name); !ok {
			return false
		}
	}
	return true
}

// podIndex finds the pods a selector may pick by one of its label pairs, so that a
// pass over S Services costs S times the pods each selects, not S times every pod.
type podIndex map[string][]services.Pod // "namespace/key=value" -> pods

func indexPods(pods []services.Pod) podIndex {
	ix := podIndex{}
	for _, p := range pods {
		for k, v := range p.Labels {
			key := p.Namespace + "/" + k + "=" + v
			ix[key] = append(ix[key], p)
		}
	}
	return ix
}

// candidates are the pods that may match svc's selector: those with its rarest pair.
func (ix podIndex) candidates(svc *corev1.Service) []services.Pod {
	var best []services.Pod
	first := true
	for k, v := range svc.Spec.Selector {
		ps := ix[svc.Namespace+"/"+k+"="+v]
		if first || len(ps) < len(best) {
			best, first = ps, false
		}
	}
	return best
}

// Sync writes every Service's endpoints once.
func (c *Endpoints) Sync(r store.Reader) {
	ix := indexPods(ServicePods(r))
	want := map[store.Key]store.Object{}
	for _, o := range r.List("Service", "") {
		svc := o.(*corev1.Service)
		if !services.Managed(svc) {
			continue
		}
		pods := ix.candidates(svc)
		in := inputs(svc, pods)
		skey := svc.Namespace + "/" + svc.Name
		if m, ok := c.done[skey]; ok && m.inputs == in && c.stillThere(r, m.keys) {
			for _, k := range m.keys {
				want[k] = nil
			}
			continue
		}
		var keys []store.Key
		sls := services.EndpointSlices(svc, pods)
		changed := false
		for _, sl := range sls {
			want[store.KeyOf(sl)] = sl
			keys = append(keys, store.KeyOf(sl))
			changed = c.put(r, sl) || changed
		}
		if eps := services.Endpoints(svc, pods); eps != nil {
			want[store.KeyOf(eps)] = eps
			keys = append(keys, store.KeyOf(eps))
			changed = c.put(r, eps) || changed
		}
		c.done[skey] = memo{inputs: in, keys: keys}
		if changed && c.emit != nil {
			c.emit(events.Event{Type: events.EndpointsChanged, Kind: "Service", Namespace: svc.Namespace, Name: svc.Name, Message: endpointList(sls)})
		}
	}
	for k := range c.done {
		ns, name, _ := strings.Cut(k, "/")
		if _, ok := r.Get("Service", ns, name); !ok {
			delete(c.done, k)
		}
	}
	for _, sl := range c.mirror(r) {
		want[store.KeyOf(sl)] = sl
		c.put(r, sl)
	}
	// What this controller made before and no longer wants goes.
	for _, kind := range []string{"EndpointSlice", "Endpoints"} {
		for _, o := range r.List(kind, "") {
			if !managedByUs(o) {
				continue
			}
			if _, ok := want[store.KeyOf(o)]; !ok {
				c.w.Delete(kind, o.GetNamespace(), o.GetName())
			}
		}
	}
}

func managedByUs(o store.Object) bool {
	l := o.GetLabels()
	if l["endpoints.kubernetes.io/managed-by"] == services.EndpointsControllerName {
		return true
	}
	switch l[discoveryv1.LabelManagedBy] {
	case services.SliceControllerName, services.EndpointsControllerName, mirrorController:
		return true
	}
	return false
}

// put creates or updates a generated object; it says whether it changed.
func (c *Endpoints) put(r store.Reader, o store.Object) bool {
	k := store.KeyOf(o)
	old, ok := r.Get(k.Kind, k.Namespace, k.Name)
	if !ok {
		c.w.Create(o)
		return true
	}
	if !managedByUs(old) {
		return false // the user's own object of that name wins
	}
	if sameGenerated(o, old) {
		return false
	}
	o.SetResourceVersion("")
	o.SetUID(old.GetUID())
	c.w.Update(o)
	return true
}

func sameGenerated(a, b store.Object) bool {
	switch x := a.(type) {
	case *discoveryv1.EndpointSlice:
		y := b.(*discoveryv1.EndpointSlice)
		return apiequality.Semantic.DeepEqual(x.Endpoints, y.Endpoints) && apiequality.Semantic.DeepEqual(x.Ports, y.Ports) &&
			apiequality.Semantic.DeepEqual(x.Labels, y.Labels) && x.AddressType == y.AddressType
	case *corev1.Endpoints:
		y := b.(*corev1.Endpoints)
		return apiequality.Semantic.DeepEqual(x.Subsets, y.Subsets) && apiequality.Semantic.DeepEqual(x.Labels, y.Labels) &&
			apiequality.Semantic.DeepEqual(x.Annotations, y.Annotations)
	}
	return false
}

const mirrorController = "endpointslicemirroring-controller.k8s.io"

// mirror turns user-supplied Endpoints of selectorless Services into EndpointSlices, as
// the EndpointSlice mirroring controller does; slices the user gave for the same
// Service win.
func (c *Endpoints) mirror(r store.Reader) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, o := range r.List("Endpoints", "") {
		eps := o.(*corev1.Endpoints)
		if managedByUs(eps) {
			continue
		}
		if so, ok := r.Get("Service", eps.Namespace, eps.Name); !ok || services.Managed(so.(*corev1.Service)) {
			continue
		}
		has := false
		for _, so := range r.List("EndpointSlice", eps.Namespace) {
			if so.GetLabels()[discoveryv1.LabelServiceName] == eps.Name && !managedByUs(so) {
				has = true
			}
		}
		if has {
			continue
		}
		for i, sub := range eps.Subsets {
			sl := &discoveryv1.EndpointSlice{AddressType: discoveryv1.AddressTypeIPv4}
			sl.Name = fmt.Sprintf("%s-mirror-%d", eps.Name, i)
			sl.Namespace = eps.Namespace
			sl.Labels = map[string]string{discoveryv1.LabelServiceName: eps.Name, discoveryv1.LabelManagedBy: mirrorController}
			for _, p := range sub.Ports {
				name, port, proto := p.Name, p.Port, p.Protocol
				if proto == "" { // the API server defaults it (SetDefaults_EndpointPort); kube-proxy matches on it
					proto = corev1.ProtocolTCP
				}
				sl.Ports = append(sl.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port, Protocol: &proto})
			}
			for _, a := range sub.Addresses {
				ready := true
				sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{a.IP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: a.NodeName})
			}
			for _, a := range sub.NotReadyAddresses {
				ready := false
				sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{a.IP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}, NodeName: a.NodeName})
			}
			out = append(out, sl)
		}
	}
	return out
}

func endpointList(sl []*discoveryv1.EndpointSlice) string {
	var addrs []string
	for _, s := range sl {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready == nil || *e.Conditions.Ready {
				addrs = append(addrs, e.Addresses...)
			}
		}
	}
	sort.Strings(addrs)
	if len(addrs) == 0 {
		return "no ready endpoints"
	}
	return strings.Join(addrs, ",")
}
