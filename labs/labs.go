// Package labs holds the bundled teaching labs: every labs/**/lab.yaml with its
// manifests and lesson README.md, embedded in the binary so `podlab labs` and `podlab
// lab show` work wherever podlab is installed, without a checkout.
//
// It owns the lab directories' layout (a lab is a directory holding lab.yaml; broken
// and alternative variants are labs in subdirectories; a variant's lesson is the
// nearest README.md above it) and reads only the lab file's name: and its first comment
// line. It never validates or deploys a lab: that is topology's and deploy's work, on a
// file from the checkout or written out from Files.
package labs

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"podlab.dev/podlab/topology"
)

// bundled is the labs directory as built. `*` takes every lab directory (and this
// file); files starting with . or _ stay out, as go:embed leaves them.
//
//go:embed *
var bundled embed.FS

// Files is the embedded labs tree: "services/lab.yaml", "services/README.md", ...
func Files() fs.FS { return bundled }

// Lab is one bundled lab file.
type Lab struct {
	Name        string // the lab file's name: field
	Dir         string // its directory inside labs/, slash-separated: "services/broken/selector"
	Description string // the first sentence of the lab file's first comment paragraph, without "# NAME: "
}

// File is the lab file's path inside Files.
func (l Lab) File() string { return path.Join(l.Dir, "lab.yaml") }

// List returns every bundled lab, sorted by directory so variants follow their lab.
func List() ([]Lab, error) { return list(bundled) }

func list(fsys fs.FS) ([]Lab, error) {
	var out []Lab
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) != "lab.yaml" {
			return err
		}
		l, err := read(fsys, p)
		if err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Dir < out[j].Dir })
	return out, err
}

// read takes the name and the description from a lab file's text: the first
// top-level name: line and the first comment line.
func read(fsys fs.FS, p string) (Lab, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return Lab{}, err
	}
	defer f.Close()
	l := Lab{Dir: path.Dir(p)}
	var desc []string
	header := true // still in the first paragraph of the leading comment
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		c, comment := strings.CutPrefix(line, "#")
		// The paragraph ends at a blank comment line or an indented one (a command).
		if !comment || strings.TrimSpace(c) == "" || strings.HasPrefix(c, "  ") || strings.HasPrefix(c, "\t") {
			header = header && len(desc) == 0 && comment
		}
		if header && comment {
			desc = append(desc, strings.TrimSpace(c))
		}
		if v, ok := strings.CutPrefix(line, "name:"); ok && l.Name == "" {
			v, _, _ = strings.Cut(v, "#")
			l.Name = strings.Trim(strings.TrimSpace(v), `"'`)
		}
	}
	if l.Name == "" {
		return l, fmt.Errorf("labs/%s: no name: line", p)
	}
	// "# services: ClusterIP, ..." says its name (or directory) first: the listing has it.
	l.Description = strings.Join(desc, " ")
	for _, prefix := range []string{l.Name + ":", l.Dir + ":"} {
		if d, ok := strings.CutPrefix(l.Description, prefix); ok {
			l.Description = strings.TrimSpace(d)
		}
	}
	// One line in a listing: the paragraph's first sentence.
	if i := strings.Index(l.Description, ". "); i >= 0 {
		l.Description = l.Description[:i+1]
	}
	return l, sc.Err()
}

// Find returns the bundled lab named name (a lab file's name:, or its directory such
// as services/broken/selector); an unknown name's error suggests the closest one.
func Find(name string) (Lab, error) { return find(bundled, name) }

func find(fsys fs.FS, name string) (Lab, error) {
	all, err := list(fsys)
	if err != nil {
		return Lab{}, err
	}
	var names []string
	for _, l := range all {
		if l.Name == name || l.Dir == strings.Trim(name, "/") {
			return l, nil
		}
		names = append(names, l.Name)
	}
	msg := fmt.Sprintf("no bundled lab %q", name)
	if s := topology.Suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return Lab{}, &NotFoundError{Name: name, msg: msg}
}

// NotFoundError is Find's error for a name no bundled lab has.
type NotFoundError struct {
	Name string
	msg  string
}

func (e *NotFoundError) Error() string { return e.msg }

// Lesson returns the lab's lesson: its directory's README.md, or for a variant
// (services/broken/selector) the nearest one above it, and that file's path in Files.
func Lesson(l Lab) (text, file string, err error) { return lesson(bundled, l) }

func lesson(fsys fs.FS, l Lab) (string, string, error) {
	for dir := l.Dir; ; dir = path.Dir(dir) {
		p := path.Join(dir, "README.md")
		b, err := fs.ReadFile(fsys, p)
		if err == nil {
			return string(b), p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", err
		}
		if dir == "." {
			return "", "", fmt.Errorf("lab %s (labs/%s) has no lesson: no README.md in its directory or above", l.Name, l.Dir)
		}
	}
}

// Checkout returns the directory of the lab in a podlab source checkout, when one is
// found: above the working directory wd, else where this package was compiled from
// (a binary built in a checkout that still exists). The embedded copy is what was
// built; the checkout's may be newer.
func Checkout(l Lab, wd string) (string, bool) {
	var roots []string
	for d := wd; d != ""; d = filepath.Dir(d) {
		roots = append(roots, filepath.Join(d, "labs"))
		if filepath.Dir(d) == d {
			break
		}
	}
	if _, src, _, ok := runtime.Caller(0); ok && filepath.IsAbs(src) {
		roots = append(roots, filepath.Dir(src))
	}
	for _, r := range roots {
		dir := filepath.Join(r, filepath.FromSlash(l.Dir))
		if isLab(dir, l.Name) {
			return dir, true
		}
	}
	return "", false
}

// isLab: dir holds a lab file named name (a checkout of another project with a labs/
// directory is not ours).
func isLab(dir, name string) bool {
	got, err := read(os.DirFS(dir), "lab.yaml")
	return err == nil && got.Name == name
}
