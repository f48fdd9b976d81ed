package tui

import "strings"

// Commands are the `:` command lines, one per view and then the picker and quit, in
// the order the help lists them; `podlab tui --help`, the help screen and the
// unknown-command hint all print this list, so none of them can miss a view.
var Commands = []string{":pods", ":nodes", ":svc", ":deploy", ":ep", ":topo", ":events", ":dns", ":netpol", ":ingress", ":labs", ":q"}

// CommandList is Commands on one line.
func CommandList() string { return strings.Join(Commands, " ") }

// Keys are the list views' keys in one line, for `podlab tui --help`; the ? help
// (helpLines) says the same at length.
const Keys = "/ filter, enter details, y YAML, l logs, s shell, ctrl-d delete (asks y/n;\n" +
	"d: a pod), e labels, E the selected object's events (esc: all), shift-N/A/S/R/T/I/O/P\n" +
	"sort by name, age, status, ready, restarts or type, IP, node, namespace (again\n" +
	"inverts), ? help, q quit"
