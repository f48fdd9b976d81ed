package gateways

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster/ingress/table"
	"podlab.dev/podlab/cluster/store"
)

// fakeStore is the part of the store the compiler reads, from YAML like the
// conformance suite's manifests.
type fakeStore struct{ objs map[store.Key]store.Object }

func (f *fakeStore) Get(kind, ns, name string) (store.Object, bool) {
	o, ok := f.objs[store.Key{Kind: kind, Namespace: ns, Name: name}]
	return o, ok
}

func (f *fakeStore) List(kind, ns string) []store.Object {
	var keys []store.Key
	for k := range f.objs {
		if k.Kind == kind && (ns == "" || k.Namespace == ns) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	var out []store.Object
	for _, k := range keys {
		out = append(out, f.objs[k])
	}
	return out
}

func (f *fakeStore) add(kind string, o store.Object) {
	f.objs[store.Key{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}] = o
}

// newStore decodes "---"-separated manifests. Namespaced objects without a namespace
// go to "gateway-conformance-infra", as in the conformance suite. "Service" documents
// also get a ready EndpointSlice (one endpoint per entry of the annotation
// "test/endpoints", "10.0.0.1,10.0.0.2"; none when empty; 10.9.0.1 without the
// annotation) with target port 8080.
func newStore(t *testing.T, manifests ...string) *fakeStore {
	t.Helper()
	f := &fakeStore{objs: map[store.Key]store.Object{}}
	for _, doc := range strings.Split(strings.Join(manifests, "\n---\n"), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		var o store.Object
		switch meta.Kind {
		case "GatewayClass":
			o = &gatewayv1.GatewayClass{}
		case "Gateway":
			o = &gatewayv1.Gateway{}
		case "HTTPRoute":
			o = &gatewayv1.HTTPRoute{}
		case "ReferenceGrant":
			o = &gatewayv1.ReferenceGrant{}
		case "Service":
			o = &corev1.Service{}
		case "Secret":
			o = &corev1.Secret{}
		case "Namespace":
			o = &corev1.Namespace{}
		case "EndpointSlice":
			o = &discoveryv1.EndpointSlice{}
		default:
			t.Fatalf("test manifest of kind %q", meta.Kind)
		}
		if err := yaml.UnmarshalStrict([]byte(doc), o); err != nil {
			t.Fatalf("%v in\n%s", err, doc)
		}
		if o.GetNamespace() == "" && meta.Kind != "GatewayClass" && meta.Kind != "Namespace" {
			o.SetNamespace("gateway-conformance-infra")
		}
		if o.GetGeneration() == 0 {
			o.SetGeneration(1)
		}
		f.add(meta.Kind, o)
		if svc, ok := o.(*corev1.Service); ok {
			f.add("EndpointSlice", slice(svc))
		}
	}
	return f
}

func slice(svc *corev1.Service) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-abc",
		Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}}}
	for _, p := range svc.Spec.Ports {
		name, port := p.Name, int32(8080)
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{Name: &name, Port: &port})
	}
	ready := true
	ips, ok := svc.Annotations["test/endpoints"]
	if !ok {
		ips = "10.9.0.1"
	}
	for _, ip := range strings.Split(ips, ",") {
		if ip != "" {
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
		}
	}
	return es
}

