package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/deploy"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

func newDestroy() *cobra.Command {
	var name, output string
	var all bool
	cmd := &cobra.Command{
		Use:   "destroy (FILE | -t FILE | -f FILE | --name LAB | --all)",
		Short: "Remove a lab and everything it made; a lab that does not exist is not an error",
		Example: `  podlab destroy labs/basics/lab.yaml     # the lab the file names
  podlab destroy -f labs/basics/lab.yaml  # the same (-t as containerlab)
  podlab destroy --name basics`,
		RunE: func(cmd *cobra.Command, args []string) error {
			topo, _ := cmd.Flags().GetString("topo")
			filename, _ := cmd.Flags().GetString("filename")
			fileGiven := len(args) > 0 || topo != "" || filename != ""
			n := 0
			for _, set := range []bool{fileGiven, name != "", all} {
				if set {
					n++
				}
			}
			if n != 1 {
				return invalid("say which lab to destroy, one way: FILE, -f FILE, --name LAB or --all")
			}
			if fileGiven {
				file, err := labFile(cmd, args, "destroy")
				if err != nil {
					return err
				}
				lab, err := topology.Load(file)
				if err != nil {
					return err
				}
				name = lab.Name
			}
			if err := needRoot("podlab destroy"); err != nil {
				return err
			}
			rt := cleanupRuntime()
			labs := []string{name}
			if all {
				var err error
				if labs, err = deploy.Labs(cmd.Context(), cfg.StateDir, rt); err != nil {
					return err
				}
				if len(labs) == 0 {
					fmt.Fprintln(os.Stderr, "no lab to destroy")
				}
			}
			var out []*deploy.Removed
			for _, l := range labs {
				r, err := destroyLab(cmd.Context(), l)
				if err != nil {
					return err
				}
				out = append(out, r)
			}
			if output == "json" {
				return json.NewEncoder(os.Stdout).Encode(out)
			}
			return nil
		},
	}
	labFileFlags(cmd)
	cmd.Flags().StringVar(&name, "name", "", "lab name")
	cmd.Flags().BoolVar(&all, "all", false, "destroy every lab on this machine")
	cmd.Flags().StringVarP(&output, "output", "o", "text", "text|json")
	return cmd
}

func destroyLab(ctx context.Context, lab string) (*deploy.Removed, error) {
	start := time.Now()
	unlock, err := state.For(cfg.StateDir, lab).Lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	r, err := deploy.Destroy(context.WithoutCancel(ctx), lab, deploy.DestroyOptions{Root: cfg.StateDir, Runtime: cleanupRuntime()})
	if err != nil {
		return r, fmt.Errorf("destroy lab %q: %w", lab, err)
	}
	forgetKubeconfig(lab) // the context podlab kubeconfig --write made, if any
	if !r.Existed {
		fmt.Fprintf(os.Stderr, "lab %s does not exist; nothing to destroy\n", lab)
		return r, nil
	}
	fmt.Fprintf(os.Stderr, "lab %s destroyed in %.2fs: %d namespaces, %d supervisor process(es)\n", lab, time.Since(start).Seconds(), r.Namespaces, r.Supervisors)
	for _, c := range r.Sysctls {
		fmt.Fprintf(os.Stderr, "restored host limit %s\n", c)
	}
	return r, nil
}
