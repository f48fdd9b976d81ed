package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster"
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
			for _, r := range strings.Split(args[0], ",") {
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
			st, err := c.State(cmd.Context())
			if err != nil {
				return err
			}
			if !st.Supervisor.Running {
				return fmt.Errorf("the lab's supervisor is not running: %s", st.Supervisor.Message)
			}
			ns := namespace
			if all {
				ns = ""
			}
			var counts *cluster.CounterSet
			if output == "wide" && slices.Contains(kinds, "Service") {
				if counts, err = c.ServiceCounters(cmd.Context()); err != nil {
					return err
				}
			}
			var items []any
			var tables []func(io.Writer)
			for _, kind := range kinds {
				objs, err := collect(cmd, c, st, kind, ns, name)
				if err != nil {
					return err
				}
				if name != "" && len(objs) == 0 {
					return invalid("%s %q not found", strings.ToLower(kind), name)
				}
				items = append(items, objs...)
				tables = append(tables, func(w io.Writer) { printObjects(w, kind, objs, all, output == "wide", counts) })
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
				t(out)
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

// collect returns the objects of one kind as Kubernetes objects: pods, nodes and
// namespaces from the lab's live state, everything else from the object store.
func collect(cmd *cobra.Command, c *cluster.Client, st *cluster.LabState, kind, ns, name string) ([]any, error) {
	started := metav1.NewTime(st.Supervisor.Started)
	var out []any
	keep := func(objNS, objName string) bool {
		return (name == "" || objName == name) && (ns == "" || clusterScoped[kind] || objNS == ns)
	}
	switch kind {
	case "Pod":
		for _, p := range st.Pods {
			if keep(p.Namespace, p.Name) {
				out = append(out, podObject(p, started))
			}
		}
		return out, nil
	case "Node":
		for _, n := range st.Nodes {
			if keep("", n.Name) {
				out = append(out, nodeObject(n, started))
			}
		}
		return out, nil
	case "Namespace":
		objs, err := c.Objects(cmd.Context(), kind, "")
		if err != nil {
			return nil, err
		}
		seen := map[string]bool{}
		for _, o := range objs {
			seen[o.Name] = true
		}
		names := map[string]bool{"default": true}
		for _, p := range st.Pods {
			names[p.Namespace] = true
		}
		for n := range names {
			if !seen[n] && keep("", n) {
				out = append(out, &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: n, CreationTimestamp: started}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}})
			}
		}
		for _, o := range objs {
			if keep("", o.Name) {
				out = append(out, decodeStored(o))
			}
		}
		sort.Slice(out, func(i, j int) bool { return metaOf(out[i]).Name < metaOf(out[j]).Name })
		return out, nil
	}
	objs, err := c.Objects(cmd.Context(), kind, ns)
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		if keep(o.Namespace, o.Name) {
			out = append(out, decodeStored(o))
		}
	}
	return out, nil
}

// decodeStored returns the stored object as a typed Kubernetes object where podlab
// prints its columns, else as a generic map, with its creation time set.
func decodeStored(o *cluster.StoredObject) any {
	var v any
	switch o.Kind {
	case "Service":
		v = &corev1.Service{}
	case "Endpoints":
		v = &corev1.Endpoints{}
	case "EndpointSlice":
		v = &discoveryv1.EndpointSlice{}
	case "Namespace":
		v = &corev1.Namespace{}
	default:
		m := map[string]any{}
		json.Unmarshal(o.Object, &m)
		if md, ok := m["metadata"].(map[string]any); ok {
			md["creationTimestamp"] = o.Created.UTC().Format(time.RFC3339)
			if o.Namespace != "" {
				md["namespace"] = o.Namespace
			}
		}
		return m
	}
	json.Unmarshal(o.Object, v)
	if m := metaOf(v); m != nil {
		m.CreationTimestamp = metav1.NewTime(o.Created)
		if o.Namespace != "" {
			m.Namespace = o.Namespace
		}
	}
	return v
}

