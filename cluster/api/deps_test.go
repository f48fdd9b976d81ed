package api_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
)

// clientSide are the packages the TUI, `podlab validate` and lab checks are built
// from. They talk to a supervisor and read lab files; they never program the
// kernel or Docker, so they must link none of what does.
var clientSide = []string{
	"podlab.dev/podlab/tui",
	"podlab.dev/podlab/cluster/api",
	"podlab.dev/podlab/topology",
	"podlab.dev/podlab/plan",
	"podlab.dev/podlab/cluster/services",
	"podlab.dev/podlab/printers",
}

// kernelSide are the modules of netlink, nftables, CNI and Docker: the runtime's and
// the supervisor's, never the client side's.
var kernelSide = []string{
	"github.com/vishvananda/netlink",
	"sigs.k8s.io/knftables",
	"github.com/containernetworking",
	"github.com/moby/moby",
	"github.com/docker",
}

func TestClientSideLinksNoKernelCode(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	// Each line: a package, then what it imports, so that a failure can say how
	// a kernel package got in.
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}"}, clientSide...)
	cmd := exec.Command(goBin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr.String())
	}
	imports := map[string][]string{}
	var order []string
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		imports[f[0]] = f[1:]
		order = append(order, f[0])
	}
	for _, root := range clientSide {
		if _, ok := imports[root]; !ok {
			t.Errorf("go list -deps did not list %s", root)
		}
	}
	for _, pkg := range order {
		for _, bad := range kernelSide {
			if strings.Contains(pkg, bad) {
				t.Errorf("the client side links %s (%s): %s", pkg, bad, strings.Join(importChain(imports, pkg), " -> "))
			}
		}
	}
}

// importChain is a shortest import path from one of the clientSide packages to pkg.
func importChain(imports map[string][]string, pkg string) []string {
	from := map[string]string{}
	queue := []string{}
	for _, root := range clientSide {
		if _, seen := from[root]; !seen {
			from[root] = ""
			queue = append(queue, root)
		}
	}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == pkg {
			var chain []string
			for ; p != ""; p = from[p] {
				chain = append([]string{p}, chain...)
			}
			return chain
		}
		for _, q := range imports[p] {
			if _, seen := from[q]; !seen {
				from[q] = p
				queue = append(queue, q)
			}
		}
	}
	return []string{pkg}
}
