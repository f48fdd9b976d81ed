package labs

import (
	"io/fs"
	"path"
	"strings"
	"testing"
	"testing/fstest"

	"podlab.dev/podlab/topology"
)

var tree = fstest.MapFS{
	"web/lab.yaml":                 {Data: []byte("# web: one Service over two pods.\n#   sudo podlab deploy -t labs/web/lab.yaml\nname: web # the lab\nnodes: []\n")},
	"web/README.md":                {Data: []byte("# web\n")},
	"web/broken/lab.yaml":          {Data: []byte("# web/broken: a wrong\n# selector. Find it.\n#\n# not the description\nname: \"web-broken\"\n")},
	"web/broken/deeper/x/lab.yaml": {Data: []byte("name: bare\n# not a description\n")},
	"lonely/lab.yaml":              {Data: []byte("# no name line\n")},
}

func TestList(t *testing.T) {
	fsys := fstest.MapFS{}
	for k, v := range tree {
		if !strings.HasPrefix(k, "lonely/") {
			fsys[k] = v
		}
	}
	got, err := list(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []Lab{
		{Name: "web", Dir: "web", Description: "one Service over two pods."},
		{Name: "web-broken", Dir: "web/broken", Description: "a wrong selector."},
		{Name: "bare", Dir: "web/broken/deeper/x"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lab %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	if _, err := list(tree); err == nil || !strings.Contains(err.Error(), "labs/lonely/lab.yaml: no name: line") {
		t.Errorf("a lab file without name: %v", err)
	}
}

func TestFindAndLesson(t *testing.T) {
	fsys := fstest.MapFS{}
	for k, v := range tree {
		if !strings.HasPrefix(k, "lonely/") {
			fsys[k] = v
		}
	}
	tests := []struct {
		name, wantDir, wantLesson, wantErr string
	}{
		{name: "web", wantDir: "web", wantLesson: "web/README.md"},
		{name: "web-broken", wantDir: "web/broken", wantLesson: "web/README.md"},  // a variant's lesson is its lab's
		{name: "web/broken/", wantDir: "web/broken", wantLesson: "web/README.md"}, // by directory
		{name: "bare", wantDir: "web/broken/deeper/x", wantLesson: "web/README.md"},
		{name: "wbe", wantErr: `no bundled lab "wbe"; did you mean "web"?`},
		{name: "kube-proxy", wantErr: `no bundled lab "kube-proxy"`},
	}
	for _, tt := range tests {
		l, err := find(fsys, tt.name)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("%s: error %v, want %q", tt.name, err, tt.wantErr)
			}
			continue
		}
		if err != nil || l.Dir != tt.wantDir {
			t.Errorf("%s: %+v, %v", tt.name, l, err)
			continue
		}
		if _, file, err := lesson(fsys, l); err != nil || file != tt.wantLesson {
			t.Errorf("%s: lesson %s, %v", tt.name, file, err)
		}
	}
	if _, _, err := lesson(fstest.MapFS{"a/lab.yaml": {Data: []byte("name: a\n")}}, Lab{Name: "a", Dir: "a"}); err == nil {
		t.Error("a lab without any README.md has a lesson")
	}
}

// TestBundled: every bundled lab has a description and a lesson, and validates, except
// the variants under a broken/ directory that are there to be refused.
func TestBundled(t *testing.T) {
	all, err := List()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no bundled labs")
	}
	seen := map[string]string{}
	for _, l := range all {
		if other, ok := seen[l.Name]; ok {
			t.Errorf("labs/%s and labs/%s are both named %s", l.Dir, other, l.Name)
		}
		seen[l.Name] = l.Dir
		if l.Description == "" {
			t.Errorf("labs/%s: no description: its first line should be a comment # %s: ...", l.File(), l.Name)
		}
		if _, _, err := Lesson(l); err != nil {
			t.Error(err)
		}
		data, err := fs.ReadFile(Files(), l.File())
		if err != nil {
			t.Fatal(err)
		}
		_, err = topology.Parse(l.File(), data, func(p string) ([]byte, error) { return fs.ReadFile(Files(), path.Clean(p)) })
		if err != nil && !strings.Contains("/"+l.Dir+"/", "/broken/") {
			t.Errorf("labs/%s does not validate:\n%v", l.File(), err)
		}
	}
}
