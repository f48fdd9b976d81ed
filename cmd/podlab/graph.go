package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/api"
)

func newGraph() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "graph [--name LAB] [-o dot|mermaid]",
		Short: "Print a lab's topology as a Graphviz dot graph or a Mermaid flowchart",
		Long: "Prints the lab as the API serves it now: the underlay with its nodes and hosts, each\n" +
			"node's pods grouped in it, the overlay that joins the nodes' pod CIDRs, and each Service\n" +
			"with edges to its ready endpoints' pods, as containerlab's graph does. Render dot with\n" +
			"Graphviz (dot -Tsvg) and paste mermaid into a Markdown ```mermaid block.",
		Example: "  podlab graph | dot -Tsvg > lab.svg\n  podlab graph -o mermaid --name web-lab",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "dot" && output != "mermaid" {
				return invalid("output format %q: expected dot or mermaid", output)
			}
			ctx, c, stop, err := supervisorClient(cmd)
			if err != nil {
				return err
			}
			defer stop()
			st, err := c.State(ctx)
			if err != nil {
				return err
			}
			g := labGraph{State: st}
			if err := decodeObjects(ctx, c, "Service", &g.Services); err != nil {
				return err
			}
			if err := decodeObjects(ctx, c, "Endpoints", &g.Endpoints); err != nil {
				return err
			}
			if output == "mermaid" {
				_, err = fmt.Fprint(cmd.OutOrStdout(), g.mermaid())
			} else {
				_, err = fmt.Fprint(cmd.OutOrStdout(), g.dot())
			}
			return err
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the current or only deployed lab)")
	cmd.Flags().StringVarP(&output, "output", "o", "dot", "dot|mermaid")
	return cmd
}

// supervisorClient is a client of the lab's supervisor (started again if it is not
// running) and a context that Ctrl-C cancels; call stop when done.
func supervisorClient(cmd *cobra.Command) (context.Context, *api.Client, func(), error) {
	_, dir, _, err := deployedLab(cmd)
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	ensureSupervisor(ctx, dir)
	return ctx, api.NewClient(dir), stop, nil
}

// decodeObjects lists every object of kind in all namespaces into out.
func decodeObjects[T any](ctx context.Context, c *api.Client, kind string, out *[]T) error {
	objs, err := c.Objects(ctx, kind, "")
	if err != nil {
		return err
	}
	for _, o := range objs {
		var v T
		if err := json.Unmarshal(o.Object, &v); err != nil {
			return fmt.Errorf("%s %s/%s: %w", kind, o.Namespace, o.Name, err)
		}
		*out = append(*out, v)
	}
	return nil
}

// labGraph is what `podlab graph` draws: the API's lab state, Services and Endpoints.
type labGraph struct {
	State     *api.LabState
	Services  []corev1.Service
	Endpoints []corev1.Endpoints
}

// graphEdge is one link: from and to are node ids; dashed for Service to endpoint.
type graphEdge struct {
	from, to, label string
	dashed          bool
}

// graphGroup is a box of graph nodes: the underlay, a node's pods, the Services.
type graphGroup struct {
	id, label string
	members   [][2]string // id, label
}

