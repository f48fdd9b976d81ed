package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/state"
)

// currentLabFile is where `podlab use` keeps the current lab: the user's config
// directory ($XDG_CONFIG_HOME/podlab/current, else ~/.config/podlab/current).
func currentLabFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "podlab", "current"), nil
}

// currentLab is the lab chosen by $PODLAB_LAB or `podlab use`, and where the choice
// came from; "" when none is chosen.
func currentLab() (lab, from string) {
	if v := strings.TrimSpace(os.Getenv("PODLAB_LAB")); v != "" {
		return v, "$PODLAB_LAB"
	}
	f, err := currentLabFile()
	if err != nil {
		return "", ""
	}
	b, err := os.ReadFile(f)
	if err != nil {
		return "", ""
	}
	if v := strings.TrimSpace(string(b)); v != "" {
		return v, f
	}
	return "", ""
}

// chosenLab is the current lab when one is chosen and still deployed; a chosen lab
// that is gone is an error that says how to pick another.
func chosenLab() (string, error) {
	lab, from := currentLab()
	if lab == "" {
		return "", nil
	}
	if state.For(cfg.StateDir, lab).Exists() {
		return lab, nil
	}
	labs, _ := state.Labs(cfg.StateDir)
	hint := "deploy it again, or pick another with `podlab use LAB`"
	if from == "$PODLAB_LAB" {
		hint = "deploy it again, or unset PODLAB_LAB"
	}
	if len(labs) > 0 {
		hint += " (deployed: " + strings.Join(labs, ", ") + ")"
	}
	return "", invalid("the current lab %q (from %s) is not deployed: %s, or say which with --name", lab, from, hint)
}

func newUse() *cobra.Command {
	var clear bool
	cmd := &cobra.Command{
		Use:   "use [LAB]",
		Short: "Set or print the current lab, which commands use when --name is not given",
		Long: "podlab use LAB makes LAB the current lab, as kubectl's `config use-context` does: commands\n" +
			"without --name act on it even when several labs are deployed. The choice is kept in\n" +
			"$XDG_CONFIG_HOME/podlab/current (~/.config/podlab/current); $PODLAB_LAB wins over it.\n" +
			"Without LAB, prints the current lab and where the choice comes from. --clear forgets it.",
		Example: "  podlab use web-lab\n  podlab use\n  PODLAB_LAB=other podlab get pods\n  podlab use --clear",
		Args:    cobra.MaximumNArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			labs, _ := state.Labs(cfg.StateDir)
			return labs, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := currentLabFile()
			if err != nil {
				return fmt.Errorf("no config directory for the current lab: %w", err)
			}
			out := cmd.OutOrStdout()
			switch {
			case clear:
				if len(args) > 0 {
					return invalid("--clear takes no lab name")
				}
				if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
				fmt.Fprintln(out, "no current lab")
				return nil
			case len(args) == 0:
				lab, from := currentLab()
				if lab == "" {
					return invalid("no current lab; choose one with `podlab use LAB`")
				}
				if _, err := chosenLab(); err != nil {
					return err
				}
				fmt.Fprintf(out, "%s (from %s)\n", lab, from)
				return nil
			}
			lab := args[0]
			if !state.For(cfg.StateDir, lab).Exists() {
				labs, _ := state.Labs(cfg.StateDir)
				if len(labs) == 0 {
					labs = []string{"none"}
				}
				return invalid("lab %q is not deployed (deployed: %s)", lab, strings.Join(labs, ", "))
			}
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(f, []byte(lab+"\n"), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(out, "current lab is now %s\n", lab)
			if env := os.Getenv("PODLAB_LAB"); env != "" && env != lab {
				fmt.Fprintf(cmd.ErrOrStderr(), "podlab: $PODLAB_LAB=%s wins over it in this shell\n", env)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&clear, "clear", false, "forget the current lab")
	return cmd
}
