package main

import (
	"context"
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
)

func newWait() *cobra.Command {
	var namespace, forCond string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait [--name LAB] [-n NS] --for=condition=COND|--for=delete KIND/NAME... [--timeout 30s]",
		Short: "Wait until objects meet a condition or are deleted, as kubectl wait",
		Long: "Reads the lab's objects every 200 ms until each one named has status condition COND\n" +
			"True (Ready for a pod; Available or Progressing for a Deployment, where Ready means\n" +
			"every replica ready) or, with --for=delete, is gone. Prints `pod/NAME condition met`\n" +
			"or `pod/NAME deleted` for each. Exit 0 when met, 1 on timeout (kubectl's message\n" +
			"`timed out waiting for the condition on pods/NAME`), 2 for an object that does not\n" +
			"exist when waiting for a condition.",
		Example: `  podlab wait --for=condition=Ready pod/web-1
  podlab wait --for=condition=Available deployment/web -n shop --timeout 60s
  podlab wait --for=delete pod/web-1 --timeout 10s`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cond, del, err := parseFor(forCond)
			if err != nil {
				return err
			}
			type target struct{ kind, name string }
			var targets []target
			for _, a := range args {
				res, name, ok := strings.Cut(a, "/")
				kind := resources[strings.ToLower(res)]
				if !ok || name == "" || kind == "" {
					return invalid("%q: expected KIND/NAME such as pod/web-1 or deployment/web", a)
				}
				targets = append(targets, target{kind, name})
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			ctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			for _, t := range targets {
				ref := strings.ToLower(t.kind) + "/" + t.name
				for first := true; ; first = false {
					obj, err := findObject(ctx, c, t.kind, namespace, t.name)
					if err != nil && ctx.Err() == nil {
						return err
					}
					if obj == nil && err == nil && del {
						fmt.Fprintln(cmd.OutOrStdout(), ref, "deleted")
						break
					}
					if obj == nil && err == nil && first {
						return invalid("%s %q not found in namespace %s", strings.ToLower(t.kind), t.name, namespace)
					}
					if obj != nil && !del && conditionMet(t.kind, obj.Object, cond) {
						fmt.Fprintln(cmd.OutOrStdout(), ref, "condition met")
						break
					}
					select {
					case <-ctx.Done():
						return fmt.Errorf("timed out waiting for the condition on %s/%s", plural(t.kind), t.name)
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	cmd.Flags().StringVar(&forCond, "for", "", "condition=COND (Ready, Available, ...) or delete")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait")
	return cmd
}

// parseFor reads --for: condition=COND or delete.
func parseFor(s string) (cond string, del bool, err error) {
	if s == "delete" {
		return "", true, nil
	}
	if c, ok := strings.CutPrefix(s, "condition="); ok && c != "" {
		return c, false, nil
	}
	return "", false, invalid("--for %q: expected condition=COND (such as condition=Ready) or delete", s)
}

// findObject is the stored object kind ns/name, or nil when the lab has none.
func findObject(ctx context.Context, c *api.Client, kind, ns, name string) (*api.StoredObject, error) {
	objs, err := c.Objects(ctx, kind, ns)
	if errors.Is(err, api.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if o.Name == name {
			return o, nil
		}
	}
	return nil, nil
}

// conditionMet says whether the object's status has condition cond True, kubectl's
// test (names compared without case). A Deployment is Ready when every replica is.
func conditionMet(kind string, raw []byte, cond string) bool {
	var o struct {
		Spec struct {
			Replicas *int32 `json:"replicas"`
		} `json:"spec"`
		Status struct {
			ReadyReplicas int32 `json:"readyReplicas"`
			Conditions    []struct {
				Type   string `json:"type"`
				Status string `json:"status"`
			} `json:"conditions"`
		} `json:"status"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return false
	}
	for _, c := range o.Status.Conditions {
		if strings.EqualFold(c.Type, cond) {
			return c.Status == "True"
		}
	}
	if kind == "Deployment" && strings.EqualFold(cond, "Ready") {
		want := int32(1)
		if o.Spec.Replicas != nil {
			want = *o.Spec.Replicas
		}
		return o.Status.ReadyReplicas >= want
	}
	return false
}

// plural is kubectl's resource name in wait's messages: pods, deployments.apps.
func plural(kind string) string {
	p := strings.ToLower(kind) + "s"
	switch kind {
	case "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet":
		p += ".apps"
	}
	return p
}
