package tui

import (
	"bytes"
	"cmp"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/printers"
)

// kubeCols is the part of a view's table that is kubectl's columns of one kind. The
// headers and cells come from package printers, as `podlab get` prints them, so the
// two cannot disagree; the view only lays them out and adds its own columns around
// them. Some cells change with the clock (AGE, RESTARTS' "2 (5m ago)"), so the cells
// drawn are from a printers.Row made for the frame, once per visible row.
type kubeCols struct {
	at []int // printers.Row index of each column shown

	// The row of the frame being drawn: the table asks for a row's cells in turn.
	now   time.Time
	obj   runtime.Object
	cells []string
}

// newKubeCols takes kind's columns that layout names, in printers' order, laid out as
// it says; a column printers has and layout does not name is left out.
func newKubeCols(kind string, layout map[string]column) (kubeCols, []column) {
	var k kubeCols
	var cols []column
	for i, c := range printers.Columns(kind) {
		l, ok := layout[c.Name]
		if !ok {
			continue
		}
		l.title = c.Name
		cols = append(cols, l)
		k.at = append(k.at, i)
	}
	return k, cols
}

// static returns obj's cells at now, for filtering and measuring; a row without its
// object (not listed yet) reads "-".
func (k *kubeCols) static(obj runtime.Object, now time.Time) []string {
	out := make([]string, len(k.at))
	if obj == nil {
		for i := range out {
			out[i] = "-"
		}
		return out
	}
	row := printers.Row(obj, now)
	for i, at := range k.at {
		out[i] = row[at]
	}
	return out
}

// frame starts drawing a frame at now.
func (k *kubeCols) frame(now time.Time) { k.now, k.obj, k.cells = now, nil, nil }

// cell is column i of obj in the frame being drawn.
func (k *kubeCols) cell(obj runtime.Object, i int) string {
	if obj == nil {
		return "-"
	}
	if obj != k.obj || k.cells == nil {
		k.obj, k.cells = obj, printers.Row(obj, k.now)
	}
	return k.cells[k.at[i]]
}

// kubeCells are obj's cells by kubectl's header, for a details page.
func kubeCells(kind string, obj runtime.Object) map[string]string {
	row := printers.Row(obj, time.Now())
	out := make(map[string]string, len(row))
	for i, c := range printers.Columns(kind) {
		if i < len(row) {
			out[c.Name] = row[i]
		}
	}
	return out
}

// colIndex is the index of the column titled title, -1 if none is.
func colIndex(cols []column, title string) int {
	return slices.IndexFunc(cols, func(c column) bool { return c.title == title })
}

// decodedObjects are the objects of a listing with the JSON each was decoded from,
// by kind/namespace/name: an object listed again unchanged is not decoded again.
// It is never changed once built, so a fetch may read the last one while the views
// show its objects.
type decodedObjects map[string]decodedObject

type decodedObject struct {
	raw []byte
	obj store.Object
}

// decodeObjects types the stored objects of one kind, sorted by namespace then name,
// reusing the objects of prev whose JSON is the same and recording them all in next
// (either may be nil). Objects that do not decode are skipped (the supervisor
// validated them). The listing's namespace, name and creation time fill the
// object's when it lacks them.
func decodeObjects(list []*api.StoredObject, prev, next decodedObjects) []store.Object {
	out := make([]store.Object, 0, len(list))
	for _, o := range list {
		key := o.Kind + "/" + podKey(o.Namespace, o.Name)
		if d, ok := prev[key]; ok && bytes.Equal(d.raw, o.Object) {
			out = append(out, d.obj)
			if next != nil {
				next[key] = d
			}
			continue
		}
		obj, err := store.Decode(o.APIVersion, o.Kind, o.Object)
		if err != nil {
			continue
		}
		if obj.GetNamespace() == "" {
			obj.SetNamespace(o.Namespace)
		}
		if obj.GetName() == "" {
			obj.SetName(o.Name)
		}
		if ts := obj.GetCreationTimestamp(); ts.IsZero() && !o.Created.IsZero() {
			obj.SetCreationTimestamp(metav1.NewTime(o.Created))
		}
		out = append(out, obj)
		if next != nil {
			next[key] = decodedObject{o.Object, obj}
		}
	}
	slices.SortFunc(out, func(a, b store.Object) int {
		return cmp.Or(cmp.Compare(a.GetNamespace(), b.GetNamespace()), cmp.Compare(a.GetName(), b.GetName()))
	})
	return out
}
