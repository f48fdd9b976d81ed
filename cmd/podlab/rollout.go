package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
)

// workloadRef parses kubectl's "KIND/NAME" or "KIND NAME" arguments.
func workloadRef(args []string, namespace string) (api.ObjectRef, error) {
	var kind, name string
	switch {
	case len(args) == 1 && strings.Contains(args[0], "/"):
		kind, name, _ = strings.Cut(args[0], "/")
	case len(args) == 2:
		kind, name = args[0], args[1]
	default:
		return api.ObjectRef{}, invalid("expected KIND/NAME or KIND NAME, e.g. deployment/web")
	}
	k, ok := resources[strings.ToLower(strings.TrimSuffix(kind, ".apps"))]
	if !ok {
		return api.ObjectRef{}, invalid("the server doesn't have a resource type %q", kind)
	}
	return api.ObjectRef{Kind: k, Namespace: namespace, Name: name}, nil
}

func newScale() *cobra.Command {
	var namespace string
	var replicas int32
	cmd := &cobra.Command{
		Use:   "scale (KIND/NAME | KIND NAME) --replicas=N [-n NAMESPACE]",
		Short: "Set the replicas of a Deployment, ReplicaSet or StatefulSet, as kubectl scale does",
		Example: `  sudo podlab scale deployment/api --replicas=3 -n shop
  sudo podlab scale sts db --replicas=1`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") {
				return invalid("required flag(s) \"replicas\" not set")
			}
			ref, err := workloadRef(args, namespace)
			if err != nil {
				return err
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			if _, err := c.Scale(cmd.Context(), api.ScaleRequest{ObjectRef: ref, Replicas: replicas}); err != nil {
				return notFound(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s scaled\n", qualified(ref.Kind), ref.Name)
			return nil
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	cmd.Flags().Int32Var(&replicas, "replicas", 0, "the new number of replicas")
	return cmd
}

// qualified is kubectl's resource.group name of a kind.
func qualified(kind string) string {
	group := map[string]string{
		"Deployment": "apps", "ReplicaSet": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "ControllerRevision": "apps",
		"NetworkPolicy": "networking.k8s.io", "Ingress": "networking.k8s.io", "IngressClass": "networking.k8s.io",
		"EndpointSlice": "discovery.k8s.io", "Job": "batch", "CronJob": "batch",
		"Gateway": "gateway.networking.k8s.io", "HTTPRoute": "gateway.networking.k8s.io", "GatewayClass": "gateway.networking.k8s.io",
		"GRPCRoute": "gateway.networking.k8s.io", "ReferenceGrant": "gateway.networking.k8s.io",
	}[kind]
	if group == "" {
		return strings.ToLower(kind)
	}
	return strings.ToLower(kind) + "." + group
}

func newRollout() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout status|history|restart|undo|pause|resume KIND/NAME",
		Short: "Manage the rollout of a Deployment (status, restart: also StatefulSets and DaemonSets), as kubectl rollout does",
	}
	for _, action := range []string{"status", "history", "restart", "undo", "pause", "resume"} {
		var namespace, output string
		var toRevision int64
		var timeout time.Duration
		sub := &cobra.Command{
			Use: action + " (deployment/NAME | deployment NAME) [-n NAMESPACE]",
			Short: map[string]string{
				"status":  "Wait until the rollout finishes, printing its progress",
				"history": "List the revisions of a Deployment",
				"restart": "Restart every pod of a Deployment with a rolling update",
				"undo":    "Roll back to the previous revision (or --to-revision)",
				"pause":   "Pause a rollout",
				"resume":  "Resume a paused rollout",
			}[action],
			Example: map[string]string{
				"status":  "  sudo podlab rollout status deployment/api -n shop --timeout 2m",
				"history": "  sudo podlab rollout history deployment/api -n shop",
				"restart": "  sudo podlab rollout restart deployment api -n shop\n  sudo podlab rollout restart statefulset/db",
				"undo":    "  sudo podlab rollout undo deployment/api -n shop\n  sudo podlab rollout undo deployment/api -n shop --to-revision 1",
				"pause":   "  sudo podlab rollout pause deployment/api -n shop",
				"resume":  "  sudo podlab rollout resume deployment/api -n shop",
			}[action],
			Args: cobra.RangeArgs(1, 2),
			RunE: func(cmd *cobra.Command, args []string) error {
				ref, err := workloadRef(args, namespace)
				if err != nil {
					return err
				}
				c, _, err := client(cmd)
				if err != nil {
					return err
				}
				req := api.RolloutRequest{ObjectRef: ref, Action: action, ToRevision: toRevision}
				out := cmd.OutOrStdout()
				if action == "status" {
					deadline := time.Now().Add(timeout)
					last := ""
					for {
						r, err := c.Rollout(cmd.Context(), req)
						if err != nil {
							return notFound(err)
						}
						if r.Message != last {
							fmt.Fprintln(out, r.Message)
							last = r.Message
						}
						if r.Done {
							return nil
						}
						if timeout > 0 && time.Now().After(deadline) {
							return fmt.Errorf("timed out waiting for the condition")
						}
						select {
						case <-cmd.Context().Done():
							return cmd.Context().Err()
						case <-time.After(100 * time.Millisecond):
						}
					}
				}
				r, err := c.Rollout(cmd.Context(), req)
				if err != nil {
					return notFound(err)
				}
				if action != "history" {
					fmt.Fprintln(out, r.Message)
					return nil
				}
				if output == "json" {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "  ")
					return enc.Encode(r.History)
				}
				fmt.Fprintln(out, r.Message)
				fmt.Fprintln(out, "REVISION  CHANGE-CAUSE")
				for _, h := range r.History {
					cause := h.ChangeCause
					if cause == "" {
						cause = "<none>"
					}
					fmt.Fprintf(out, "%-9d %s\n", h.Revision, cause)
				}
				fmt.Fprintln(out)
				return nil
			},
		}
		sub.Flags().String("name", "", "lab name (default: the only deployed lab)")
		sub.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
		switch action {
		case "undo":
			sub.Flags().Int64Var(&toRevision, "to-revision", 0, "the revision to roll back to (0: the previous one)")
		case "status":
			sub.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: wait forever)")
		case "history":
			sub.Flags().StringVarP(&output, "output", "o", "", "json")
		}
		cmd.AddCommand(sub)
	}
	return cmd
}
