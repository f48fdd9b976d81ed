package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// labFileFlags adds -t/--topo (containerlab's name) and -f/--filename (kubectl's) for
// a lab file; labFile then takes the file from either or from the one positional
// argument.
func labFileFlags(cmd *cobra.Command) {
	cmd.Flags().StringP("topo", "t", "", "lab file")
	cmd.Flags().StringP("filename", "f", "", "lab file (the same as -t)")
}

// labFile returns the lab file given as -t, -f or the positional argument; more than
// one, or none, is invalid input naming what was given.
func labFile(cmd *cobra.Command, args []string, verb string) (string, error) {
	var given []string
	var file string
	for _, f := range []string{"topo", "filename"} {
		if v, _ := cmd.Flags().GetString(f); v != "" {
			given, file = append(given, "--"+f+" "+v), v
		}
	}
	for _, a := range args {
		given, file = append(given, a), a
	}
	switch len(given) {
	case 0:
		return "", invalid("%s needs a lab file: podlab %s lab.yaml (or -t lab.yaml)", verb, verb)
	case 1:
		return file, nil
	}
	return "", invalid("%s takes one lab file, got %d: %s", verb, len(given), strings.Join(given, ", "))
}
