package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/state"
)

func newInspect() *cobra.Command {
	var output string
	var all bool
	cmd := &cobra.Command{
		Use:   "inspect (--name LAB | --all)",
		Short: "Show a lab's nodes, hosts, pods, addresses and readiness",
		Example: `  sudo podlab inspect
  sudo podlab inspect --name basics -o yaml
  sudo podlab inspect --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			var labs []string
			if all {
				var err error
				if labs, err = state.Labs(cfg.StateDir); err != nil {
					return err
				}
			} else {
				name, err := labName(cmd)
				if err != nil {
					return err
				}
				labs = []string{name}
			}
			var out []*api.LabState
			for _, l := range labs {
				dir := state.For(cfg.StateDir, l)
				if !dir.Exists() {
					return fmt.Errorf("lab %q is not deployed", l)
				}
				if err := supervisorAccess(cmd, dir); err != nil {
					return err
				}
				ensureSupervisor(cmd.Context(), dir)
				st, err := api.NewClient(dir).State(cmd.Context())
				if err != nil {
					return err
				}
				out = append(out, st)
			}
			return printState(cmd.OutOrStdout(), out, output)
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().BoolVar(&all, "all", false, "every deployed lab")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table|json|yaml")
	return cmd
}

func checkOutput(o string) error {
	switch o {
	case "table", "json", "yaml", "text":
		return nil
	}
	return invalid("output format %q: expected table, json or yaml", o)
}

// printState writes lab states; -o json/yaml print one object for one lab and a
// list for --all.
func printState(w io.Writer, labs []*api.LabState, output string) error {
	var v any = labs
	if len(labs) == 1 {
		v = labs[0]
	}
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case "yaml":
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	for i, s := range labs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		printTable(w, s)
	}
	return nil
}

func printTable(w io.Writer, s *api.LabState) {
	sup := fmt.Sprintf("supervisor pid %d", s.Supervisor.PID)
	if !s.Supervisor.Running {
		sup = "SUPERVISOR NOT RUNNING: " + s.Supervisor.Message
	}
	fmt.Fprintf(w, "lab %s  runtime %s  overlay %s  cni %s  pods %s  services %s  underlay %s  (%s)\n\n",
		s.Lab, s.Runtime, s.Overlay, s.CNI, s.PodCIDR, s.ServiceCIDR, s.Underlay, sup)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tROLE\tIP\tPOD CIDR\tPODS")
	for _, n := range s.Nodes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", n.Name, n.Role, n.IP, n.PodCIDR, n.Pods)
	}
	tw.Flush()
	if len(s.Hosts) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "HOST\tIP\tSERVES")
		for _, h := range s.Hosts {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Name, h.IP, dash(h.Ports))
		}
		tw.Flush()
	}
	if len(s.Pods) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "NAMESPACE\tPOD\tNODE\tIP\tREADY\tPORTS\tLABELS")
		for _, p := range s.Pods {
			ready := "yes"
			switch {
			case strings.HasPrefix(p.Reason, "Pending"):
				ready = "Pending"
			case !p.Ready:
				ready = "no"
			}
			ip := "-"
			if p.IP.IsValid() {
				ip = p.IP.String()
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.Namespace, p.Name, dash(p.Node), ip, ready, dash(p.Ports), labelString(p.Labels))
		}
		tw.Flush()
	}
	var broken []string
	for _, n := range s.Nodes {
		if n.Broken != "" {
			broken = append(broken, "node "+n.Name+": "+n.Broken)
		}
	}
	for _, h := range s.Hosts {
		if h.Broken != "" {
			broken = append(broken, "host "+h.Name+": "+h.Broken)
		}
	}
	for _, p := range s.Pods {
		if p.Broken != "" {
			broken = append(broken, "pod "+p.Namespace+"/"+p.Name+": "+p.Broken)
		}
	}
	if len(broken) > 0 {
		fmt.Fprintf(w, "\nBROKEN:\n  %s\n", strings.Join(broken, "\n  "))
	}
	kept := notEnforcedIn(s.Objects, func(o api.ObjectState) (string, string, string, bool) {
		return o.Kind, o.Namespace, o.Name, o.Applied
	})
	if len(kept) > 0 {
		fmt.Fprintln(w)
		printNotEnforced(w, kept)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func labelString(l map[string]string) string {
	if len(l) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + l[k]
	}
	return strings.Join(keys, ",")
}
