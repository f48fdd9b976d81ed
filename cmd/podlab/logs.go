package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/state"
)

func newLogs() *cobra.Command {
	var namespace, output string
	var follow, policy, allows bool
	var tail int
	var since time.Duration
	cmd := &cobra.Command{
		Use:   "logs [--name LAB] ([-n NAMESPACE] POD|TYPE/NAME|HOST [--tail N] [--since DURATION] | --policy) [-f] [-o json]",
		Short: "Print a pod's logs as kubectl logs does: the queries a CoreDNS pod or a host's zones answered",
		Example: `  sudo podlab logs web-1
  sudo podlab logs -f --since 5m deploy/api -n shop
  sudo podlab logs -n kube-system coredns-846785dffc-6k4mz --tail 20
  sudo podlab logs --policy -o json`,
		Long: "For a CoreDNS pod (podlab logs -n kube-system coredns-...): what CoreDNS prints when it\n" +
			"starts (.:53, the reload plugin's SHA512 of the Corefile, CoreDNS-1.11.3, the build),\n" +
			"then one line per query it answered in the format of CoreDNS's log plugin:\n" +
			"  [INFO] CLIENT:PORT - ID \"TYPE CLASS NAME PROTO SIZE DO BUFSIZE\" RCODE FLAGS RSIZE DURATION\n" +
			"kubeadm's Corefile has no `log` plugin, so a real cluster's CoreDNS logs no queries;\n" +
			"podlab logs them as if `log` were on, because seeing what a pod's resolver really\n" +
			"asked (the search path that ndots:5 makes, the NXDOMAINs before the answer) is what a\n" +
			"lab is for. For a lab host serving zones (podlab logs HOST), the queries it answered,\n" +
			"in the same format. Other pods: a line per request their built-in servers answered,\n" +
			"as their image logs it (nginx's access log, agnhost's lines, else podlab's own),\n" +
			"kubelet's probes included (user agent kube-probe/1.32); the last 1,000 per pod.\n\n" +
			"The supervisor keeps the last 2,000 queries of each server, in memory (a restarted\n" +
			"supervisor starts empty). -o json prints one JSON object a line with each query's\n" +
			"fields and the pod, node or host that has the client's address now. The first 20\n" +
			"queries of each second are also lab events (DNSQuery in podlab events). Exit 2 for a\n" +
			"pod or host the lab does not have.\n\n" +
			"--policy prints the NetworkPolicy verdict log instead: packets the nodes' tables\n" +
			"dropped by a pod's default deny (--allows: and accepted by a policy's rule), logged\n" +
			"by nftables at most 10 a second per pod and direction (allows: per rule and pod), one\n" +
			"line each with node, direction, pod, protocol, source and destination (with their\n" +
			"pods) and the isolating policies or the allowing rule. The supervisor keeps the last\n" +
			"2,000 in memory; the first 20 drops of each second are also PolicyDrop events. -o json\n" +
			"prints each entry's fields. podlab trace explains one flow.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return invalid("output format %q: expected text or json", output)
			}
			if allows && !policy {
				return invalid("--allows goes with --policy: podlab logs --policy --allows")
			}
			if policy {
				if len(args) > 0 || cmd.Flags().Changed("tail") || cmd.Flags().Changed("since") || cmd.Flags().Changed("namespace") {
					return invalid("--policy prints the lab's verdict log: drop the pod name, -n, --tail and --since")
				}
				return runPolicyLog(cmd, follow, allows, output)
			}
			if len(args) == 0 {
				return invalid("say whose logs: podlab logs [-n NAMESPACE] POD|HOST, or podlab logs --policy")
			}
			if tail < -1 {
				return invalid("--tail %d: expected a number of lines, or -1 for all", tail)
			}
			if since < 0 {
				return invalid("--since %s: expected a duration such as 5m", since)
			}
			name := args[0]
			if strings.Contains(name, "/") {
				var err error
				if name, err = podOf(cmd, name, namespace); err != nil {
					return err
				}
			}
			lab, dir, p, err := deployedLab(cmd)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ensureSupervisor(ctx, dir)
			q := api.LogQuery{Follow: follow, Tail: tail}
			if since > 0 {
				q.Since = time.Now().Add(-since)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			show := func(l api.LogLine) error {
				switch {
				case l.Note != "":
					fmt.Fprintln(cmd.ErrOrStderr(), "podlab:", l.Note)
					return nil
				case output == "json":
					return enc.Encode(l)
				}
				_, err := fmt.Fprintln(cmd.OutOrStdout(), l.Line)
				return err
			}
			c := api.NewClient(dir)
			err = c.Logs(ctx, "", namespace, name, q, show)
			if errors.Is(err, api.ErrNotFound) && !cmd.Flags().Changed("namespace") {
				if _, ok := p.Host(name); ok {
					return c.Logs(ctx, name, "", "", q, show)
				}
			}
			if errors.Is(err, api.ErrNotFound) {
				return invalid("lab %s has no pod %s/%s (or host %q); see `podlab get pods -A --name %s` (CoreDNS's pods are in kube-system: podlab logs -n kube-system POD)", lab, namespace, name, name, lab)
			}
			return err
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace of the pod")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until Ctrl-C")
	cmd.Flags().IntVar(&tail, "tail", -1, "print only the last N lines (-1: all)")
	cmd.Flags().DurationVar(&since, "since", 0, "print only lines newer than this, such as 5s, 2m or 3h")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text|json")
	cmd.Flags().BoolVar(&policy, "policy", false, "print the NetworkPolicy verdict log (drops)")
	cmd.Flags().BoolVar(&allows, "allows", false, "with --policy: allowed packets too")
	return cmd
}

// deployedLab is the lab --name names (or the only one) with its state directory and
// plan; a lab that is not deployed is invalid input.
func deployedLab(cmd *cobra.Command) (string, state.Dir, *plan.Plan, error) {
	lab, err := labName(cmd)
	if err != nil {
		return "", state.Dir{}, nil, err
	}
	dir := state.For(cfg.StateDir, lab)
	p, err := dir.ReadPlan()
	if err != nil {
		return "", state.Dir{}, nil, invalid("lab %q is not deployed", lab)
	}
	if err := supervisorAccess(cmd, dir); err != nil {
		return "", state.Dir{}, nil, err
	}
	return lab, dir, p, nil
}