func metaOf(v any) *metav1.ObjectMeta {
	switch t := v.(type) {
	case *corev1.Pod:
		return &t.ObjectMeta
	case *corev1.Node:
		return &t.ObjectMeta
	case *corev1.Namespace:
		return &t.ObjectMeta
	case *corev1.Service:
		return &t.ObjectMeta
	case *corev1.Endpoints:
		return &t.ObjectMeta
	case *discoveryv1.EndpointSlice:
		return &t.ObjectMeta
	}
	return nil
}

func podObject(p cluster.PodState, created metav1.Time) *corev1.Pod {
	ready := corev1.ConditionFalse
	if p.Ready {
		ready = corev1.ConditionTrue
	}
	var ports []corev1.ContainerPort
	for _, s := range strings.Split(p.Ports, ",") {
		if s == "" {
			continue
		}
		var cp corev1.ContainerPort
		nameAndPort := s
		if n, rest, ok := strings.Cut(s, ":"); ok {
			cp.Name, nameAndPort = n, rest
		}
		port, proto, _ := strings.Cut(nameAndPort, "/")
		fmt.Sscan(port, &cp.ContainerPort)
		cp.Protocol = corev1.Protocol(strings.ToUpper(proto))
		if cp.Protocol == "" {
			cp.Protocol = corev1.ProtocolTCP
		}
		ports = append(ports, cp)
	}
	image := p.Image
	if image == "" {
		image = "podlab/netexec"
	}
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, Labels: p.Labels, CreationTimestamp: created},
		Spec:       corev1.PodSpec{NodeName: p.Node, Containers: []corev1.Container{{Name: "main", Image: image, Ports: ports}}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: p.IP.String(), PodIPs: []corev1.PodIP{{IP: p.IP.String()}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, Message: p.Reason}},
		},
	}
}

func nodeObject(n cluster.NodeState, created metav1.Time) *corev1.Node {
	return &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels, CreationTimestamp: created},
		Spec:       corev1.NodeSpec{PodCIDR: n.PodCIDR.String(), PodCIDRs: []string{n.PodCIDR.String()}},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: n.IP.String()}, {Type: corev1.NodeHostName, Address: n.Name}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "podlab", OperatingSystem: "linux"},
		},
	}
}

func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}

