package checks

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test ./checks -update rewrites it)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// reportResults are one of each kind, a failure with characters XML escapes among them.
var reportResults = []Result{
	{Name: "client reaches web", Kind: "reach", Pass: true, Detail: "client -> 10.96.0.20:80: allowed, answered by web-1", Took: 1200 * time.Microsecond},
	{Name: "db is closed to client", Kind: "reach", Pass: false, Detail: "client -> 10.244.1.9:5432: allowed, answered by db; expected blocked", Took: 900 * time.Microsecond},
	{Name: "web resolves", Kind: "dns", Pass: true, Detail: "web.default.svc.cluster.local: A 10.96.0.20 (1 query)", Took: 2 * time.Millisecond},
	{Name: "ingress routes <app>", Kind: "http", Pass: false, Detail: `404, pod (none); expected status 200 & pod "web-1"`, Took: 3 * time.Millisecond},
	{Name: "web spreads", Kind: "spread", Pass: true, Detail: "20 requests to 10.96.0.20:80: web-1 11, web-2 9 (all 2 ready endpoints)", Took: 25 * time.Millisecond},
	{Name: "web-1 deleted", Kind: "step", Pass: true, Detail: "delete pod/web-1; 1 check passed after 1.25s (5 rounds)", Took: 1250 * time.Millisecond},
	{Name: "web still answers", Kind: "reach", Pass: true, Detail: "client -> 10.96.0.20:80: allowed, answered by web-2", Took: 800 * time.Microsecond, Step: "web-1 deleted"},
}

func TestReportGolden(t *testing.T) {
	rep := NewReport("demo", reportResults)
	if rep.OK() || rep.Passed != 5 || rep.Failed != 2 {
		t.Errorf("report: %d passed, %d failed", rep.Passed, rep.Failed)
	}
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"table.golden", func(b *bytes.Buffer) error { return rep.WriteTable(b) }},
		{"report.json.golden", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }},
		{"junit.xml.golden", func(b *bytes.Buffer) error { return rep.WriteJUnit(b) }},
	} {
		var b bytes.Buffer
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.name, b.Bytes())
	}
}
