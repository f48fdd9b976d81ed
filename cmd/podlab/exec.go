package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/runtime/docker"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

func newExec() *cobra.Command {
	var namespace string
	cmd := &cobra.Command{
		Use:   "exec [--name LAB] [-n NAMESPACE] POD|NODE|HOST -- COMMAND [ARG...]",
		Short: "Run a command inside a pod, node or host of a lab",
		Long: "Runs COMMAND in the target's network namespace, as `ip netns exec` does; in a pod,\n" +
			"its /etc/resolv.conf and /etc/hosts are bind-mounted over the machine's.\n" +
			"In a lab of runtime docker it runs COMMAND in the target's container, as `docker exec`\n" +
			"does (with a TTY when stdin is a terminal), and exits with the command's exit code.\n" +
			"A name is looked up as a pod in NAMESPACE (default \"default\"), then a node, then a host.",
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return invalid("write the command after --: podlab exec POD -- COMMAND")
			}
			lab, err := labName(cmd)
			if err != nil {
				return err
			}
			if err := needRoot("podlab exec"); err != nil {
				return err
			}
			dir := state.For(cfg.StateDir, lab)
			p, err := dir.ReadPlan()
			if err != nil {
				return fmt.Errorf("lab %q is not deployed", lab)
			}
			target := args[0]
			var nsName, etc string
			var etcFiles map[string]string
			if pod, ok := p.Pod(namespace, target); ok {
				nsName = pod.Netns
				etcFiles = map[string]string{"resolv.conf": p.ResolvConf(pod), "hosts": plan.HostsFile(pod)}
			} else if n, ok := p.Node(target); ok {
				nsName = n.Netns
			} else if h, ok := p.Host(target); ok {
				nsName = h.Netns
			} else {
				return invalid("lab %s has no pod %s/%s, node or host named %q; see `podlab inspect --name %s`", lab, namespace, target, target, lab)
			}
			if p.Runtime == topology.RuntimeDocker {
				return dockerExec(cmd.Context(), nsName, etcFiles, args[1:])
			}
			if etcFiles != nil {
				if etc, err = dir.WriteEtc(nsName, etcFiles); err != nil {
					return err
				}
			}
			path := netns.Path(nsName)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("%s: namespace %s is gone; redeploy the lab", target, nsName)
			}
			return netns.Exec(path, etc, args[1:])
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace of the pod")
	return cmd
}

// dockerExec runs argv in the container holding namespace nsName, after writing a
// pod's /etc files into it, and exits podlab with the command's exit code.
func dockerExec(ctx context.Context, nsName string, etcFiles map[string]string, argv []string) error {
	rt, err := docker.New(imageTag())
	if err != nil {
		return err
	}
	code, err := rt.Exec(ctx, nsName, etcFiles, argv)
	rt.Close()
	if err != nil {
		return err
	}
	os.Exit(code)
	return nil
}
