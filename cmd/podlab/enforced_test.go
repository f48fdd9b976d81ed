package main

import (
	"bytes"
	"strings"
	"testing"

	"podlab.dev/podlab/cluster/api"
)

const ingressLab = "name: ing\nnodes: [{name: w}]\nmanifests:\n" +
	"  - {apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: web}, spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}}\n" +
	"  - {apiVersion: networking.k8s.io/v1, kind: IngressClass, metadata: {name: nginx}, spec: {controller: k8s.io/ingress-nginx}}\n" +
	"  - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny}, spec: {podSelector: {}}}\n"

// validate and inspect say in plain words which objects nothing acts on, and never
// that a NetworkPolicy (enforced) is not.
func TestNotEnforcedSaid(t *testing.T) {
	want := "NOT ENFORCED: this version keeps Ingress objects but routes nothing yet: default/web\n" +
		"NOT ENFORCED: this version keeps IngressClass objects but runs no ingress controller yet: nginx\n"
	code, out, errs := outputOf(t, "validate", "-t", writeFile(t, "lab.yaml", ingressLab))
	if code != 0 || !strings.HasSuffix(out, "3 objects\n"+want) || strings.Contains(out, "not applied") {
		t.Errorf("validate: exit %d:\n%s%s", code, out, errs)
	}
	var b bytes.Buffer
	printTable(&b, &api.LabState{Lab: "ing", Supervisor: api.SupervisorState{Running: true}, Objects: []api.ObjectState{
		{Kind: "Ingress", Namespace: "default", Name: "web"},
		{Kind: "IngressClass", Name: "nginx"},
		{Kind: "NetworkPolicy", Namespace: "default", Name: "deny", Applied: true},
	}})
	if !strings.HasSuffix(b.String(), "\n\n"+want) || strings.Contains(b.String(), "not applied") {
		t.Errorf("inspect:\n%s", b.String())
	}
	code, _, errs = outputOf(t, "describe", "ingress", "web")
	if code != exitInvalid || !strings.Contains(errs, "NOT ENFORCED: this version keeps Ingress objects but routes nothing yet") {
		t.Errorf("describe ingress: exit %d: %s", code, errs)
	}
}
