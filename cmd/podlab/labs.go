package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/labs"
)

// newLabs lists the teaching labs built into the binary (package labs), so an
// installed podlab shows them without a checkout.
func newLabs() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "labs [-o table|json]",
		Short: "List the bundled teaching labs: name and what each teaches (podlab lab show NAME prints its lesson)",
		Example: `  podlab labs
  podlab labs -o json | jq -r '.[].name'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all, err := labs.List()
			if err != nil {
				return err
			}
			switch output {
			case "json":
				type row struct {
					Name        string `json:"name"`
					Dir         string `json:"dir"`
					Description string `json:"description"`
				}
				rows := []row{}
				for _, l := range all {
					rows = append(rows, row{l.Name, "labs/" + l.Dir, l.Description})
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			case "table":
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tDESCRIPTION")
				for _, l := range all {
					fmt.Fprintf(tw, "%s\t%s\n", l.Name, l.Description)
				}
				return tw.Flush()
			}
			return invalid("output format %q: expected table or json", output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table|json")
	return cmd
}

// newLab groups the commands on one bundled lab.
func newLab() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Show a bundled teaching lab's lesson, or where its files are in a checkout",
	}
	cmd.AddCommand(newLabShow())
	return cmd
}

func newLabShow() *cobra.Command {
	var where bool
	cmd := &cobra.Command{
		Use:   "show NAME [--path]",
		Short: "Print a bundled lab's lesson (its README.md); --path prints its lab file in the source checkout",
		Example: `  podlab lab show services
  podlab lab show svc-broken-selector      # a broken variant: its lab's lesson
  sudo podlab deploy -t $(podlab lab show services --path)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := labs.Find(args[0])
			var nf *labs.NotFoundError
			if errors.As(err, &nf) {
				return invalid("%v\n  hint: podlab labs lists them", err)
			}
			if err != nil {
				return err
			}
			if where {
				wd, _ := os.Getwd()
				dir, ok := labs.Checkout(l, wd)
				if !ok {
					return fmt.Errorf("lab %s: no podlab source checkout here (labs/%s above %s) nor where this binary was built\n  hint: the lesson is built in: podlab lab show %s; the files are in the repository's labs/%s", l.Name, l.Dir, wd, l.Name, l.Dir)
				}
				fmt.Fprintln(cmd.OutOrStdout(), dir+string(os.PathSeparator)+"lab.yaml")
				return nil
			}
			text, _, err := labs.Lesson(l)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), text)
			return nil
		},
	}
	cmd.Flags().BoolVar(&where, "path", false, "print the lab file's path in the source checkout (the working directory's, or the one podlab was built in) instead of the lesson")
	return cmd
}
