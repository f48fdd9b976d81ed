package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command a user can run shows examples in its --help, as kubectl's do: the
// quickest way to learn a command is a line that works. cobra's own help and
// completion commands, added at Execute, are not walked.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && !c.Hidden {
			switch {
			case strings.TrimSpace(c.Example) == "":
				t.Errorf("%s: no Example in its --help", c.CommandPath())
			case !strings.Contains(c.Example, c.CommandPath()):
				t.Errorf("%s: no example runs it:\n%s", c.CommandPath(), c.Example)
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRoot())
}
