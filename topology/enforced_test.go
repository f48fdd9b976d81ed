package topology

import "testing"

// What a kind's objects do in this version, in plain words: nothing to say for the
// kinds a component acts on, a NOT ENFORCED sentence for the ones only kept.
func TestNotEnforced(t *testing.T) {
	for kind, want := range map[string]string{
		"Pod":           "",
		"Service":       "",
		"NetworkPolicy": "",
		"ConfigMap":     "",
		"Ingress":       "",
		"IngressClass":  "",
		"HTTPRoute":     "",
		"GRPCRoute":     "NOT ENFORCED: this version keeps GRPCRoute objects but routes no gRPC yet (HTTPRoute is served)",
		"Job":           "NOT ENFORCED: this version keeps Job objects but runs no pods for them yet",
		"Role":          "NOT ENFORCED: this version keeps Role objects but nothing acts on them yet",
	} {
		if got := NotEnforced(kind); got != want {
			t.Errorf("NotEnforced(%s) = %q, want %q", kind, got, want)
		}
	}
	// A lab's objects say the same.
	lab, err := Parse("lab.yaml", []byte("name: a\nnodes: [{name: w}]\nmanifests:\n"+
		"  - {apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: web}, spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}}\n"+
		"  - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny}, spec: {podSelector: {}}}\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range lab.Objects {
		if o.Applied != (NotEnforced(o.Kind) == "") {
			t.Errorf("%s: Applied %v, NotEnforced %q", o.Kind, o.Applied, NotEnforced(o.Kind))
		}
	}
}
