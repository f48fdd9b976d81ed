package main

import "testing"

// wait's condition test reads status.conditions as kubectl does.
func TestConditionMet(t *testing.T) {
	ready := []byte(`{"status":{"conditions":[{"type":"Ready","status":"True"}]}}`)
	notReady := []byte(`{"status":{"conditions":[{"type":"Ready","status":"False"}]}}`)
	deploy := []byte(`{"spec":{"replicas":2},"status":{"readyReplicas":2,"conditions":[{"type":"Available","status":"True"}]}}`)
	half := []byte(`{"spec":{"replicas":2},"status":{"readyReplicas":1}}`)
	for _, tc := range []struct {
		kind, cond string
		raw        []byte
		want       bool
	}{
		{"Pod", "Ready", ready, true},
		{"Pod", "ready", ready, true},
		{"Pod", "Ready", notReady, false},
		{"Pod", "Initialized", ready, false},
		{"Deployment", "Available", deploy, true},
		{"Deployment", "Ready", deploy, true},
		{"Deployment", "Ready", half, false},
	} {
		if got := conditionMet(tc.kind, tc.raw, tc.cond); got != tc.want {
			t.Errorf("%s %s %s: %v, want %v", tc.kind, tc.cond, tc.raw, got, tc.want)
		}
	}
	for _, s := range []string{"", "condition=", "ready", "deleted"} {
		if _, _, err := parseFor(s); err == nil {
			t.Errorf("--for %q accepted", s)
		}
	}
	if plural("Pod") != "pods" || plural("Deployment") != "deployments.apps" {
		t.Error("plural")
	}
}