// base is the class and the conformance suite's "same-namespace" Gateway.
const base = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: podlab}
spec: {controllerName: podlab.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: same-namespace}
spec:
  gatewayClassName: podlab
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}
`

// services are the conformance backends, each with one ready endpoint 10.0.0.N.
func services(names ...string) string {
	var b strings.Builder
	for i, n := range names {
		ns := "gateway-conformance-infra"
		if k := strings.IndexByte(n, '/'); k >= 0 {
			ns, n = n[:k], n[k+1:]
		}
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: %s, annotations: {test/endpoints: 10.0.0.%d}}\nspec: {ports: [{port: 8080}]}\n", n, ns, i+1)
	}
	return b.String()
}

var now = metav1.NewTime(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))

func compileAll(t *testing.T, f *fakeStore) Result {
	t.Helper()
	return Compile(f, Options{Now: now, Addresses: func(ns, name string) []gatewayv1.GatewayStatusAddress {
		return []gatewayv1.GatewayStatusAddress{{Type: ptr(gatewayv1.IPAddressType), Value: "172.18.255.1"}}
	}})
}

// req is one request and where it should go: "ns/route/rule/match", or a status code.
type req struct {
	host, path string
	headers    map[string]string
	query      string
	method     string
	want       string
}

// serve walks the table as the proxy does and names what answers.
func serve(t *testing.T, res Result, gw string, port int32, r req) string {
	t.Helper()
	f := res.Frontends[table.FrontendGateway("gateway-conformance-infra", gw)]
	if f == nil {
		return "no frontend"
	}
	l := f.Listener(port)
	if l == nil {
		return "no listener"
	}
	if rt := route(l, r); rt != nil {
		return routeName(rt)
	}
	return "404"
}

// walk is the Route of the first listener of gateway gw that r reaches, or nil.
func walk(t *testing.T, res Result, gw string, r req) *table.Route {
	t.Helper()
	f := res.Frontends[table.FrontendGateway("gateway-conformance-infra", gw)]
	if f == nil || len(f.Listeners) == 0 {
		t.Fatalf("gateway %s is not served", gw)
	}
	// The port in Host picks the listener when one has it (the conformance suite
	// dials the port it names), else the first listener.
	l := f.Listeners[0]
	if i := strings.LastIndexByte(r.host, ':'); i >= 0 {
		if p, err := strconv.Atoi(r.host[i+1:]); err == nil && f.Listener(int32(p)) != nil {
			l = f.Listener(int32(p))
		}
	}
	return route(l, r)
}

func route(l *table.Listener, r req) *table.Route {
	hdr := http.Header{}
	for k, v := range r.headers {
		hdr.Set(k, v)
	}
	q, _ := url.ParseQuery(r.query)
	m := r.method
	if m == "" {
		m = "GET"
	}
	_, rt := l.Route(r.host, r.path, hdr, q, m)
	return rt
}

func routeName(rt *table.Route) string {
	s := fmt.Sprintf("%s/%d/%d", rt.Source.Name, rt.Source.Rule, rt.Source.Match)
	if rt.Status != 0 {
		return fmt.Sprintf("%s:%d", s, rt.Status)
	}
	var bs []string
	for _, b := range rt.Backends {
		switch {
		case b.Status != 0:
			bs = append(bs, fmt.Sprintf("%d*%d", b.Status, b.Weight))
		case len(b.Endpoints) == 0:
			bs = append(bs, fmt.Sprintf("%s(503)*%d", b.Service, b.Weight))
		default:
			bs = append(bs, fmt.Sprintf("%s*%d", b.Service, b.Weight))
		}
	}
	return s + ":" + strings.Join(bs, ",")
}

func checkRequests(t *testing.T, res Result, gw string, port int32, reqs []req) {
	t.Helper()
	for _, r := range reqs {
		got := serve(t, res, gw, port, r)
		if !strings.HasPrefix(got, r.want) {
			t.Errorf("%s %s%s?%s %v: got %s, want %s", r.method, r.host, r.path, r.query, r.headers, got, r.want)
		}
	}
}

// conditions is "Type=Status/Reason" for each condition, in order.
func conditions(cs []metav1.Condition) string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s=%s/%s", c.Type, c.Status, c.Reason))
	}
	return strings.Join(out, " ")
}

func routeConditions(t *testing.T, res Result, name string) string {
	t.Helper()
	st, ok := res.HTTPRoutes[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: name}]
	if !ok {
		return "no status"
	}
	var out []string
	for _, p := range st.Parents {
		out = append(out, conditions(p.Conditions))
	}
	return strings.Join(out, " | ")
}

func listenerStatus(res Result, gw string) string {
	st := res.Gateways[types.NamespacedName{Namespace: "gateway-conformance-infra", Name: gw}]
	var out []string
	for _, l := range st.Listeners {
		var kinds []string
		for _, k := range l.SupportedKinds {
			kinds = append(kinds, string(k.Kind))
		}
		out = append(out, fmt.Sprintf("%s: %s attached=%d kinds=%s", l.Name, conditions(l.Conditions), l.AttachedRoutes, strings.Join(kinds, ",")))
	}
	return strings.Join(out, "\n")
}

// tlsSecret is a kubernetes.io/tls Secret with a fresh self-signed certificate.
func tlsSecret(t *testing.T, ns, name string, hosts ...string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: hosts[0]}, DNSNames: hosts,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	crt := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	k := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
	return fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: %s}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: %q\n  tls.key: %q\n", name, ns, crt, k)
}

var metav1Later = metav1.NewTime(now.Add(time.Hour))

type gatewayv1StatusAddress = gatewayv1.GatewayStatusAddress

// write stores res's status in f's objects, as the component would.
func write(f *fakeStore, res Result) {
	for name, st := range res.GatewayClasses {
		o, _ := f.Get("GatewayClass", "", name)
		o.(*gatewayv1.GatewayClass).Status = st
	}
	for k, st := range res.Gateways {
		o, _ := f.Get("Gateway", k.Namespace, k.Name)
		o.(*gatewayv1.Gateway).Status = st
	}
	for k, st := range res.HTTPRoutes {
		o, _ := f.Get("HTTPRoute", k.Namespace, k.Name)
		o.(*gatewayv1.HTTPRoute).Status = st
	}
}
