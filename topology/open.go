package topology

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// readLabFile reads the lab file at path. A path that names nothing, or a directory, is
// the user's mistake (Errors, exit 2), reported with the YAML files that are there; any
// other failure (permissions, I/O) is the machine's and stays a plain error.
func readLabFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return data, nil
	}
	dir := filepath.Dir(path)
	yamls := yamlFiles(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e := &Error{Pos: Pos{File: path}, Msg: "no such lab file"}
		if s := Suggest(filepath.Base(path), yamls); s != "" {
			e.Msg += `; did you mean "` + filepath.Join(dir, s) + `"?`
			return nil, Errors{e}
		}
		e.Hint = "the path is relative to the current directory; "
		switch _, serr := os.Stat(dir); {
		case serr != nil:
			e.Hint += dir + " does not exist"
		case len(yamls) == 0:
			e.Hint += dir + " has no YAML files"
		default:
			e.Hint += "YAML files in " + dir + ": " + strings.Join(yamls, ", ")
		}
		return nil, Errors{e}
	case isDir(path):
		e := &Error{Pos: Pos{File: path}, Msg: "expected a lab file, got a directory", Hint: "name the YAML file in it"}
		if in := yamlFiles(path); len(in) > 0 {
			e.Hint += ", e.g. " + filepath.Join(path, in[0])
		}
		return nil, Errors{e}
	}
	return nil, err
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

// yamlFiles lists the .yaml and .yml files in dir, sorted; none if it cannot be read.
func yamlFiles(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var out []string
	for _, e := range ents {
		if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
