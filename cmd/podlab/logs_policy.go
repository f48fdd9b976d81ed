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
)

// policyLogPoll is how often podlab logs --policy -f asks for new entries.
const policyLogPoll = 300 * time.Millisecond

// policyLogLine is one line of the verdict log: "TIME NODE MESSAGE".
func policyLogLine(e api.VerdictEntry) string {
	node := e.Node
	if node == "" {
		node = "-"
	}
	return fmt.Sprintf("%s %-14s %s", e.Time.Local().Format(time.TimeOnly), node, e.Message)
}

// runPolicyLog prints the lab's verdict log, the last 2,000 entries the supervisor
// keeps (drops; allows too with --allows): podlab logs --policy.
func runPolicyLog(cmd *cobra.Command, follow, allows bool, output string) error {
	_, dir, _, err := deployedLab(cmd)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ensureSupervisor(ctx, dir)
	w := cmd.OutOrStdout()
	c := api.NewClient(dir)
	var next uint64
	for {
		l, err := c.NetpolLog(ctx, next)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		for _, e := range l.Entries {
			if err := printVerdict(w, e, allows, output); err != nil {
				return err
			}
		}
		next = l.Next
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(policyLogPoll):
		}
	}
}

func printVerdict(w io.Writer, e api.VerdictEntry, allows bool, output string) error {
	if e.Verdict != "drop" && !allows {
		return nil
	}
	if output == "json" {
		return json.NewEncoder(w).Encode(e)
	}
	_, err := fmt.Fprintln(w, policyLogLine(e))
	return err
}
