package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestLabsRefused: the broken variants whose one mistake validation refuses are refused
// by validate and deploy with exactly one error, at the mistake's line and column
// (TestBundledLabs deploys and checks the others).
func TestLabsRefused(t *testing.T) {
	for _, tc := range []struct {
		dir, file string // the lab's directory under labs/, its lab file inside it
		prefix    string // the copy's name is uniq(prefix)
		invalid   string // the one error validate prints, after the copy's directory
	}{
		{dir: "services", file: "broken/apiversion/lab.yaml", prefix: "la-svcapi",
			invalid: `broken/apiversion/service.yaml:2:13: documents[0] (Service default/web): apiVersion: no matches for kind "Service" in version "apps/v1"`},
		{dir: "services", file: "broken/type/lab.yaml", prefix: "la-svctype",
			invalid: `broken/type/service.yaml:7:9: documents[0] (Service default/web): spec.type: unsupported value "ClusterIp"; did you mean "ClusterIP"?`},
		{dir: "services", file: "broken/ports/lab.yaml", prefix: "la-svcports",
			invalid: `broken/ports/service.yaml:11:5: documents[0] (Service default/web): spec.ports: expected a list, got a map`},
	} {
		t.Run(strings.TrimSuffix(filepath.Join(tc.dir, tc.file), "/lab.yaml"), func(t *testing.T) {
			file := copyLab(t, tc.dir, tc.file, uniq(tc.prefix))
			e := newEnv(t)
			for _, verb := range []string{"validate", "deploy"} {
				_, errs, code := e.run(verb, file)
				var errLines []string
				for _, l := range strings.Split(strings.TrimSpace(errs), "\n") {
					if !strings.HasPrefix(l, " ") {
						errLines = append(errLines, l)
					}
				}
				want := filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(file))), tc.invalid)
				if code != 2 || len(errLines) != 1 || errLines[0] != want {
					t.Errorf("%s: exit %d, want 2 and the one error\n%s\ngot:\n%s", verb, code, want, errs)
				}
			}
		})
	}
}

// copyLab copies labs/DIR to a temporary directory, renames the lab file FILE inside
// it to name (its own name: line, so two runs never share a lab) and returns its path.
func copyLab(t *testing.T, dir, file, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), dir)
	if err := os.CopyFS(dst, os.DirFS(filepath.Join("../labs", dir))); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dst, file)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "name: ") })
	if i < 0 {
		t.Fatalf("%s: no name: line", path)
	}
	lines[i] = "name: " + name
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
