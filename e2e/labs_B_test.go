package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// brokenFails names, for a broken variant (its path under labs/), the checks its one
// mistake must fail: no more, no fewer. A broken variant not listed here only has to
// fail somehow (validation refuses it, or podlab check exits 1).
var brokenFails = map[string][]string{
	"network-policy/broken-or":   {"monitoring/debug is blocked"},
	"network-policy/broken-dns":  {"api resolves web"},
	"ingress/broken":             {"ingress routes /api to api"},
	"services/broken/selector":   {"web spreads over both pods"},
	"services/broken/targetport": {"web answers on port 80"},
	"dns/broken":                 {"a short name uses the search path"},
}

// TestBundledLabs deploys every lab under labs/ as CI would run it: a lab's checks all
// pass (podlab check exits 0); a broken variant (a directory named broken* or *-broken
// on its path) is refused by validation or fails exactly the checks brokenFails names.
// Each lab is destroyed before the next one deploys.
func TestBundledLabs(t *testing.T) {
	labs := bundledLabs(t, "../labs")
	if len(labs) == 0 {
		t.Fatal("no lab.yaml under labs/")
	}
	for i, rel := range labs {
		t.Run(rel, func(t *testing.T) {
			runBundledLab(t, "../labs", rel, fmt.Sprintf("lab%d", i))
		})
	}
}

// bundledLabs lists the directories under root holding a lab.yaml, relative to root.
func bundledLabs(t *testing.T, root string) []string {
	t.Helper()
	var labs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "lab.yaml" {
			rel, err := filepath.Rel(root, filepath.Dir(path))
			if err != nil {
				return err
			}
			labs = append(labs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(labs)
	return labs
}

// isBroken says whether a lab directory is a broken variant.
func isBroken(rel string) bool {
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, "broken") || strings.HasSuffix(part, "-broken") {
			return true
		}
	}
	return false
}

var (
	labName   = regexp.MustCompile(`(?m)^name: *\S+ *$`)
	hasChecks = regexp.MustCompile(`(?m)^checks:`)
)

// runBundledLab copies the lab's top-level directory (variants refer to its manifests
// with ../), renames the lab so that it never meets a learner's, then validates,
// deploys, checks and destroys it.
func runBundledLab(t *testing.T, root, rel, prefix string) {
	top := strings.Split(rel, "/")[0]
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, top), os.DirFS(filepath.Join(root, top))); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, filepath.FromSlash(rel), "lab.yaml")
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), "cni: bridge") && !referencePlugins() {
		t.Skip("the reference CNI plugins are not installed (apt-get install containernetworking-plugins)")
	}
	name := uniq(prefix)
	if !labName.Match(text) {
		t.Fatalf("%s/lab.yaml: no top-level name:", rel)
	}
	renamed := labName.ReplaceAllLiteral(text, []byte("name: "+name))
	if err := os.WriteFile(file, renamed, 0o644); err != nil {
		t.Fatal(err)
	}
	broken := isBroken(rel)
	want := brokenFails[rel]
	e := newEnv(t)

	out, errs, code := e.run("validate", "-t", file)
	if code != 0 {
		if broken && want == nil && code == 2 {
			t.Logf("refused by validation, as intended:\n%s", errs)
			return
		}
		t.Fatalf("validate: exit %d\n%s%s", code, out, errs)
	}

	before := snapshotHost(t)
	t.Cleanup(func() {
		e.must("destroy", "--name", name)
		assertNothingLeft(t, e.root, name)
		assertHostUnchanged(t, before)
	})
	e.must("deploy", "-t", file)
	if !hasChecks.Match(renamed) {
		if broken {
			t.Fatal("a broken variant without checks: its mistake shows nowhere")
		}
		t.Log("no checks: deployed and destroyed only")
		return
	}
	out, errs, code = e.run("check", "--name", name, "-o", "json")
	var report struct {
		Results []struct {
			Name string `json:"name"`
			Pass bool   `json:"pass"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("check -o json: exit %d, %v\n%s%s", code, err, out, errs)
	}
	var failed []string
	for _, r := range report.Results {
		if !r.Pass {
			failed = append(failed, r.Name)
		}
	}
	switch {
	case !broken && code != 0:
		t.Errorf("check: exit %d, failed %q\n%s", code, failed, out)
	case broken && code != 1:
		t.Errorf("check of a broken variant: exit %d, want 1 (failed %q)\n%s", code, failed, out)
	case broken && want != nil && !slices.Equal(failed, want):
		t.Errorf("check of a broken variant failed %q, want exactly %q\n%s", failed, want, out)
	}
}

// referencePlugins says whether the reference bridge plugin is where cni: bridge
// looks for it.
func referencePlugins() bool {
	for _, dir := range []string{"/usr/lib/cni", "/opt/cni/bin"} {
		if _, err := os.Stat(filepath.Join(dir, "bridge")); err == nil {
			return true
		}
	}
	return false
}
