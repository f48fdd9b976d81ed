package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/printers"
)

// resources maps kubectl's resource names and short names to kinds.
var resources = map[string]string{
	"po": "Pod", "pod": "Pod", "pods": "Pod",
	"no": "Node", "node": "Node", "nodes": "Node",
	"ns": "Namespace", "namespace": "Namespace", "namespaces": "Namespace",
	"svc": "Service", "service": "Service", "services": "Service",
	"ep": "Endpoints", "endpoints": "Endpoints",
	"endpointslice": "EndpointSlice", "endpointslices": "EndpointSlice",
	"deploy": "Deployment", "deployment": "Deployment", "deployments": "Deployment",
	"cm": "ConfigMap", "configmap": "ConfigMap", "configmaps": "ConfigMap",
	"secret": "Secret", "secrets": "Secret",
	"sa": "ServiceAccount", "serviceaccount": "ServiceAccount", "serviceaccounts": "ServiceAccount",
	"netpol": "NetworkPolicy", "networkpolicy": "NetworkPolicy", "networkpolicies": "NetworkPolicy",
	"ing": "Ingress", "ingress": "Ingress", "ingresses": "Ingress",
	"ingressclass": "IngressClass", "ingressclasses": "IngressClass",
	"sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
	"ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
	"rs": "ReplicaSet", "replicaset": "ReplicaSet", "replicasets": "ReplicaSet",
	"ev": "Event", "event": "Event", "events": "Event",
	"job": "Job", "jobs": "Job", "cj": "CronJob", "cronjob": "CronJob", "cronjobs": "CronJob",
}

// clusterScoped kinds have no namespace.
var clusterScoped = map[string]bool{"Node": true, "Namespace": true, "IngressClass": true}

func newGet() *cobra.Command {
	var namespace, output string
	var all bool
	cmd := &cobra.Command{
		Use:   "get KIND[,KIND...] [NAME] [-n NAMESPACE | -A] [-o wide|json|yaml]",
		Short: "List a lab's objects as kubectl does: pods, nodes, namespaces, services, endpoints, endpointslices, and every kept kind",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "", "wide", "json", "yaml":
			default:
				return invalid("output format %q: expected wide, json or yaml", output)
			}
			var kinds []string
			prefix := false
			for _, r := range strings.Split(args[0], ",") {
				if strings.ToLower(r) == "all" { // kubectl's "all" category
					kinds = append(kinds, "Pod", "Service", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet", "Job", "CronJob")
					prefix = true
					continue
				}
				k, ok := resources[strings.ToLower(r)]
				if !ok {
					return invalid("the server doesn't have a resource type %q", r)
				}
				kinds = append(kinds, k)
			}
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			ns := namespace
			if all {
				ns = ""
			}
			var counts *api.CounterSet
			if output == "wide" && slices.Contains(kinds, "Service") {
				if counts, err = c.ServiceCounters(cmd.Context()); err != nil {
					return err
				}
			}
			var items []any
			var tables []func(io.Writer) error
			for _, kind := range kinds {
				objs, err := collect(cmd, c, kind, ns, name)
				if err != nil {
					return err
				}
				if name != "" && len(objs) == 0 {
					return invalid("%s %q not found", strings.ToLower(kind), name)
				}
				if len(objs) == 0 && prefix {
					continue
				}
				for _, o := range objs {
					items = append(items, o)
				}
				tables = append(tables, func(w io.Writer) error {
					return printObjects(w, kind, objs, all, output == "wide", prefix || len(kinds) > 1, counts)
				})
			}
			if len(items) == 0 && output != "json" && output != "yaml" {
				if all {
					fmt.Fprintln(cmd.ErrOrStderr(), "No resources found")
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "No resources found in %s namespace.\n", ns)
				}
				return nil
			}
			out := cmd.OutOrStdout()
			switch output {
			case "json", "yaml":
				var v any = map[string]any{"apiVersion": "v1", "kind": "List", "items": items, "metadata": map[string]any{}}
				if name != "" && len(items) == 1 {
					v = items[0]
				}
				if output == "json" {
					enc := json.NewEncoder(out)
					enc.SetIndent("", "    ")
					return enc.Encode(v)
				}
				b, err := yaml.Marshal(v)
				if err != nil {
					return err
				}
				_, err = out.Write(b)
				return err
			}
			for i, t := range tables {
				if i > 0 {
					fmt.Fprintln(out)
				}
				if err := t(out); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace")
	cmd.Flags().BoolVarP(&all, "all-namespaces", "A", false, "every namespace")
	cmd.Flags().StringVarP(&output, "output", "o", "", "wide|json|yaml")
	return cmd
}

// collect returns the stored objects of one kind, typed.
func collect(cmd *cobra.Command, c *api.Client, kind, ns, name string) ([]runtime.Object, error) {
	if clusterScoped[kind] {
		ns = ""
	}
	objs, err := c.Objects(cmd.Context(), kind, ns)
	if err != nil {
		return nil, err
	}
	var out []runtime.Object
	for _, o := range objs {
		if name != "" && o.Name != name {
			continue
		}
		obj, err := store.Decode(o.APIVersion, o.Kind, o.Object)
		if err != nil {
			return nil, err
		}
		out = append(out, obj)
	}
	return out, nil
}

// printObjects prints kubectl's table of one kind; with prefix (get all) names read
// "kind/name". Services in wide output also get kube-proxy's packet and byte counters.
func printObjects(w io.Writer, kind string, objs []runtime.Object, allNS, wide, prefix bool, counts *api.CounterSet) error {
	t := printers.Table(kind, objs, time.Now(), wide, allNS)
	nameCol := 0
	if allNS && !clusterScoped[kind] {
		nameCol = 1
	}
	for i := 1; i < len(t); i++ {
		if prefix {
			t[i][nameCol] = strings.ToLower(kind) + "/" + t[i][nameCol]
		}
	}
	if kind == "Service" && wide && counts != nil {
		t[0] = append(t[0], "PACKETS", "BYTES")
		for i, o := range objs {
			m := o.(*corev1.Service)
			pc := counts.Services[m.Namespace+"/"+m.Name]
			t[i+1] = append(t[i+1], fmt.Sprint(pc.Packets), fmt.Sprint(pc.Bytes))
		}
	}
	return printers.Write(w, t)
}
