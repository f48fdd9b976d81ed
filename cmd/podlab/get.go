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
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/printers"
	"podlab.dev/podlab/topology"
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
	// The Gateway API's CRDs: names and short names as they declare them (refgrant is podlab's).
	"gc": "GatewayClass", "gatewayclass": "GatewayClass", "gatewayclasses": "GatewayClass",
	"gtw": "Gateway", "gateway": "Gateway", "gateways": "Gateway",
	"httproute": "HTTPRoute", "httproutes": "HTTPRoute",
	"grpcroute": "GRPCRoute", "grpcroutes": "GRPCRoute",
	"referencegrant": "ReferenceGrant", "referencegrants": "ReferenceGrant", "refgrant": "ReferenceGrant",
	"sc": "StorageClass", "storageclass": "StorageClass", "storageclasses": "StorageClass",
	"pv": "PersistentVolume", "persistentvolume": "PersistentVolume", "persistentvolumes": "PersistentVolume",
	"pc": "PriorityClass", "priorityclass": "PriorityClass", "priorityclasses": "PriorityClass",
	"runtimeclass": "RuntimeClass", "runtimeclasses": "RuntimeClass",
	"clusterrole": "ClusterRole", "clusterroles": "ClusterRole",
	"clusterrolebinding": "ClusterRoleBinding", "clusterrolebindings": "ClusterRoleBinding",
	"sts": "StatefulSet", "statefulset": "StatefulSet", "statefulsets": "StatefulSet",
	"ds": "DaemonSet", "daemonset": "DaemonSet", "daemonsets": "DaemonSet",
	"rs": "ReplicaSet", "replicaset": "ReplicaSet", "replicasets": "ReplicaSet",
	"ev": "Event", "event": "Event", "events": "Event",
	"lease": "Lease", "leases": "Lease",
	"job": "Job", "jobs": "Job", "cj": "CronJob", "cronjob": "CronJob", "cronjobs": "CronJob",
}

