package main

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Exit codes: 0 ok, 1 runtime failure, 2 invalid input.
func TestExitCodes(t *testing.T) {
	valid := writeFile(t, "lab.yaml", "name: ok\nnodes: [{name: w}]\npods: [{name: p, ports: [80]}]\n")
	invalidLab := writeFile(t, "bad.yaml", "name: ok\nnodes: [{name: w, rol: worker}]\n")
	badConfig := writeFile(t, "config.yaml", "state_dir: [\n")
	goodConfig := writeFile(t, "config.yaml", "state_dir: "+t.TempDir()+"\n")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"validate ok", nil, []string{"validate", "-t", valid}, 0},
		{"dry run", nil, []string{"deploy", "--dry-run", "-t", valid}, 0},
		{"invalid lab", nil, []string{"validate", "-t", invalidLab}, 2},
		{"invalid lab on deploy", nil, []string{"deploy", "-t", invalidLab}, 2},
		{"missing file", nil, []string{"validate", "-t", "/nonexistent/lab.yaml"}, 2},
		{"missing file on deploy", nil, []string{"deploy", "-t", "/nonexistent/lab.yaml"}, 2},
		{"no file", nil, []string{"validate"}, 2},
		{"unknown flag", nil, []string{"inspect", "--bogus"}, 2},
		{"unknown command", nil, []string{"deploi"}, 2},
		{"exec without a command", nil, []string{"exec", "web"}, 2},
		{"bad output", nil, []string{"inspect", "-o", "xml"}, 2},
		{"destroy needs a target", nil, []string{"destroy"}, 2},
		{"bad config file", map[string]string{"PODLAB_CONFIG": badConfig}, []string{"validate", "-t", valid}, 2},
		{"bad log level", map[string]string{"PODLAB_LOG_LEVEL": "loud"}, []string{"validate", "-t", valid}, 2},
		{"config state dir, nothing deployed", map[string]string{"PODLAB_CONFIG": goodConfig}, []string{"inspect"}, 2},
		{"version", nil, []string{"version"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			if got := run(tc.args); got != tc.want {
				t.Errorf("podlab %v: exit %d, want %d", tc.args, got, tc.want)
			}
		})
	}
}

// Settings: flags win over PODLAB_* variables, which win over the config file.
func TestSettingsPrecedence(t *testing.T) {
	dirFile, dirEnv, dirFlag := t.TempDir(), t.TempDir(), t.TempDir()
	conf := writeFile(t, "config.yaml", "state_dir: "+dirFile+"\nlog_level: debug\n")
	valid := writeFile(t, "lab.yaml", "name: ok\nnodes: [{name: w}]\n")
	t.Setenv("PODLAB_CONFIG", conf)
	if run([]string{"validate", "-t", valid}) != 0 || cfg.StateDir != dirFile || cfg.LogLevel != "debug" {
		t.Errorf("config file: %+v", cfg)
	}
	t.Setenv("PODLAB_STATE_DIR", dirEnv)
	if run([]string{"validate", "-t", valid}) != 0 || cfg.StateDir != dirEnv {
		t.Errorf("env over file: %+v", cfg)
	}
	if run([]string{"validate", "-t", valid, "--state-dir", dirFlag}) != 0 || cfg.StateDir != dirFlag {
		t.Errorf("flag over env: %+v", cfg)
	}
}

// A lab file that names no runtime gets the configured default; one that does keeps it.
func TestDefaultRuntime(t *testing.T) {
	unset := writeFile(t, "lab.yaml", "name: ok\nnodes: [{name: w}]\n")
	set := writeFile(t, "lab.yaml", "name: ok\nruntime: netns\nnodes: [{name: w}]\n")
	t.Setenv("PODLAB_RUNTIME", "docker")
	if run([]string{"validate", "-t", unset}) != 0 {
		t.Fatal("validate failed")
	}
	p, err := loadPlan(unset)
	if err != nil || p.Runtime != "docker" {
		t.Errorf("runtime %q (%v), want the configured docker", p.Runtime, err)
	}
	p, err = loadPlan(set)
	if err != nil || p.Runtime != "netns" {
		t.Errorf("runtime %q (%v), want netns from the file", p.Runtime, err)
	}
}
