package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/topology"
)

// readManifests reads and validates a manifest file (or - for standard input) with the
// lab file's checks: file, line and field in every error.
func readManifests(file string) ([]topology.Object, []topology.Pod, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(os.Stdin)
		file = "<stdin>"
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, nil, err
	}
	return topology.LoadManifests(file, data)
}

// printResults prints one line per object as kubectl does and fails when any failed.
func printResults(w io.Writer, rs []api.ApplyResult) error {
	var errs []string
	for _, r := range rs {
		ref := qualified(r.Kind) + "/" + r.Name
		if r.Error != "" {
			errs = append(errs, ref+": "+r.Error)
			continue
		}
		if r.Action == "deleted" { // kubectl delete's words
			fmt.Fprintf(w, "%s %q deleted\n", qualified(r.Kind), r.Name)
			continue
		}
		fmt.Fprintf(w, "%s %s\n", ref, r.Action)
	}
	if len(errs) > 0 {
		return invalidInput{errors.New(strings.Join(errs, "\n"))}
	}
	return nil
}

func newApply() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "apply -f FILE [--name LAB]",
		Short: "Create or replace objects of a running lab from Kubernetes YAML (multi-document; - reads stdin)",
		Example: `  sudo podlab apply -f labs/basics/web-nodeport.yaml
  sed 's/replicas: 2/replicas: 3/' app.yaml | sudo podlab apply -f -
  sudo podlab apply --name basics -f deployment.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return invalid("apply needs a file: podlab apply -f FILE")
			}
			objs, _, err := readManifests(file)
			if err != nil {
				return err
			}
			c, _, err := client(cmd)
			if err != nil {
				return err
			}
			rs, err := c.Apply(cmd.Context(), objs)
			if err != nil {
				return err
			}
			return printResults(cmd.OutOrStdout(), rs)
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&file, "filename", "f", "", "manifest file, or - for standard input")
	return cmd
}
