package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/state"
)

func newEvents() *cobra.Command {
	var output string
	var follow bool
	cmd := &cobra.Command{
		Use:   "events [--name LAB] [-f] [-o json]",
		Short: "Show a lab's events (-o json: NDJSON, one event per line)",
		Example: `  sudo podlab events
  sudo podlab events --name basics -f
  sudo podlab events -o json | jq -r 'select(.type == "PodReady") | .name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "json" && output != "table" {
				return invalid("output format %q: expected table or json", output)
			}
			lab, err := labName(cmd)
			if err != nil {
				return err
			}
			dir := state.For(cfg.StateDir, lab)
			if !dir.Exists() {
				return fmt.Errorf("lab %q is not deployed", lab)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			enc := json.NewEncoder(os.Stdout)
			ensureSupervisor(ctx, dir)
			return api.NewClient(dir).Events(ctx, follow, func(e events.Event) error {
				if output == "json" {
					return enc.Encode(e)
				}
				obj := e.Name
				if e.Namespace != "" {
					obj = e.Namespace + "/" + e.Name
				}
				_, err := fmt.Printf("%s  %-18s %-5s %-40s %s\n", e.Time.Format("15:04:05.000"), e.Type, e.Kind, obj, e.Message)
				return err
			})
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep streaming new events")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table|json")
	return cmd
}
