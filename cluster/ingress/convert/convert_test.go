package convert

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestConvert converts each testdata/NAME.yaml Ingress and compares the manifests
// and the notes (as the CLI prints them) with testdata/NAME.golden.
func TestConvert(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var ing networkingv1.Ingress
			if err := yaml.UnmarshalStrict(src, &ing); err != nil {
				t.Fatal(err)
			}
			ports := func(ns, svc, port string) (int32, bool) { return 8080, svc == "app" && port == "http" }
			gw, routes, notes := Convert(&ing, Options{GatewayClass: "podlab", ServicePort: ports})
			objs := []any{gw}
			for _, r := range routes {
				objs = append(objs, r)
			}
			out, err := Manifests("yaml", objs...)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, n := range notes {
				b.WriteString("# " + n + "\n")
			}
			got := b.String() + string(out)
			golden := strings.TrimSuffix(in, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s differs (go test -update to accept):\n%s", golden, got)
			}
		})
	}
}

func TestManifestsJSON(t *testing.T) {
	gw, routes, _ := ToGatewayAPI(&networkingv1.Ingress{}, "podlab")
	out, err := Manifests("json", gw, routes)
	if err != nil || !strings.Contains(string(out), `"kind": "List"`) {
		t.Errorf("%s %v", out, err)
	}
	if _, err := Manifests("wide"); err == nil {
		t.Error("wide is not a format")
	}
}
