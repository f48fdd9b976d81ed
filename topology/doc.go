package topology

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// doc is one decoded YAML document (the lab file, or one manifest) with its index of
// nodes by field path, so checks after decoding can still point at a line.
type doc struct {
	file  string
	label string // field prefix: "" for the lab file, "manifests[0] (Pod data/db)" for a manifest
	root  *yaml.Node
	idx   map[string]*yaml.Node
	e     *errs
}

// at is the position of path, or of its nearest written parent.
func (d *doc) at(path string) Pos {
	for {
		if n, ok := d.idx[path]; ok {
			return pos(d.file, n)
		}
		if path == "" {
			return pos(d.file, d.root)
		}
		path = parentPath(path)
	}
}

func (d *doc) has(path string) bool { _, ok := d.idx[path]; return ok }

func (d *doc) add(path, hint, format string, args ...any) {
	d.e.add(d.at(path), field(d.label, path), hint, format, args...)
}

func (d *doc) ref(path string) ref { return ref{field: field(d.label, path), pos: d.at(path)} }

// parentPath drops the last element: "a.b[0]" -> "a.b", "a.labels[x.y/z]" -> "a.labels".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// ref points at one field of the input, for errors found after decoding.
type ref struct {
	field string
	pos   Pos
}
