package topology

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load reads and validates the lab file at path and the manifest files it references
// (relative to its directory). Invalid input is reported as Errors.
func Load(path string) (*Lab, error) {
	data, err := readLabFile(path)
	if err != nil {
		var es Errors
		if errors.As(err, &es) {
			return nil, err
		}
		return nil, fmt.Errorf("read lab file: %w", err)
	}
	lab, err := Parse(path, data, os.ReadFile)
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(path); err == nil {
		lab.File = abs
	}
	return lab, nil
}

// Parse is Load from bytes: file names the lab file in errors and locates manifest
// files; readFile reads them (nil: manifest files cannot be read).
func Parse(file string, data []byte, readFile func(string) ([]byte, error)) (*Lab, error) {
	var e errs
	lab, files := parseLab(file, data, readFile, &e)
	sortErrors(e.list, append([]string{file}, files...))
	if err := e.err(); err != nil {
		return nil, err
	}
	return lab, nil
}

// parseLab returns the lab (meaningful only without errors) and the manifest files read.
func parseLab(file string, data []byte, readFile func(string) ([]byte, error), e *errs) (*Lab, []string) {
	docs, perr := parseYAML(file, data)
	switch {
	case perr != nil:
		e.addErr(perr)
		return nil, nil
	case len(docs) == 0:
		e.add(Pos{File: file}, "", "a lab needs at least a name and nodes, e.g.\nname: basics\nnodes:\n  - name: worker-1", "empty lab file")
		return nil, nil
	case isManifest(docs[0]):
		e.addErr(manifestAsLab(file, docs))
		return nil, nil
	case len(docs) > 1:
		e.add(pos(file, docs[1]), "", "put Kubernetes objects in a manifests file and list it under manifests:",
			"a lab file holds one YAML document, found %d", len(docs))
		return nil, nil
	}
	root := docs[0]
	if deref(root).Kind != yaml.MappingNode {
		e.add(pos(file, root), "", "a lab file is a map, e.g.\nname: basics\nnodes:\n  - name: worker-1",
			"expected a map, got %s", shape(deref(root)))
		return nil, nil
	}
	w := newWalker(file, "", e)
	w.walk(root, reflect.TypeFor[labFile](), "", 0)
	if !e.empty() {
		return nil, nil // shapes are wrong: checking values would only repeat the same mistakes
	}
	var raw labFile
	data2, err := toJSON(root)
	if err == nil {
		err = json.Unmarshal(data2, &raw)
	}
	if err != nil {
		e.add(pos(file, root), "", "", "cannot decode: %v", err)
		return nil, nil
	}
	b := &labBuilder{d: &doc{file: file, root: root, idx: w.index, e: e}, raw: &raw, lab: &Lab{File: file}, src: data}
	b.build(readFile)
	return b.lab, b.files
}

// isManifest says whether a document is a Kubernetes object (top-level apiVersion and
// kind), which a newcomer may well give where a lab file is expected.
func isManifest(n *yaml.Node) bool {
	if n = deref(n); n.Kind != yaml.MappingNode {
		return false
	}
	h := peek(n)
	return h.apiVersionNode != nil && h.kindNode != nil
}

// manifestAsLab says what the file is and the two ways to use it, instead of an
// unknown-field error for each of apiVersion, kind, metadata and spec.
func manifestAsLab(file string, docs []*yaml.Node) *Error {
	h := peek(deref(docs[0]))
	what := strings.TrimSuffix(strings.TrimPrefix(h.label(), " ("), ")")
	if len(docs) == 2 {
		what += " and 1 more object"
	} else if len(docs) > 2 {
		what += fmt.Sprintf(" and %d more objects", len(docs)-1)
	}
	if what != "" {
		what = " (" + what + ")"
	}
	return &Error{Pos: pos(file, h.kindNode), Msg: "this is a Kubernetes manifest" + what + ", not a lab file",
		Hint: "list it under manifests: in a lab file\n  name: basics\n  nodes:\n    - name: worker-1\n  manifests:\n    - " +
			filepath.Base(file) + "\nor apply it to a running lab: podlab apply -f " + file}
}

// loadManifests decodes the lab's manifests: list, file paths and inline objects alike.
func (b *labBuilder) loadManifests(readFile func(string) ([]byte, error)) {
	d := b.d
	list := d.idx["manifests"]
	if list == nil || list.Kind != yaml.SequenceNode {
		return
	}
	for i, item := range list.Content {
		path := fmt.Sprintf("manifests[%d]", i)
		item = deref(item)
		switch {
		case item.Kind == yaml.MappingNode:
			b.man.decode(d.file, path, item, d.e)
		case class(item) == classString && item.Value != "":
			name := item.Value
			if !filepath.IsAbs(name) {
				name = filepath.Join(filepath.Dir(d.file), name)
			}
			if readFile == nil {
				d.add(path, "", "cannot read manifest file %s here", name)
				continue
			}
			b.files = append(b.files, name)
			data, err := readFile(name)
			if err != nil {
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err
				}
				d.add(path, "paths are relative to the lab file's directory", "cannot read manifest file %s: %v", name, err)
				continue
			}
			docs, perr := parseYAML(name, data)
			if perr != nil {
				d.e.addErr(perr)
				continue
			}
			// The file and line already say where; the index says which object.
			for j, n := range docs {
				b.man.decode(name, fmt.Sprintf("documents[%d]", j), n, d.e)
			}
		default:
			d.add(path, "write a file path (manifests/app.yaml) or a Kubernetes object (apiVersion: v1 ...)",
				"expected a file path or an inline object, got %s", shape(item))
		}
	}
}

// sortErrors orders errors by file (first, then in order of first appearance), line
// and column, so they read top to bottom whichever check found them.
func sortErrors(list Errors, files []string) {
	rank := map[string]int{}
	for _, f := range files {
		if _, ok := rank[f]; !ok {
			rank[f] = len(rank)
		}
	}
	for _, e := range list {
		if _, ok := rank[e.File]; !ok {
			rank[e.File] = len(rank)
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.File != b.File {
			return rank[a.File] < rank[b.File]
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
