package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/tui"
)

func newTUI() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tui [--name LAB]",
		Short: "Explore labs in a terminal UI: topology, pods, nodes, events, shells",
		Example: `  sudo podlab tui
  sudo podlab tui --name basics`,
		Long: "Opens --name, or the only deployed lab, or a picker of the deployed labs.\n" +
			"Everything shown comes from the lab's supervisor, like inspect and events.\n" +
			"Keys: : command (" + tui.CommandList() + "),\n" + tui.Keys + ".\n" +
			":dns lists the newest queries the lab's DNS servers answered (the CoreDNS pods, hosts serving zones),\n" +
			"newest first: time, client pod, name, type, rcode, answer, latency, server.\n" +
			":netpol lists each NetworkPolicy with what its rules allowed and what the default\n" +
			"deny of the pods it isolates dropped, then each isolated pod and direction with its\n" +
			"drops and the policies isolating it (the nodes' nft counters, read once a second\n" +
			"while shown).\n" +
			":ingress (:ing, :access, :gateway, :gw) lists the requests the ingress and gateway proxies\n" +
			"served, newest first: time, client, host, method, path, status, the rule that matched,\n" +
			"backend Service port, upstream endpoint, duration.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			lab, _ := cmd.Flags().GetString("name")
			root := cfg.StateDir
			if lab != "" && !state.For(root, lab).Exists() {
				return fmt.Errorf("lab %q is not deployed; see `podlab inspect --all`", lab)
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM)
			defer stop()
			return tui.Run(ctx, tui.Config{
				Lab:  lab,
				Labs: func() ([]string, error) { return state.Labs(root) },
				Open: func(lab string) tui.Source { return api.NewClient(state.For(root, lab)) },
				Shell: func(lab, kind, namespace, name string) *exec.Cmd {
					args := []string{"--state-dir", root, "exec", "--name", lab}
					if kind == "Pod" {
						args = append(args, "-n", namespace)
					}
					c := exec.Command(exe, append(args, name, "--", "sh")...)
					c.Env = append(os.Environ(), "PS1="+name+"# ")
					return c
				},
			})
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab, else a picker)")
	return cmd
}
