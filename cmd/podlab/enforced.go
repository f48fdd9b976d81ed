package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"podlab.dev/podlab/topology"
)

// printNotEnforced writes one plain line per kind a component of this version does
// not act on, naming its objects (namespace/name, or name), so that no one reads a
// kept Ingress as routing traffic. names maps kind to objects.
func printNotEnforced(w io.Writer, names map[string][]string) {
	kinds := make([]string, 0, len(names))
	for k := range names {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		note := topology.NotEnforced(k)
		if note == "" {
			note = "NOT ENFORCED: this version keeps " + k + " objects but nothing acts on them yet"
		}
		fmt.Fprintf(w, "%s: %s\n", note, strings.Join(names[k], ", "))
	}
}

// notEnforcedIn collects the objects that are not applied, by kind.
func notEnforcedIn[T any](objs []T, get func(T) (kind, ns, name string, applied bool)) map[string][]string {
	out := map[string][]string{}
	for _, o := range objs {
		kind, ns, name, applied := get(o)
		if applied {
			continue
		}
		if ns != "" {
			name = ns + "/" + name
		}
		out[kind] = append(out[kind], name)
	}
	return out
}
