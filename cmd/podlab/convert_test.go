package main

import (
	"strings"
	"testing"
)

func TestConvertIngressFlags(t *testing.T) {
	cmd := newConvert()
	cmd.SetArgs([]string{"ingress", "web", "-o", "wide"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), `output format "wide": expected yaml or json`) {
		t.Errorf("-o wide: %v", err)
	}
	cmd = newConvert()
	cmd.SetArgs([]string{"ingress"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); err == nil {
		t.Error("no NAME accepted")
	}
}
