package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// probeLab is the upstream e2e netpol model: namespaces x, y, z with pods a, b, c
// (label pod=<name>) serving TCP 80 and UDP 81, one Service per pod. The namespaces
// are quoted: YAML reads a bare y as a boolean.
func probeLab(name string) string {
	var pods, objs strings.Builder
	i := 0
	for _, ns := range []string{"x", "y", "z"} {
		fmt.Fprintf(&objs, "  - {apiVersion: v1, kind: Namespace, metadata: {name: %q}}\n", ns)
		for _, p := range []string{"a", "b", "c"} {
			i++
			fmt.Fprintf(&pods, "  - {name: %s, namespace: %q, node: worker-%d, labels: {pod: %s}, ports: [80, \"81/udp\"]}\n", p, ns, 1+i%2, p)
			fmt.Fprintf(&objs, "  - {apiVersion: v1, kind: Service, metadata: {name: s-%s, namespace: %q}, spec: {selector: {pod: %s}, ports: [{name: http, port: 80}, {name: udp, port: 81, protocol: UDP}]}}\n", p, ns, p)
		}
	}
	return fmt.Sprintf("name: %s\nnodes:\n  - {name: control-plane, role: control-plane}\n  - {name: worker-1}\n  - {name: worker-2}\npods:\n%smanifests:\n%s", name, pods.String(), objs.String())
}

// TestProbe: with no policies every probe of the 9x9 matrix connects, over TCP and
// UDP, to pods and through their Services, in well under a second; a port nothing
// serves is refused, an address nobody has times out, and SCTP is unsupported.
func TestProbe(t *testing.T) {
	e := newEnv(t)
	name := uniq("probe")
	e.deploy(name, probeLab(name))
	took := regexp.MustCompile(`81 probes in ([0-9.]+[µm]?s)`)
	for _, tc := range []struct{ port, protocol, target string }{
		{"80", "tcp", "pod"}, {"81", "udp", "pod"}, {"80", "tcp", "service"}, {"81", "udp", "service"},
	} {
		t.Run(tc.protocol+"-"+tc.target, func(t *testing.T) {
			out, errs, code := e.run("probe", "--name", name, "--matrix", "--port", tc.port, "--protocol", tc.protocol, "--target", tc.target, "-o", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			var m struct {
				From     map[string]map[string]bool `json:"from"`
				Port     int                        `json:"port"`
				Protocol string                     `json:"protocol"`
			}
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("-o json: %v\n%s", err, out)
			}
			if m.Port != map[string]int{"80": 80, "81": 81}[tc.port] || m.Protocol != strings.ToUpper(tc.protocol) {
				t.Errorf("port %d protocol %q", m.Port, m.Protocol)
			}
			cells := 0
			for from, row := range m.From {
				for to, ok := range row {
					cells++
					if !ok {
						t.Errorf("%s -> %s blocked with no policy", from, to)
					}
				}
			}
			if len(m.From) != 9 || cells != 81 {
				t.Errorf("%d rows, %d cells, want 9 and 81:\n%s", len(m.From), cells, out)
			}
			sm := took.FindStringSubmatch(errs)
			if sm == nil {
				t.Fatalf("no time reported on stderr: %q", errs)
			}
			if d, err := time.ParseDuration(sm[1]); err != nil || d > time.Second {
				t.Errorf("matrix took %s (%v), want under 1s", sm[1], err)
			}
			t.Logf("%s %s to %ss: %s", tc.protocol, tc.port, tc.target, sm[1])
		})
	}
	table := e.must("probe", "--name", name, "--matrix", "--namespaces", "x", "--port", "80")
	if !strings.Contains(table, "-   x/a x/b x/c") || !strings.Contains(table, "x/b .   .   .") {
		t.Errorf("truth table:\n%s", table)
	}
	// The supervisor's NetworkPolicy model agrees: no policy, nothing isolated.
	if out := e.must("probe", "--name", name, "--matrix", "--port", "80", "--target", "service", "--expect", "model"); !strings.Contains(out, "packets and model agree on every cell") {
		t.Errorf("--expect model:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--to", "y/b", "--port", "80"}, "allowed, answered by y/b", 0},
		{[]string{"--to", "s-c.z", "--port", "81", "--protocol", "udp"}, "allowed, answered by z/c (a backend of Service z/s-c)", 0},
		{[]string{"--to", "s-b.y.svc.cluster.local", "--port", "80"}, "answered by y/b", 0},
		{[]string{"--to", "y/b", "--port", "82"}, "refused (a TCP reset", 0},
		{[]string{"--to", "y/b", "--port", "82", "--protocol", "udp"}, "refused (ICMP port unreachable", 0},
		{[]string{"--to", "10.244.2.250", "--port", "80"}, "blocked: timed out", 0},
		{[]string{"--to", "y/b", "--port", "80", "--protocol", "sctp"}, "unsupported on this kernel", 1},
		{[]string{"--to", "y/nope", "--port", "80"}, "has no pod y/nope", 2},
	} {
		out, errs, code := e.run(append([]string{"probe", "--name", name, "--from", "x/a"}, tc.args...)...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) {
			t.Errorf("probe --from x/a %s: exit %d, %q %q; want exit %d and %q", strings.Join(tc.args, " "), code, out, errs, tc.code, tc.want)
		}
	}
}
