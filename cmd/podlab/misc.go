package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster"
	"podlab.dev/podlab/runtime/docker"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

func newValidate() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate (FILE | -t FILE | -f FILE)",
		Short: "Check a lab file without creating anything (no root needed); exit 2 when invalid",
		Example: `  podlab validate labs/basics/lab.yaml
  podlab validate -f lab.yaml             # -t as containerlab`,
		RunE: func(cmd *cobra.Command, args []string) error {
			file, err := labFile(cmd, args, "validate")
			if err != nil {
				return err
			}
			p, err := loadPlan(file)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid: lab %s, %d nodes, %d hosts, %d pods, %d objects\n",
				file, p.Lab, len(p.Nodes), len(p.Hosts), len(p.Pods), len(p.Objects))
			printNotEnforced(cmd.OutOrStdout(), notEnforcedIn(p.Objects, func(o topology.Object) (string, string, string, bool) {
				return o.Kind, o.Namespace, o.Name, o.Applied
			}))
			return nil
		},
	}
	labFileFlags(cmd)
	return cmd
}

// newSupervise is the lab's supervisor process, started by deploy.
func newSupervise() *cobra.Command {
	cmd := &cobra.Command{
		Use:    "supervise --name LAB",
		Short:  "Run a lab's supervisor (started by deploy)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, _ := cmd.Flags().GetString("name")
			if name == "" {
				return invalid("supervise needs --name")
			}
			dir := state.For(cfg.StateDir, name)
			sup, err := cluster.NewSupervisor(dir, slog.Default())
			if err != nil {
				return err
			}
			if p, err := dir.ReadPlan(); err == nil && p.Runtime == topology.RuntimeDocker {
				rt, err := docker.New(imageTag())
				if err != nil {
					return err
				}
				sup.SetRuntime(rt)
				sup.SetWatcher(rt)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// PODLAB_CPUPROFILE=FILE profiles the supervisor's first 15 seconds (for
			// benchmarks; the API's /debug/pprof/ serves later ones).
			if path := os.Getenv("PODLAB_CPUPROFILE"); path != "" {
				if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
					go func() {
						select {
						case <-time.After(15 * time.Second):
						case <-ctx.Done():
						}
						pprof.StopCPUProfile()
						f.Close()
					}()
				}
			}
			return sup.Run(ctx)
		},
	}
	cmd.Flags().String("name", "", "lab name")
	return cmd
}
