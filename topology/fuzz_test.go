package topology

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse checks that no input makes Parse or LoadManifests panic, and that every
// failure is reported as Errors (exit code 2), never as something else.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"../labs/basics/lab.yaml", "testdata/lab/lab.yaml"} {
		lab, _ := os.ReadFile(name)
		man, _ := os.ReadFile("testdata/lab/manifests/web.yaml")
		f.Add(lab, man)
	}
	f.Add([]byte("name: a\nnodes: [{name: n}]\npods: [{name: p, ports: [80, \"81/udp\", {a: 1}]}]\nmanifests: [m.yaml]\n"),
		[]byte("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: {port: 80}}\n"))
	f.Add([]byte("a: &a [*a]\n"), []byte("x: &x {<<: *x}\n"))
	f.Fuzz(func(t *testing.T, lab, manifest []byte) {
		read := func(name string) ([]byte, error) { return manifest, nil }
		l, err := Parse("lab.yaml", lab, read)
		if err != nil && !errors.As(err, &Errors{}) {
			t.Fatalf("Parse: not Errors: %v", err)
		}
		if err == nil && l == nil {
			t.Fatal("Parse: nil lab without error")
		}
		if err != nil {
			_ = err.Error()
		}
		_, _, err = LoadManifests("m.yaml", manifest)
		if err != nil && !errors.As(err, &Errors{}) {
			t.Fatalf("LoadManifests: not Errors: %v", err)
		}
	})
}
