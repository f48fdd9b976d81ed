package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/state"
)

// labSummary is one row of `podlab ls`.
type labSummary struct {
	Name    string    `json:"name"`
	File    string    `json:"file,omitempty"`
	Runtime string    `json:"runtime"`
	Nodes   int       `json:"nodes"`
	Pods    int       `json:"pods"`
	Created time.Time `json:"created,omitzero"`
	// State is running (the supervisor answers), supervisor-down (the lab's
	// namespaces may still be there, but nothing keeps them) or incomplete (no plan:
	// a deploy at work, or one that crashed).
	State         string `json:"state"`
	SupervisorPID int    `json:"supervisorPID,omitempty"`
}

func newLs() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "ls [-o table|json]",
		Short: "List every lab on this machine: runtime, nodes, pods, age and whether its supervisor runs",
		Example: `  podlab ls
  podlab ls -o json | jq -r '.[] | select(.state != "running") | .name'
  PODLAB_STATE_DIR=/tmp/labs podlab ls   # labs under another state directory`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return invalid("output format %q: expected table or json", output)
			}
			labs, err := state.Labs(cfg.StateDir)
			if err != nil {
				return err
			}
			out := make([]labSummary, 0, len(labs))
			for _, l := range labs {
				out = append(out, summarize(cmd.Context(), state.For(cfg.StateDir, l)))
			}
			if output == "json" {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(out) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "No labs found in %s.\n", cfg.StateDir)
				return nil
			}
			return printLabs(cmd.OutOrStdout(), out, time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table|json")
	return cmd
}

// summarize reads a lab's plan and asks its supervisor, if it runs, how many pods
// there are now (apply and controllers add some); it never restarts a supervisor, so
// that ls only looks.
func summarize(ctx context.Context, dir state.Dir) labSummary {
	s := labSummary{Name: dir.Lab, State: "incomplete"}
	p, err := dir.ReadPlan()
	if err != nil {
		return s
	}
	s.File, s.Runtime, s.Nodes, s.Pods = p.File, p.Runtime, len(p.Nodes), len(p.Pods)
	if fi, err := os.Stat(dir.PlanFile()); err == nil {
		s.Created = fi.ModTime()
	}
	s.State = "supervisor-down"
	if pid := dir.SupervisorPID(); dir.SupervisorAlive(pid) {
		s.State, s.SupervisorPID = "running", pid
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if st, err := api.NewClient(dir).State(ctx); err == nil {
			s.Pods = len(st.Pods)
		}
	}
	return s
}

func printLabs(w io.Writer, labs []labSummary, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tRUNTIME\tNODES\tPODS\tAGE\tSTATE\tFILE")
	for _, l := range labs {
		age := "<unknown>"
		if !l.Created.IsZero() {
			age = duration.HumanDuration(now.Sub(l.Created))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", l.Name, dash(l.Runtime), l.Nodes, l.Pods, age, l.State, dash(l.File))
	}
	return tw.Flush()
}
