package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/printers"
	"podlab.dev/podlab/topology"
)

// watchOptions are get's -w, --watch-only and --output-watch-events, and what the
// rest of get resolved for the one kind watched.
type watchOptions struct {
	watch, only, events bool
	kind, namespace     string
	name                string // one object, when get was given a name
	selector            labels.Selector
	output              string // "", wide, name, json, yaml
	table               tableOptions
}

// watchObjects is kubectl get -w: the objects as a table (unless --watch-only),
// then a row for each change, its columns as wide as the table's unless a cell is
// wider, until Ctrl-C. The changes come from the supervisor's watch (api.Client.Watch).
func watchObjects(cmd *cobra.Command, c *api.Client, o watchOptions) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ns := o.namespace
	if topology.ClusterScoped(o.kind) {
		ns = ""
	}
	p := &watchPrinter{w: cmd.OutOrStdout(), o: o}
	var initial []api.WatchEvent
	listed := false
	return c.Watch(ctx, o.kind, ns, func(e api.WatchEvent) error {
		if e.Type == api.WatchBookmark {
			listed = true
			if o.only {
				return nil
			}
			n, err := p.print(initial)
			if n == 0 && err == nil && (o.output == "" || o.output == "wide") {
				fmt.Fprintln(cmd.ErrOrStderr(), noResources(o))
			}
			return err
		}
		if !listed {
			initial = append(initial, e)
			return nil
		}
		_, err := p.print([]api.WatchEvent{e})
		return err
	})
}

// noResources is kubectl's line for an empty list.
func noResources(o watchOptions) string {
	if o.namespace == "" || topology.ClusterScoped(o.kind) {
		return "No resources found"
	}
	return fmt.Sprintf("No resources found in %s namespace.", o.namespace)
}

// watchPrinter prints watch events in get's output format.
type watchPrinter struct {
	w       io.Writer
	o       watchOptions
	cols    printers.Stream
	started bool // the header is out
}

// print prints the events' objects that get's name and selector keep, and says how many.
func (p *watchPrinter) print(evs []api.WatchEvent) (int, error) {
	var objs []runtime.Object
	var types []string
	for _, e := range evs {
		if e.Object == nil {
			continue
		}
		obj, err := store.Decode(e.Object.APIVersion, e.Object.Kind, e.Object.Object)
		if err != nil {
			return 0, err
		}
		if p.o.name != "" && e.Object.Name != p.o.name {
			continue
		}
		if m, err := meta.Accessor(obj); err != nil || !p.o.selector.Matches(labels.Set(m.GetLabels())) {
			continue
		}
		objs = append(objs, obj)
		types = append(types, e.Type)
	}
	if len(objs) == 0 {
		return 0, nil
	}
	switch p.o.output {
	case "name":
		return len(objs), printNames(p.w, objs)
	case "json", "yaml":
		for i, obj := range objs {
			var v any = obj
			if p.o.events {
				v = struct {
					Type   string         `json:"type"`
					Object runtime.Object `json:"object"`
				}{types[i], obj}
			}
			if err := writeWatched(p.w, p.o.output, v); err != nil {
				return 0, err
			}
		}
		return len(objs), nil
	}
	t := objectTable(p.o.kind, objs, p.o.table, nil)
	if p.o.events {
		t[0] = append([]string{"EVENT"}, t[0]...)
		for i := range objs {
			t[i+1] = append([]string{types[i]}, t[i+1]...)
		}
	}
	if p.started {
		t = t[1:]
	}
	p.started = true
	return len(objs), p.cols.Write(p.w, t)
}

// writeWatched prints one watched object as kubectl -w -o json|yaml does: JSON
// objects one after another, YAML documents separated by ---.
func writeWatched(w io.Writer, output string, v any) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "    ")
		return enc.Encode(v)
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "---\n%s", b)
	return err
}
