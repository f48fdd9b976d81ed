package main

import (
	"bytes"
	"strings"
	"testing"

	"podlab.dev/podlab/cluster/api"
)

const ingressLab = "name: ing\nnodes: [{name: w}]\nmanifests:\n" +
	"  - {apiVersion: batch/v1, kind: Job, metadata: {name: web}, spec: {template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}}\n" +
	"  - {apiVersion: autoscaling/v2, kind: HorizontalPodAutoscaler, metadata: {name: web}, spec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}, maxReplicas: 3}}\n" +
	"  - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: deny}, spec: {podSelector: {}}}\n"

// validate and inspect say in plain words which objects nothing acts on, and never
// that a NetworkPolicy (enforced) is not.
func TestNotEnforcedSaid(t *testing.T) {
	want := "NOT ENFORCED: this version keeps HorizontalPodAutoscaler objects but scales nothing yet: default/web\n" +
		"NOT ENFORCED: this version keeps Job objects but runs no pods for them yet: default/web\n"
	code, out, errs := outputOf(t, "validate", "-t", writeFile(t, "lab.yaml", ingressLab))
	if code != 0 || !strings.HasSuffix(out, "3 objects\n"+want) || strings.Contains(out, "not applied") {
		t.Errorf("validate: exit %d:\n%s%s", code, out, errs)
	}
	var b bytes.Buffer
	printTable(&b, &api.LabState{Lab: "ing", Supervisor: api.SupervisorState{Running: true}, Objects: []api.ObjectState{
		{Kind: "HorizontalPodAutoscaler", Namespace: "default", Name: "web"},
		{Kind: "Job", Namespace: "default", Name: "web"},
		{Kind: "NetworkPolicy", Namespace: "default", Name: "deny", Applied: true},
	}})
	if !strings.HasSuffix(b.String(), "\n\n"+want) || strings.Contains(b.String(), "not applied") {
		t.Errorf("inspect:\n%s", b.String())
	}
	code, _, errs = outputOf(t, "describe", "job", "web")
	if code != exitInvalid || !strings.Contains(errs, "NOT ENFORCED: this version keeps Job objects but runs no pods for them yet") {
		t.Errorf("describe job: exit %d: %s", code, errs)
	}
}
