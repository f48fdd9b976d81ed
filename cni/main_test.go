package cni

import (
	"os"
	"testing"
)

// TestMain lets the test binary act as the exec'd plugin: the integration tests link
// bin/podlab-bridge to it, exactly as a node's bin/ links to podlab.
func TestMain(m *testing.M) {
	if IsPluginName(os.Args[0]) {
		PluginMain()
		return
	}
	os.Exit(m.Run())
}