func newGet() *cobra.Command {
	var namespace, output, selector string
	var all, showLabels bool
	var w watchOptions
	cmd := &cobra.Command{
		Use:   "get KIND[,KIND...] [NAME] [-n NAMESPACE | -A] [-l SELECTOR] [--show-labels] [-o wide|name|json|yaml|jsonpath=TEMPLATE] [-w]",
		Short: "List a lab's objects as kubectl does: pods, nodes, namespaces, services, endpoints, endpointslices, and every kept kind",
		Example: `  podlab get pods                        # pods of the default namespace
  podlab get pods -A -o wide             # every namespace, with IPs and nodes
  podlab get pods -l app=web,tier!=db    # by label selector, as kubectl -l
  podlab get pods --show-labels          # a LABELS column
  podlab get pods -o name                # pod/web-1, for scripts
  podlab get pods -o jsonpath='{.items[*].metadata.name}'
  podlab get svc web -o jsonpath='{.spec.clusterIP}'
  podlab get svc,endpoints               # several kinds at once
  podlab get ingressclass                # cluster-scoped kinds need no -A
  podlab get gatewayclass,gateways,httproutes -A
  podlab get all -n kube-system
  podlab get pods -w                     # the table, then a line per change, until Ctrl-C
  podlab get pods --watch-only --output-watch-events`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "", "wide", "name", "json", "yaml":
			default:
				if _, ok := jsonPathTemplate(output); !ok {
					return invalid("output format %q: expected wide, name, json, yaml or jsonpath=TEMPLATE", output)
				}
			}
			sel, err := labels.Parse(selector)
			if err != nil {
				return invalid("selector %q: %v", selector, err)
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
			if w.watch || w.only {
				if len(kinds) != 1 || prefix {
					return invalid("you may only watch one kind at a time (got %q)", args[0])
				}
				if output != "" && output != "wide" && output != "name" && output != "json" && output != "yaml" {
					return invalid("output format %q with --watch: expected wide, name, json or yaml", output)
				}
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			ns := namespace
			if all {
				ns = ""
			}
			if w.watch || w.only {
				w.kind, w.namespace, w.name, w.selector, w.output = kinds[0], ns, name, sel, output
				w.table = tableOptions{allNS: all, wide: output == "wide", labels: showLabels}
				return watchObjects(cmd, c, w)
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
				objs = selectLabels(objs, sel)
				if name != "" && len(objs) == 0 {
					return invalid("%s %q not found", strings.ToLower(kind), name)
				}
				if len(objs) == 0 && prefix {
					continue
				}
				if note := topology.NotEnforced(kind); note != "" && len(objs) > 0 {
					defer fmt.Fprintln(cmd.ErrOrStderr(), note) // after the table, as kubectl's warnings
				}
				for _, o := range objs {
					items = append(items, o)
				}
				if output == "name" {
					tables = append(tables, func(w io.Writer) error { return printNames(w, objs) })
					continue
				}
				opts := tableOptions{allNS: all, wide: output == "wide", prefix: prefix || len(kinds) > 1, labels: showLabels}
				tables = append(tables, func(w io.Writer) error {
					return printObjects(w, kind, objs, opts, counts)
				})
			}
			tmpl, isJSONPath := jsonPathTemplate(output)
			if len(items) == 0 && output != "json" && output != "yaml" && !isJSONPath {
				if all || allClusterScoped(kinds) {
					fmt.Fprintln(cmd.ErrOrStderr(), "No resources found")
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "No resources found in %s namespace.\n", ns)
				}
				return nil
			}
			out := cmd.OutOrStdout()
			if isJSONPath {
				return printJSONPath(out, tmpl, getResult(items, name))
			}
			switch output {
			case "json", "yaml":
				v := getResult(items, name)
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
				if i > 0 && output != "name" {
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
	cmd.Flags().StringVarP(&output, "output", "o", "", "wide|name|json|yaml|jsonpath=TEMPLATE")
	cmd.Flags().StringVarP(&selector, "selector", "l", "", "label selector (app=web, app in (web,db), !canary, tier!=db)")
	cmd.Flags().BoolVar(&showLabels, "show-labels", false, "add a LABELS column")
	cmd.Flags().BoolVarP(&w.watch, "watch", "w", false, "after the list, print a line for each change until Ctrl-C")
	cmd.Flags().BoolVar(&w.only, "watch-only", false, "print a line for each change, without the list first")
	cmd.Flags().BoolVar(&w.events, "output-watch-events", false, "with --watch: an EVENT column (ADDED, MODIFIED, DELETED)")
	return cmd
}

// collect returns the stored objects of one kind, typed.
func collect(cmd *cobra.Command, c *api.Client, kind, ns, name string) ([]runtime.Object, error) {
	if topology.ClusterScoped(kind) {
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

// tableOptions are get's flags that shape a table.
type tableOptions struct {
	allNS  bool // -A: a NAMESPACE column for namespaced kinds
	wide   bool // -o wide
	prefix bool // several kinds (get all): names read "kind/name"
	labels bool // --show-labels
}

// printObjects prints kubectl's table of one kind. Services in wide output also get
// kube-proxy's packet and byte counters.
func printObjects(w io.Writer, kind string, objs []runtime.Object, o tableOptions, counts *api.CounterSet) error {
	return printers.Write(w, objectTable(kind, objs, o, counts))
}

// objectTable is printObjects's table: a header and a row per object.
func objectTable(kind string, objs []runtime.Object, o tableOptions, counts *api.CounterSet) [][]string {
	t := printers.Table(kind, objs, time.Now(), o.wide, o.allNS)
	nameCol := 0
	if o.allNS && !topology.ClusterScoped(kind) {
		nameCol = 1
	}
	for i := 1; i < len(t); i++ {
		if o.prefix {
			t[i][nameCol] = strings.ToLower(kind) + "/" + t[i][nameCol]
		}
	}
	if kind == "Service" && o.wide && counts != nil {
		t[0] = append(t[0], "PACKETS", "BYTES")
		for i, o := range objs {
			m := o.(*corev1.Service)
			pc := counts.Services[m.Namespace+"/"+m.Name]
			t[i+1] = append(t[i+1], fmt.Sprint(pc.Packets), fmt.Sprint(pc.Bytes))
		}
	}
	if o.labels { // kubectl puts LABELS last, after the wide columns
		t[0] = append(t[0], "LABELS")
		for i, obj := range objs {
			t[i+1] = append(t[i+1], showLabels(obj))
		}
	}
	return t
}

// showLabels is kubectl's LABELS cell: k=v sorted by key, or <none>.
func showLabels(obj runtime.Object) string {
	m, err := meta.Accessor(obj)
	if err != nil || len(m.GetLabels()) == 0 {
		return "<none>"
	}
	return labels.Set(m.GetLabels()).String()
}

// selectLabels keeps the objects whose labels match sel.
func selectLabels(objs []runtime.Object, sel labels.Selector) []runtime.Object {
	if sel.Empty() {
		return objs
	}
	out := objs[:0:0]
	for _, obj := range objs {
		if m, err := meta.Accessor(obj); err == nil && sel.Matches(labels.Set(m.GetLabels())) {
			out = append(out, obj)
		}
	}
	return out
}

// printNames prints kubectl's -o name: kind[.group]/name, one a line.
func printNames(w io.Writer, objs []runtime.Object) error {
	for _, obj := range objs {
		m, err := meta.Accessor(obj)
		if err != nil {
			return err
		}
		gvk := obj.GetObjectKind().GroupVersionKind()
		res := strings.ToLower(gvk.Kind)
		if gvk.Group != "" {
			res += "." + gvk.Group
		}
		if _, err := fmt.Fprintf(w, "%s/%s\n", res, m.GetName()); err != nil {
			return err
		}
	}
	return nil
}

// allClusterScoped says whether every kind asked for has no namespace, so that "No
// resources found" names none.
func allClusterScoped(kinds []string) bool {
	for _, k := range kinds {
		if !topology.ClusterScoped(k) {
			return false
		}
	}
	return true
}
