package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
)

// policyLogLine is one line of the verdict log: "TIME NODE MESSAGE".
func policyLogLine(e events.Event) string {
	node := e.Node
	if node == "" {
		node = "-"
	}
	return fmt.Sprintf("%s %-14s %s", e.Time.Local().Format(time.TimeOnly), node, e.Message)
}

// runPolicyLog prints the lab's PolicyDrop events: podlab logs --policy.
func runPolicyLog(cmd *cobra.Command, follow bool, output string) error {
	_, dir, _, err := deployedLab(cmd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ensureSupervisor(ctx, dir)
	w := cmd.OutOrStdout()
	err = api.NewClient(dir).Events(ctx, follow, func(e events.Event) error {
		return printPolicyDrop(w, e, output)
	})
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func printPolicyDrop(w io.Writer, e events.Event, output string) error {
	if e.Type != events.PolicyDrop {
		return nil
	}
	if output == "json" {
		return json.NewEncoder(w).Encode(e)
	}
	_, err := fmt.Fprintln(w, policyLogLine(e))
	return err
}