// printObjects prints a kubectl-style table.
func printObjects(w io.Writer, kind string, objs []any, allNS, wide bool, counts *cluster.CounterSet) {
	if len(objs) == 0 {
		fmt.Fprintf(os.Stderr, "No %s resources found.\n", strings.ToLower(kind))
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	defer tw.Flush()
	var header []string
	if allNS && !clusterScoped[kind] {
		header = append(header, "NAMESPACE")
	}
	row := func(ns string, cols ...string) {
		if allNS && !clusterScoped[kind] {
			cols = append([]string{ns}, cols...)
		}
		fmt.Fprintln(tw, strings.Join(cols, "\t"))
	}
	switch kind {
	case "Pod":
		header = append(header, "NAME", "READY", "STATUS", "RESTARTS", "AGE")
		if wide {
			header = append(header, "IP", "NODE")
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, o := range objs {
			p := o.(*corev1.Pod)
			ready := "0/1"
			if p.Status.Conditions[0].Status == corev1.ConditionTrue {
				ready = "1/1"
			}
			cols := []string{p.Name, ready, string(p.Status.Phase), "0", age(p.CreationTimestamp)}
			if wide {
				cols = append(cols, p.Status.PodIP, p.Spec.NodeName)
			}
			row(p.Namespace, cols...)
		}
	case "Node":
		header = append(header, "NAME", "STATUS", "ROLES", "AGE", "VERSION")
		if wide {
			header = append(header, "INTERNAL-IP", "POD-CIDR")
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, o := range objs {
			n := o.(*corev1.Node)
			roles := "<none>"
			if _, ok := n.Labels["node-role.kubernetes.io/control-plane"]; ok {
				roles = "control-plane"
			}
			cols := []string{n.Name, "Ready", roles, age(n.CreationTimestamp), n.Status.NodeInfo.KubeletVersion}
			if wide {
				cols = append(cols, n.Status.Addresses[0].Address, n.Spec.PodCIDR)
			}
			row("", cols...)
		}
	case "Service":
		header = append(header, "NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE")
		if wide {
			header = append(header, "SELECTOR", "PACKETS", "BYTES")
		}
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, o := range objs {
			s := o.(*corev1.Service)
			cols := []string{s.Name, string(svcType(s)), dash(s.Spec.ClusterIP), externalIP(s), svcPorts(s), age(s.CreationTimestamp)}
			if wide {
				c := counts.Services[s.Namespace+"/"+s.Name]
				cols = append(cols, selectorString(s.Spec.Selector), fmt.Sprint(c.Packets), fmt.Sprint(c.Bytes))
			}
			row(s.Namespace, cols...)
		}
	case "Endpoints":
		header = append(header, "NAME", "ENDPOINTS", "AGE")
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, o := range objs {
			e := o.(*corev1.Endpoints)
			var eps []string
			for _, ss := range e.Subsets {
				for _, a := range ss.Addresses {
					for _, p := range ss.Ports {
						eps = append(eps, fmt.Sprintf("%s:%d", a.IP, p.Port))
					}
				}
			}
			row(e.Namespace, e.Name, listOrNone(eps), age(e.CreationTimestamp))
		}
	case "EndpointSlice":
		header = append(header, "NAME", "ADDRESSTYPE", "PORTS", "ENDPOINTS", "AGE")
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, o := range objs {
			e := o.(*discoveryv1.EndpointSlice)
			var ports, addrs []string
			for _, p := range e.Ports {
				if p.Port != nil {
					ports = append(ports, fmt.Sprint(*p.Port))
				}
			}
			for _, ep := range e.Endpoints {
				addrs = append(addrs, ep.Addresses...)
			}
			row(e.Namespace, e.Name, string(e.AddressType), listOrNone(ports), listOrNone(addrs), age(e.CreationTimestamp))
		}
	default:
		header = append(header, "NAME", "AGE")
		fmt.Fprintln(tw, strings.Join(header, "\t"))
		for _, o := range objs {
			var ns, name string
			created := metav1.Time{}
			if m := metaOf(o); m != nil {
				ns, name, created = m.Namespace, m.Name, m.CreationTimestamp
			} else if mm, ok := o.(map[string]any); ok {
				md, _ := mm["metadata"].(map[string]any)
				ns, _ = md["namespace"].(string)
				name, _ = md["name"].(string)
				if ts, ok := md["creationTimestamp"].(string); ok {
					if t, err := time.Parse(time.RFC3339, ts); err == nil {
						created = metav1.NewTime(t)
					}
				}
			}
			row(ns, name, age(created))
		}
	}
}

func svcType(s *corev1.Service) corev1.ServiceType {
	if s.Spec.Type == "" {
		return corev1.ServiceTypeClusterIP
	}
	return s.Spec.Type
}

func externalIP(s *corev1.Service) string {
	var ips []string
	for _, in := range s.Status.LoadBalancer.Ingress {
		ips = append(ips, in.IP)
	}
	ips = append(ips, s.Spec.ExternalIPs...)
	switch {
	case len(ips) > 0:
		return strings.Join(ips, ",")
	case s.Spec.Type == corev1.ServiceTypeLoadBalancer:
		return "<pending>"
	case s.Spec.Type == corev1.ServiceTypeExternalName:
		return s.Spec.ExternalName
	}
	return "<none>"
}

func svcPorts(s *corev1.Service) string {
	var ps []string
	for _, p := range s.Spec.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		if p.NodePort != 0 {
			ps = append(ps, fmt.Sprintf("%d:%d/%s", p.Port, p.NodePort, proto))
		} else {
			ps = append(ps, fmt.Sprintf("%d/%s", p.Port, proto))
		}
	}
	return listOrNone(ps)
}

func selectorString(sel map[string]string) string {
	if len(sel) == 0 {
		return "<none>"
	}
	return labelString(sel)
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "<none>"
	}
	if len(s) > 3 { // kubectl shows three and counts the rest
		return strings.Join(s[:3], ",") + fmt.Sprintf(" + %d more...", len(s)-3)
	}
	return strings.Join(s, ",")
}
