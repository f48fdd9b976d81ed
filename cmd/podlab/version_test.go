package main

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

// version reads the commit, its date and whether the tree was modified from the
// vcs.* settings Go stamps into the binary.
func TestReadBuildInfo(t *testing.T) {
	rev := "365a2fe0123456789abcdef0123456789abcdef0"
	stamped := &debug.BuildInfo{GoVersion: "go1.26.0", Settings: []debug.BuildSetting{
		{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
		{Key: "vcs.time", Value: "2026-12-01T10:20:30Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want buildInfo
	}{
		{"stamped", stamped, buildInfo{Version: "dev-365a2fe01234", Commit: rev,
			CommitDate: time.Date(2026, 12, 1, 10, 20, 30, 0, time.UTC), Modified: true, GoVersion: "go1.26.0"}},
		{"not stamped", &debug.BuildInfo{GoVersion: "go1.26.0"}, buildInfo{Version: "dev", GoVersion: "go1.26.0"}},
	} {
		got := readBuildInfo(tc.bi)
		got.Platform = ""
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
	if got := readBuildInfo(nil); got.Version != "dev" || got.GoVersion == "" || got.Platform == "" {
		t.Errorf("no build info: %+v", got)
	}
}

// version -o json is one object with the fields above; text names the commit.
func TestVersionOutput(t *testing.T) {
	var info buildInfo
	if err := json.Unmarshal([]byte(execute(t, "version", "-o", "json")), &info); err != nil || info.Version == "" || info.GoVersion == "" {
		t.Errorf("version -o json: %+v, %v", info, err)
	}
	out := execute(t, "version")
	if !strings.HasPrefix(out, "podlab ") || !strings.Contains(out, "\ncommit:") || !strings.Contains(out, "\ncommit date:") {
		t.Errorf("version:\n%s", out)
	}
	if code := run([]string{"version", "-o", "yaml"}); code != exitInvalid {
		t.Errorf("version -o yaml: exit %d, want 2", code)
	}
}
