package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/dns"
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
		Example: `  sudo podlab exec web-1 -- ip -br addr
  sudo podlab exec -n shop api-5d9cc699db-6vgx8 -- curl -s web.default
  sudo podlab exec client -- ping -c1 10.244.1.2
  sudo podlab exec worker-1 -- nft list table ip podlab`,
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
			pod, err := podEtc(cmd.Context(), dir, p, namespace, target)
			if err != nil && !errors.Is(err, api.ErrNotFound) {
				return err
			}
			if pod != nil {
				if !pod.IP.IsValid() {
					return fmt.Errorf("pod %s/%s is Pending (no node or address yet): nothing to run in; see `podlab describe pod %s -n %s`", namespace, target, target, namespace)
				}
				nsName = pod.Netns
				etcFiles = map[string]string{"resolv.conf": pod.ResolvConf, "hosts": pod.Hosts}
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
			// The command sees the target's own hostname, as in a pod (kubelet sets the
			// pod's name), a kind node or a host.
			return netns.Exec(path, etc, target, args[1:])
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace of the pod")
	return cmd
}

// podEtc finds a pod and its /etc files through the supervisor, which knows every
// pod (a controller's too); only without a running supervisor does it read the plan,
// which has the lab file's pods. The error wraps api.ErrNotFound for no such pod.
func podEtc(ctx context.Context, dir state.Dir, p *plan.Plan, namespace, name string) (*api.PodEtc, error) {
	if dir.SupervisorAlive(dir.SupervisorPID()) {
		return api.NewClient(dir).PodEtc(ctx, namespace, name)
	}
	pod, ok := p.Pod(namespace, name)
	if !ok {
		return nil, fmt.Errorf("pod %s/%s: %w", namespace, name, api.ErrNotFound)
	}
	resolv, err := dns.ResolvConf(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}, p.Cluster.Domain, p.DNSAddr(), p.NodeResolvConf())
	if err != nil {
		return nil, err
	}
	return &api.PodEtc{Namespace: namespace, Name: name, Node: pod.Node, Netns: pod.Netns, IP: pod.IP, ResolvConf: resolv, Hosts: plan.HostsFile(pod)}, nil
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