// layout is the graph both formats print.
func (g labGraph) layout() ([]graphGroup, []graphEdge) {
	st := g.State
	under := graphGroup{id: "underlay", label: "underlay " + st.Underlay.String()}
	under.members = append(under.members, [2]string{"underlay_net", "underlay " + st.Underlay.String()})
	var edges []graphEdge
	overlay := "overlay"
	if st.Overlay != "" {
		overlay += " (" + st.Overlay + ")"
	}
	groups := []graphGroup{}
	for _, n := range st.Nodes {
		id := graphID("node", n.Name)
		under.members = append(under.members, [2]string{id, fmt.Sprintf("node %s\n%s %s", n.Name, n.Role, n.IP)})
		edges = append(edges, graphEdge{from: id, to: "underlay_net", label: n.IP.String()})
		edges = append(edges, graphEdge{from: id, to: "overlay_net", label: n.PodCIDR.String()})
		pods := graphGroup{id: graphID("pods", n.Name), label: "pods on " + n.Name}
		for _, p := range st.Pods {
			if p.Node != n.Name {
				continue
			}
			pid := graphID("pod", p.Namespace+"/"+p.Name)
			pods.members = append(pods.members, [2]string{pid, fmt.Sprintf("%s/%s\n%s", p.Namespace, p.Name, p.IP)})
			edges = append(edges, graphEdge{from: pid, to: id})
		}
		groups = append(groups, pods)
	}
	for _, h := range st.Hosts {
		id := graphID("host", h.Name)
		under.members = append(under.members, [2]string{id, fmt.Sprintf("host %s\n%s", h.Name, h.IP)})
		edges = append(edges, graphEdge{from: id, to: "underlay_net", label: h.IP.String()})
	}
	ov := graphGroup{id: "overlay", label: overlay, members: [][2]string{{"overlay_net", fmt.Sprintf("%s\npods %s", overlay, st.PodCIDR)}}}
	groups = append([]graphGroup{under, ov}, groups...)
	svcs := graphGroup{id: "services", label: "Services " + st.ServiceCIDR.String()}
	eps := map[string]corev1.Endpoints{}
	for _, e := range g.Endpoints {
		eps[e.Namespace+"/"+e.Name] = e
	}
	podByIP := map[string]string{}
	for _, p := range st.Pods {
		podByIP[p.IP.String()] = graphID("pod", p.Namespace+"/"+p.Name)
	}
	sort.Slice(g.Services, func(i, j int) bool {
		return g.Services[i].Namespace+"/"+g.Services[i].Name < g.Services[j].Namespace+"/"+g.Services[j].Name
	})
	for _, s := range g.Services {
		key := s.Namespace + "/" + s.Name
		id := graphID("svc", key)
		label := fmt.Sprintf("svc %s\n%s %s", key, serviceType(s), s.Spec.ClusterIP)
		for _, in := range s.Status.LoadBalancer.Ingress {
			label += " " + in.IP
		}
		svcs.members = append(svcs.members, [2]string{id, label})
		seen := map[string]bool{}
		for _, sub := range eps[key].Subsets {
			var ports []string
			for _, p := range sub.Ports {
				ports = append(ports, fmt.Sprint(p.Port))
			}
			for _, a := range sub.Addresses {
				to := podByIP[a.IP]
				if a.TargetRef != nil && a.TargetRef.Kind == "Pod" {
					to = graphID("pod", a.TargetRef.Namespace+"/"+a.TargetRef.Name)
				}
				if to == "" || seen[to] {
					continue
				}
				seen[to] = true
				edges = append(edges, graphEdge{from: id, to: to, label: strings.Join(ports, ","), dashed: true})
			}
		}
	}
	if len(svcs.members) > 0 {
		groups = append(groups, svcs)
	}
	return groups, edges
}

func serviceType(s corev1.Service) string {
	if s.Spec.Type == "" {
		return string(corev1.ServiceTypeClusterIP)
	}
	return string(s.Spec.Type)
}

// graphID makes an identifier both dot and Mermaid accept.
func graphID(kind, name string) string {
	var b strings.Builder
	b.WriteString(kind + "_")
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func (g labGraph) dot() string {
	groups, edges := g.layout()
	var b strings.Builder
	fmt.Fprintf(&b, "graph %q {\n\tcompound=true;\n\tnode [shape=box, fontname=\"Helvetica\"];\n", g.State.Lab)
	for _, gr := range groups {
		fmt.Fprintf(&b, "\tsubgraph cluster_%s {\n\t\tlabel=%q;\n", gr.id, gr.label)
		for _, m := range gr.members {
			fmt.Fprintf(&b, "\t\t%s [label=\"%s\"];\n", m[0], dotText(m[1]))
		}
		b.WriteString("\t}\n")
	}
	for _, e := range edges {
		var attrs []string
		if e.label != "" {
			attrs = append(attrs, fmt.Sprintf("label=%q", e.label))
		}
		if e.dashed {
			attrs = append(attrs, "style=dashed")
		}
		fmt.Fprintf(&b, "\t%s -- %s", e.from, e.to)
		if len(attrs) > 0 {
			fmt.Fprintf(&b, " [%s]", strings.Join(attrs, ", "))
		}
		b.WriteString(";\n")
	}
	b.WriteString("}\n")
	return b.String()
}

func (g labGraph) mermaid() string {
	groups, edges := g.layout()
	var b strings.Builder
	b.WriteString("flowchart TB\n")
	for _, gr := range groups {
		fmt.Fprintf(&b, "\tsubgraph %s [\"%s\"]\n", gr.id, mermaidText(gr.label))
		for _, m := range gr.members {
			fmt.Fprintf(&b, "\t\t%s[\"%s\"]\n", m[0], mermaidText(m[1]))
		}
		b.WriteString("\tend\n")
	}
	for _, e := range edges {
		arrow := "---"
		if e.dashed {
			arrow = "-.-"
		}
		if e.label != "" {
			if e.dashed {
				fmt.Fprintf(&b, "\t%s -. \"%s\" .- %s\n", e.from, mermaidText(e.label), e.to)
			} else {
				fmt.Fprintf(&b, "\t%s ---|\"%s\"| %s\n", e.from, mermaidText(e.label), e.to)
			}
			continue
		}
		fmt.Fprintf(&b, "\t%s %s %s\n", e.from, arrow, e.to)
	}
	return b.String()
}

// dotText is a label inside dot's quotes: \n for line breaks, quotes escaped.
func dotText(s string) string {
	return strings.NewReplacer("\n", `\n`, `"`, `\"`).Replace(s)
}

// mermaidText is a label in Mermaid's quoted form: <br/> for line breaks, no quotes.
func mermaidText(s string) string {
	return strings.NewReplacer("\n", "<br/>", `"`, "#quot;").Replace(s)
}
