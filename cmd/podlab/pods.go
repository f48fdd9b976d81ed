package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

// client returns the supervisor client of the lab named by --name (or the only one).
func client(cmd *cobra.Command) (*api.Client, string, error) {
	lab, err := labName(cmd)
	if err != nil {
		return nil, "", err
	}
	dir := state.For(cfg.StateDir, lab)
	if !dir.Exists() {
		return nil, "", invalid("lab %q is not deployed", lab)
	}
	if err := supervisorAccess(cmd, dir); err != nil {
		return nil, "", err
	}
	if err := ensureSupervisor(cmd.Context(), dir); err != nil {
		return nil, "", err
	}
	return api.NewClient(dir), lab, nil
}

func notFound(err error) error {
	if errors.Is(err, api.ErrNotFound) {
		return invalid("%v", err)
	}
	return err
}

func newDelete() *cobra.Command {
	var namespace, file string
	cmd := &cobra.Command{
		Use:   "delete (-f FILE | pod NAME... | KIND NAME...) [-n NAMESPACE] [--name LAB]",
		Short: "Delete pods (CNI DEL, namespace removed) or objects from a running lab",
		Example: `  sudo podlab delete pod web-1
  sudo podlab delete deployment api -n shop
  sudo podlab delete -f labs/basics/web-nodeport.yaml`,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			if file != "" {
				if len(args) > 0 {
					return invalid("give either -f FILE or KIND NAME, not both")
				}
				objs, _, err := readManifests(file)
				if err != nil {
					return err
				}
				var refs []api.ObjectRef
				for _, o := range objs {
					refs = append(refs, api.ObjectRef{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name})
				}
				rs, err := c.DeleteObjects(cmd.Context(), refs)
				if err != nil {
					return err
				}
				return printResults(cmd.OutOrStdout(), rs)
			}
			if len(args) < 2 {
				return invalid("say what to delete: podlab delete pod NAME, podlab delete svc NAME or podlab delete -f FILE")
			}
			kind, ok := resources[strings.ToLower(args[0])]
			if !ok {
				return invalid("the server doesn't have a resource type %q", args[0])
			}
			for _, name := range args[1:] {
				if kind == "Pod" {
					if err := c.DeletePod(cmd.Context(), namespace, name); err != nil {
						return notFound(err)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "pod %q deleted\n", name)
					continue
				}
				ns := namespace
				if topology.ClusterScoped(kind) {
					ns = ""
				}
				rs, err := c.DeleteObjects(cmd.Context(), []api.ObjectRef{{Kind: kind, Namespace: ns, Name: name}})
				if err != nil {
					return err
				}
				if err := printResults(cmd.OutOrStdout(), rs); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	cmd.Flags().StringVarP(&file, "filename", "f", "", "delete the objects of this manifest file")
	return cmd
}

func newLabel() *cobra.Command {
	var namespace string
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "label (pod|namespace|node) NAME KEY=VALUE... KEY-... [-n NAMESPACE] [--overwrite]",
		Short: "Add, change (--overwrite) or remove (KEY-) a pod's, namespace's or node's labels, as kubectl label does",
		Example: `  sudo podlab label pod web-1 tier=frontend
  sudo podlab label pod web-1 tier=backend --overwrite
  sudo podlab label namespace shop team=payments
  sudo podlab label node worker-1 zone-`,
		Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := resources[strings.ToLower(args[0])]
			if kind != "Pod" && kind != "Node" && kind != "Namespace" {
				return invalid("label %q: this version labels pods, namespaces and nodes: podlab label pod|namespace|node NAME KEY=VALUE", args[0])
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			ns := namespace
			if kind != "Pod" {
				ns = ""
			}
			objs, err := c.Objects(cmd.Context(), kind, ns)
			if err != nil {
				return err
			}
			var labels map[string]string
			for _, o := range objs {
				if o.Name != args[1] {
					continue
				}
				var m struct {
					Metadata struct {
						Labels map[string]string `json:"labels"`
					} `json:"metadata"`
				}
				json.Unmarshal(o.Object, &m)
				labels = map[string]string{}
				for k, v := range m.Metadata.Labels {
					labels[k] = v
				}
			}
			if labels == nil {
				if kind != "Pod" {
					return invalid("%ss %q not found", strings.ToLower(kind), args[1])
				}
				return invalid("pods %q not found in namespace %q", args[1], namespace)
			}
			if err := applyLabelArgs(labels, args[2:], overwrite); err != nil {
				return err
			}
			switch kind {
			case "Node":
				err = c.SetNodeLabels(cmd.Context(), args[1], labels)
			case "Namespace":
				err = c.SetNamespaceLabels(cmd.Context(), args[1], labels)
			default:
				err = c.SetLabels(cmd.Context(), namespace, args[1], labels)
			}
			if err != nil {
				return notFound(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/%s labeled\n", strings.ToLower(kind), args[1])
			return nil
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "allow changing the value of an existing label")
	return cmd
}

// applyLabelArgs applies kubectl label's KEY=VALUE and KEY- arguments to labels.
func applyLabelArgs(labels map[string]string, args []string, overwrite bool) error {
	for _, a := range args {
		if k, ok := strings.CutSuffix(a, "-"); ok && !strings.Contains(a, "=") {
			if _, has := labels[k]; !has {
				return invalid("label %q not found", k)
			}
			delete(labels, k)
			continue
		}
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			return invalid("%q: expected KEY=VALUE or KEY-", a)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return invalid("invalid label key %q: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return invalid("invalid label value %q: %s", v, strings.Join(errs, "; "))
		}
		if old, has := labels[k]; has && old != v && !overwrite {
			return invalid("'%s' already has a value (%s), and --overwrite is false", k, old)
		}
		labels[k] = v
	}
	return nil
}
