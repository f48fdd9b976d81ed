package main

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/printers"
	"podlab.dev/podlab/topology"
)

// get knows the Gateway API's resource names and short names, each kind has its
// CRD's columns, and only GatewayClass is cluster-scoped.
func TestGatewayAPIResources(t *testing.T) {
	for r, want := range map[string]string{
		"gatewayclass": "NAME CONTROLLER ACCEPTED AGE", "gatewayclasses": "", "gc": "",
		"gateway": "NAME CLASS ADDRESS PROGRAMMED AGE", "gateways": "", "gtw": "",
		"httproute": "NAME HOSTNAMES AGE", "httproutes": "",
		"grpcroute": "NAME HOSTNAMES AGE", "grpcroutes": "",
		"referencegrant": "NAME AGE", "referencegrants": "", "refgrant": "",
	} {
		kind, ok := resources[r]
		if !ok {
			t.Errorf("get %s: unknown resource", r)
			continue
		}
		if topology.ClusterScoped(kind) != (kind == "GatewayClass") {
			t.Errorf("%s: cluster-scoped %v", kind, topology.ClusterScoped(kind))
		}
		if !strings.HasPrefix(qualified(kind), strings.ToLower(kind)+".gateway.networking.k8s.io") {
			t.Errorf("qualified(%s) = %s", kind, qualified(kind))
		}
		if want == "" {
			continue
		}
		var cols []string
		for _, c := range printers.Columns(kind) {
			if !c.Wide {
				cols = append(cols, c.Name)
			}
		}
		if got := strings.Join(cols, " "); got != want {
			t.Errorf("get %s: columns %s, want %s", r, got, want)
		}
	}
}

// get -o yaml and -o name print what the store keeps: a v1beta1 manifest comes
// back as gateway.networking.k8s.io/v1, as from an API server storing v1.
func TestGatewayAPIOutput(t *testing.T) {
	var items []any
	var objs []runtime.Object
	for _, m := range []struct{ apiVersion, kind, json string }{
		{"gateway.networking.k8s.io/v1beta1", "HTTPRoute", `{"metadata":{"name":"web","namespace":"default"},"spec":{"hostnames":["shop.example"]}}`},
		{"gateway.networking.k8s.io/v1", "GatewayClass", `{"metadata":{"name":"podlab"},"spec":{"controllerName":"podlab.dev/gateway"}}`},
	} {
		o, err := store.Decode(m.apiVersion, m.kind, []byte(m.json))
		if err != nil {
			t.Fatal(err)
		}
		items, objs = append(items, o), append(objs, o)
	}
	b, err := yaml.Marshal(getResult(items[:1], "web"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n") {
		t.Errorf("get httproute web -o yaml:\n%s", b)
	}
	var names bytes.Buffer
	if err := printNames(&names, objs); err != nil {
		t.Fatal(err)
	}
	if want := "httproute.gateway.networking.k8s.io/web\ngatewayclass.gateway.networking.k8s.io/podlab\n"; names.String() != want {
		t.Errorf("-o name:\n%s\nwant:\n%s", names.String(), want)
	}
}
