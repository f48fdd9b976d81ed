// Command podlab turns a YAML lab file into a live Kubernetes-style network on one
// Linux machine. The commands here are thin: parse flags, call a package, print.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"podlab.dev/podlab/cni"
	"podlab.dev/podlab/topology"
)

// Exit codes.
const (
	exitOK      = 0
	exitRuntime = 1
	exitInvalid = 2
)

// invalidInput marks an error caused by what the user wrote: exit 2.
type invalidInput struct{ err error }

func (e invalidInput) Error() string { return e.err.Error() }
func (e invalidInput) Unwrap() error { return e.err }

func invalid(format string, args ...any) error {
	return invalidInput{fmt.Errorf(format, args...)}
}

func main() {
	// Exec'd as a CNI plugin (CNI_PATH/podlab-bridge is a link to this binary).
	if cni.IsPluginName(filepath.Base(os.Args[0])) {
		cni.PluginMain()
		return
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "podlab: internal error: %v\nplease report this with the command you ran\n", r)
			code = exitRuntime
		}
	}()
	root := newRoot()
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var terrs topology.Errors
	var inv invalidInput
	switch {
	case errors.As(err, &terrs):
		fmt.Fprintln(os.Stderr, terrs.Error())
		return exitInvalid
	case errors.As(err, &inv):
		fmt.Fprintln(os.Stderr, "podlab:", err)
		return exitInvalid
	case isUsage(err):
		fmt.Fprintln(os.Stderr, "podlab:", err)
		return exitInvalid
	}
	fmt.Fprintln(os.Stderr, "podlab:", err)
	return exitRuntime
}
