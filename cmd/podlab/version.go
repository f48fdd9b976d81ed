package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// buildInfo is what `podlab version` reports: Go stamps the commit into every binary
// built from a git checkout (go build's -buildvcs), so a bug report names the exact
// source even for a development build.
type buildInfo struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
	// CommitDate is the commit's time (vcs.time): Go records no build time, and a
	// date that changes with every build would make builds differ.
	CommitDate time.Time `json:"commitDate,omitzero"`
	// Modified: the binary was built from a tree with uncommitted changes.
	Modified  bool   `json:"modified"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

func newVersion() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version [-o text|json]",
		Short: "Print podlab's version, the commit it was built from, that commit's date and the Go version",
		Example: `  podlab version
  podlab version -o json | jq -r .commit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			info := readBuildInfo(bi)
			switch output {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			case "text":
				return printVersion(cmd, info)
			}
			return invalid("output format %q: expected text or json", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text|json")
	return cmd
}

func printVersion(cmd *cobra.Command, info buildInfo) error {
	tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "podlab %s\n", info.Version)
	commit, date := "unknown: not stamped (go build -buildvcs=true in a git checkout stamps it)", "unknown"
	if info.Commit != "" {
		commit = info.Commit
		if info.Modified {
			commit += " (modified: built with uncommitted changes)"
		}
	}
	if !info.CommitDate.IsZero() {
		date = info.CommitDate.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(tw, "commit:\t%s\n", commit)
	fmt.Fprintf(tw, "commit date:\t%s\n", date)
	fmt.Fprintf(tw, "go:\t%s\n", info.GoVersion)
	fmt.Fprintf(tw, "platform:\t%s\n", info.Platform)
	return tw.Flush()
}

// readBuildInfo reads the vcs.* settings Go stamped into the binary; bi is nil when
// the binary has no build info.
func readBuildInfo(bi *debug.BuildInfo) buildInfo {
	info := buildInfo{Version: version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi == nil {
		return info
	}
	info.GoVersion = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.CommitDate, _ = time.Parse(time.RFC3339, s.Value)
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	if info.Version == "dev" && len(info.Commit) >= 12 {
		info.Version = "dev-" + info.Commit[:12]
	}
	return info
}

// fullVersion is the version set at build time, or dev-<commit> for a development build.
func fullVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return readBuildInfo(bi).Version
}
