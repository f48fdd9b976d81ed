package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"podlab.dev/podlab/state"
)

// settings are the global settings from the config file and PODLAB_* variables.
type settings struct {
	StateDir string
	Runtime  string
	LogLevel string
	Parallel int
}

var cfg settings

type usageError struct{ error }

// isUsage says whether err is a misuse of the command line: a bad flag, an unknown
// command or the wrong number of arguments (cobra's own messages).
func isUsage(err error) bool {
	var u usageError
	if errors.As(err, &u) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown shorthand flag", "unknown flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

func newRoot() *cobra.Command {
	v := viper.New()
	root := &cobra.Command{
		Use:           "podlab",
		Short:         "Kubernetes-style networks from a YAML lab file, in network namespaces",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return loadSettings(v, cmd)
		},
	}
	root.PersistentFlags().String("config", "", "config file (default /etc/podlab/config.yaml, or $PODLAB_CONFIG)")
	root.PersistentFlags().String("state-dir", "", "where labs keep their state (default "+state.DefaultRoot+", or $PODLAB_STATE_DIR)")
	root.PersistentFlags().String("log-level", "", "log level: debug, info, warn, error (default info, or $PODLAB_LOG_LEVEL)")
	v.BindPFlag("state_dir", root.PersistentFlags().Lookup("state-dir"))
	v.BindPFlag("log_level", root.PersistentFlags().Lookup("log-level"))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newDeploy(), newDestroy(), newInspect(), newExec(), newEvents(), newValidate(), newVersion(), newSupervise(), newDelete(), newLabel(), newDescribe(), newApply(), newGet(), newTUI(), newImage(), newScale(), newRollout(), newDNS(), newLogs(), newProbe(), newTrace(), newLs(), newUse(), newGraph())
	root.AddCommand(newWait())
	root.AddCommand(newPortForward())
	root.AddCommand(newCreate())
	root.AddCommand(newKubeconfig())
	root.AddCommand(newConvert())
	root.AddCommand(newCheck())
	root.AddCommand(newLabs(), newLab())
	addCompletion(root)
	return root
}

// loadSettings reads /etc/podlab/config.yaml (or --config / $PODLAB_CONFIG) and
// PODLAB_* variables; flags win over both.
func loadSettings(v *viper.Viper, cmd *cobra.Command) error {
	v.SetDefault("state_dir", state.DefaultRoot)
	v.SetDefault("runtime", "netns")
	v.SetDefault("log_level", "info")
	v.SetDefault("parallel", 8)
	v.SetEnvPrefix("PODLAB")
	v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	v.AutomaticEnv()
	file, _ := cmd.Flags().GetString("config")
	if file == "" {
		file = os.Getenv("PODLAB_CONFIG")
	}
	if file != "" {
		v.SetConfigFile(file)
		if err := v.ReadInConfig(); err != nil {
			return invalid("config file %s: %v", file, err)
		}
	} else {
		v.SetConfigName("config")
		v.SetConfigType("yaml")
		v.AddConfigPath("/etc/podlab")
		if err := v.ReadInConfig(); err != nil {
			var nf viper.ConfigFileNotFoundError
			if !errors.As(err, &nf) {
				return invalid("config file: %v", err)
			}
		}
	}
	cfg = settings{StateDir: v.GetString("state_dir"), Runtime: v.GetString("runtime"), LogLevel: v.GetString("log_level"), Parallel: v.GetInt("parallel")}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return invalid("log level %q: expected debug, info, warn or error", cfg.LogLevel)
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl})))
	if cfg.Runtime != "netns" && cfg.Runtime != "docker" {
		return invalid("runtime %q in settings: expected netns or docker", cfg.Runtime)
	}
	return nil
}

// needRoot refuses early, before anything is created, when podlab cannot make
// namespaces: it needs CAP_NET_ADMIN and CAP_SYS_ADMIN (mounts, setns).
func needRoot(what string) error {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			var caps uint64
			fmt.Sscanf(strings.TrimSpace(v), "%x", &caps)
			const netAdmin, sysAdmin = 1 << 12, 1 << 21
			if caps&netAdmin != 0 && caps&sysAdmin != 0 {
				return nil
			}
		}
	}
	return fmt.Errorf("%s needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to manage network namespaces: run it with sudo", what)
}

// labName returns --name, else the current lab (PODLAB_LAB, `podlab use`), else the only deployed lab when there is exactly one.
func labName(cmd *cobra.Command) (string, error) {
	name, _ := cmd.Flags().GetString("name")
	if name != "" {
		return name, nil
	}
	if lab, err := chosenLab(); lab != "" || err != nil {
		return lab, err
	}
	labs, err := state.Labs(cfg.StateDir)
	if err != nil {
		return "", err
	}
	switch len(labs) {
	case 1:
		return labs[0], nil
	case 0:
		return "", invalid("no lab is deployed; deploy one with `podlab deploy -t FILE`")
	}
	return "", invalid("several labs are deployed (%s): say which with --name, or choose one with `podlab use LAB`", strings.Join(labs, ", "))
}
