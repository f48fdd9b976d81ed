package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/checks"
	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/netprobe"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/topology"
)

func newCheck() *cobra.Command {
	var file, junit, output, run string
	cmd := &cobra.Command{
		Use:   "check [--name LAB] [-f FILE] [--junit FILE] [-o table|json] [--run REGEX]",
		Short: "Run a lab's self-checks (checks: in its lab file) with real packets; exit 0 when all pass",
		Example: `  sudo podlab check
  sudo podlab check --name basics --run 'dns|web' -o json
  sudo podlab check -f checks.yaml --junit results.xml`,
		Long: "Runs the checks: of the deployed lab's own lab file (or of -f FILE, a file with only a\n" +
			"checks: list) against the live lab: probes, DNS queries and HTTP requests sent from\n" +
			"inside the source pod's or host's network namespace. Independent checks run in\n" +
			"parallel; then each step, in file order, does its action (delete a pod, scale, apply\n" +
			"or delete a manifest, label a pod, break a pod's readiness) and retries its checks\n" +
			"until they pass or its within: runs out.\n\n" +
			"Prints NAME, KIND, RESULT (pass or FAIL), DETAIL (what was seen, and what was\n" +
			"expected when it differs) and TIME per check; -o json prints the same as JSON;\n" +
			"--junit FILE also writes JUnit XML for CI (one testsuite, a testcase per check).\n" +
			"--run keeps the checks whose name matches the regular expression.\n" +
			"Exit 0 when every check passed, 1 when any failed, 2 for invalid checks or flags.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return invalid("output format %q: expected table or json", output)
			}
			var match *regexp.Regexp
			if run != "" {
				var err error
				if match, err = regexp.Compile(run); err != nil {
					return invalid("--run %q: %v", run, err)
				}
			}
			c, lab, err := client(cmd)
			if err != nil {
				return err
			}
			if err := needRoot("podlab check"); err != nil {
				return err
			}
			list, err := loadChecks(cmd.Context(), c, lab, file)
			if err != nil {
				return err
			}
			if match != nil {
				if list = checks.Filter(list, match.MatchString); len(list) == 0 {
					return invalid("--run %q matches no check's name", run)
				}
			}
			r := &checks.Runner{Client: c, Dial: func(ns string) netprobe.Dial { return dialIn(netns.Path(ns)) }}
			rep := checks.NewReport(lab, r.Run(cmd.Context(), list))
			if junit != "" {
				if err := writeJUnit(junit, rep); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				err = rep.WriteJSON(w)
			} else {
				err = rep.WriteTable(w)
			}
			if err != nil {
				return err
			}
			if !rep.OK() {
				return fmt.Errorf("%d of %d checks failed", rep.Failed, len(rep.Results))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.String("name", "", "lab name (default: the only deployed lab)")
	f.StringVarP(&file, "filename", "f", "", "a file with a checks: list to run instead of the lab file's")
	f.StringVar(&junit, "junit", "", "also write the results as JUnit XML to this file")
	f.StringVarP(&output, "output", "o", "table", "table|json")
	f.StringVar(&run, "run", "", "run only the checks whose name matches this regular expression")
	return cmd
}

// loadChecks reads the checks of the lab's own lab file, or of file checked against
// the live lab's names.
func loadChecks(ctx context.Context, c *api.Client, lab, file string) ([]topology.Check, error) {
	st, err := c.State(ctx)
	if err != nil {
		return nil, err
	}
	if file == "" {
		if st.File == "" {
			return nil, invalid("lab %s does not say which lab file it was deployed from: give the checks with -f FILE", lab)
		}
		l, err := topology.Load(st.File)
		if err != nil {
			return nil, err
		}
		if len(l.Checks) == 0 {
			return nil, invalid("lab file %s has no checks: add a checks: list (see the README's lab file reference), or give one with -f FILE", st.File)
		}
		return l.Checks, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, invalid("checks file: %v", err)
	}
	names := topology.NewCheckNames()
	for _, p := range st.Pods {
		names.Pods[p.Namespace+"/"+p.Name] = true
		names.Namespaces[p.Namespace] = true
	}
	for _, h := range st.Hosts {
		names.Hosts[h.Name] = true
	}
	for _, n := range st.Nodes {
		names.Nodes[n.Name] = true
	}
	objs, err := c.Objects(ctx, "", "")
	if err != nil {
		return nil, err
	}
	for _, o := range objs {
		names.AddObject(o.Kind, o.Namespace, o.Name)
	}
	list, err := topology.ParseChecks(file, data, names, os.ReadFile)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, invalid("%s has no checks", file)
	}
	return list, nil
}

func writeJUnit(file string, rep *checks.Report) error {
	f, err := os.Create(file)
	if err != nil {
		return invalid("--junit: %v", err)
	}
	err = rep.WriteJUnit(f)
	return errors.Join(err, f.Close())
}
