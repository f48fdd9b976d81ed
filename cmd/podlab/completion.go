package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

// completeTimeout bounds a completion's questions to the supervisor: a shell waits
// for them at every TAB, and a slow or missing answer completes nothing.
const completeTimeout = time.Second

// addCompletion gives root's commands shell completion of names, as kubectl's and
// containerlab's: --name with the labs under the state directory, -n with the lab's
// namespaces, and each command's arguments with the names of the lab's pods, nodes,
// hosts and objects. Names come from the supervisor's API (the stored plan when it is
// down; it is never restarted from a TAB); any failure completes nothing.
func addCompletion(root *cobra.Command) {
	for _, cmd := range root.Commands() {
		if cmd.Flags().Lookup("name") != nil && cmd.Name() != "supervise" {
			cmd.RegisterFlagCompletionFunc("name", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
				return labNames(cmd), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if cmd.Flags().Lookup("namespace") != nil {
			cmd.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
				return labAsk(cmd, func(ctx context.Context, c *api.Client) []string { return objectNames(ctx, c, "Namespace", "") }), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if fn := argCompletion[cmd.Name()]; fn != nil {
			cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
				return fn(cmd, args, toComplete), cobra.ShellCompDirectiveNoFileComp
			}
		}
	}
}

// argCompletion completes each command's arguments by its name.
var argCompletion = map[string]func(cmd *cobra.Command, args []string, toComplete string) []string{
	"use": func(cmd *cobra.Command, args []string, _ string) []string {
		if len(args) > 0 {
			return nil
		}
		return labNames(cmd)
	},
	"exec":         targetNames(true),
	"logs":         targetNames(false),
	"port-forward": targetNames(false),
	"get": func(cmd *cobra.Command, args []string, toComplete string) []string {
		switch len(args) {
		case 0: // kinds, each after the last comma of a list
			done := toComplete[:strings.LastIndex(toComplete, ",")+1]
			return slices.DeleteFunc(withPrefix(done, append(resourceNames(), "all")), func(r string) bool { return !strings.HasPrefix(r, toComplete) })
		case 1:
			return kindNames(cmd, args[0])
		}
		return nil
	},
	"describe": func(cmd *cobra.Command, args []string, _ string) []string {
		switch len(args) {
		case 0:
			return append(resourceNames(), "host")
		case 1:
			return kindNames(cmd, args[0])
		}
		return nil
	},
	"delete": func(cmd *cobra.Command, args []string, _ string) []string {
		if len(args) == 0 {
			return resourceNames()
		}
		return slices.DeleteFunc(kindNames(cmd, args[0]), func(n string) bool { return slices.Contains(args[1:], n) })
	},
}

// targetNames completes a pod of -n's namespace, with nodes and hosts too when a
// command takes them (exec), as its only argument.
func targetNames(nodes bool) func(*cobra.Command, []string, string) []string {
	return func(cmd *cobra.Command, args []string, _ string) []string {
		if len(args) > 0 {
			return nil
		}
		ns, _ := cmd.Flags().GetString("namespace")
		return labAsk(cmd, func(ctx context.Context, c *api.Client) []string {
			s, err := c.State(ctx)
			if err != nil {
				return nil
			}
			var out []string
			for _, p := range s.Pods {
				if p.Namespace == ns {
					out = append(out, p.Name)
				}
			}
			if nodes {
				for _, n := range s.Nodes {
					out = append(out, n.Name)
				}
			}
			for _, h := range s.Hosts {
				out = append(out, h.Name)
			}
			return out
		})
	}
}

// kindNames completes the names of one kind as get, describe and delete name it
// (pods, svc, host, ...), in -n's namespace (every one with -A).
func kindNames(cmd *cobra.Command, resource string) []string {
	if strings.Contains(resource, ",") {
		return nil // kubectl names objects of one kind only
	}
	ns, _ := cmd.Flags().GetString("namespace")
	if all, _ := cmd.Flags().GetBool("all-namespaces"); all {
		ns = ""
	}
	r := strings.ToLower(resource)
	return labAsk(cmd, func(ctx context.Context, c *api.Client) []string {
		if r == "host" || r == "hosts" {
			s, err := c.State(ctx)
			if err != nil {
				return nil
			}
			var out []string
			for _, h := range s.Hosts {
				out = append(out, h.Name)
			}
			return out
		}
		kind, ok := resources[r]
		if !ok {
			return nil
		}
		if topology.ClusterScoped(kind) {
			ns = ""
		}
		return objectNames(ctx, c, kind, ns)
	})
}

// objectNames lists the names of the lab's objects of kind in ns, once each.
func objectNames(ctx context.Context, c *api.Client, kind, ns string) []string {
	objs, err := c.Objects(ctx, kind, ns)
	if err != nil {
		return nil
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.Name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// labAsk runs ask against the lab the command names (or the current or only one),
// within completeTimeout; nothing when there is no such lab.
func labAsk(cmd *cobra.Command, ask func(context.Context, *api.Client) []string) []string {
	completionSettings(cmd)
	lab, err := labName(cmd)
	if err != nil {
		return nil
	}
	dir := state.For(cfg.StateDir, lab)
	if !dir.Exists() {
		return nil
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, completeTimeout)
	defer cancel()
	return ask(ctx, api.NewClient(dir))
}

// labNames lists the labs under the state directory.
func labNames(cmd *cobra.Command) []string {
	completionSettings(cmd)
	labs, _ := state.Labs(cfg.StateDir)
	return labs
}

// completionSettings reads the settings as a command does before it runs: cobra's
// __complete runs no PersistentPreRunE, so the state directory would be the default.
func completionSettings(cmd *cobra.Command) {
	v := viper.New()
	v.BindPFlag("state_dir", cmd.Flags().Lookup("state-dir"))
	loadSettings(v, cmd)
}

// resourceNames is every name get knows a kind by, sorted.
func resourceNames() []string {
	out := make([]string, 0, len(resources))
	for r := range resources {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

func withPrefix(prefix string, names []string) []string {
	for i, n := range names {
		names[i] = prefix + n
	}
	return names
}
