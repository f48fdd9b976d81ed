package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// traceLab: namespaces x and y over two nodes; x/a with a Service s-a, x/b and y/b.
func traceLab(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nnodes:\n  - {name: control-plane, role: control-plane}\n  - {name: worker-1}\nmanifests:\n", name)
	for _, ns := range []string{"x", "y"} {
		fmt.Fprintf(&b, "  - {apiVersion: v1, kind: Namespace, metadata: {name: %q}}\n", ns)
	}
	for _, p := range []string{"x/a", "x/b", "y/b"} {
		ns, pod, _ := strings.Cut(p, "/")
		fmt.Fprintf(&b, `  - apiVersion: v1
    kind: Pod
    metadata: {name: %[2]s, namespace: %[1]q, labels: {pod: %[2]s}}
    spec: {containers: [{name: c, image: podlab/pod, ports: [{containerPort: 80}]}]}
`, ns, pod)
	}
	b.WriteString("  - {apiVersion: v1, kind: Service, metadata: {name: s-a, namespace: x}, spec: {selector: {pod: a}, ports: [{port: 80}]}}\n")
	return b.String()
}

// TestTrace: podlab trace names the policy that blocks a flow and the rule that allows
// another, sends real packets whose counters move, and the drops become PolicyDrop
// events and `podlab logs --policy` lines.
func TestTrace(t *testing.T) {
	e := newEnv(t)
	name := uniq("trace")
	e.deploy(name, traceLab(name))
	e.must("apply", "--name", name, "-f", writeLab(t, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: x}
spec: {podSelector: {}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-b, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}, podSelector: {matchLabels: {pod: b}}}]
`))

	type reply struct {
		Verdict struct {
			Service string `json:"service"`
			Targets []struct {
				To      string `json:"to"`
				Allowed bool   `json:"allowed"`
				Ingress struct {
					Policies []string `json:"policies"`
					Policy   string   `json:"policy"`
					Rule     int      `json:"rule"`
				} `json:"ingress"`
				Reason string `json:"reason"`
			} `json:"targets"`
		} `json:"verdict"`
		Packet struct {
			Allowed bool `json:"allowed"`
		} `json:"packet"`
		Counters []struct {
			Node, Counter string
			Packets       uint64
		} `json:"counters"`
		Agrees bool `json:"agrees"`
	}
	trace := func(from, to string) (reply, string) {
		out := e.must("trace", "--name", name, "--from", from, "--to", to, "--port", "80", "-o", "json")
		var r reply
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("trace -o json: %v\n%s", err, out)
		}
		return r, out
	}
	moved := func(r reply, counter string) bool {
		for _, c := range r.Counters {
			if c.Counter == counter && c.Packets > 0 {
				return true
			}
		}
		return false
	}

	// Blocked: x/b to x/a, the default deny of both policies isolating x/a.
	r, out := trace("x/b", "x/a")
	if len(r.Verdict.Targets) != 1 || r.Verdict.Targets[0].Allowed || r.Packet.Allowed || !r.Agrees {
		t.Fatalf("x/b -> x/a: want blocked by the model and the packet\n%s", out)
	}
	if got := strings.Join(r.Verdict.Targets[0].Ingress.Policies, ","); got != "x/allow-b,x/deny" || !strings.Contains(r.Verdict.Targets[0].Reason, "default deny") {
		t.Errorf("x/b -> x/a: isolating policies %q, reason %q", got, r.Verdict.Targets[0].Reason)
	}
	if !moved(r, "drop/ingress/x/a") {
		t.Errorf("x/b -> x/a: drop/ingress/x/a did not move\n%s", out)
	}

	// Allowed, through the Service: judged at x/a after DNAT, by allow-b rule 0.
	r, out = trace("y/b", "s-a.x")
	if r.Verdict.Service != "x/s-a" || len(r.Verdict.Targets) != 1 || !r.Verdict.Targets[0].Allowed || !r.Packet.Allowed || !r.Agrees {
		t.Fatalf("y/b -> s-a.x: want allowed by the model and the packet\n%s", out)
	}
	if in := r.Verdict.Targets[0].Ingress; in.Policy != "x/allow-b" || in.Rule != 0 {
		t.Errorf("y/b -> s-a.x: allowed by %s rule %d, want x/allow-b rule 0", in.Policy, in.Rule)
	}
	if !moved(r, "allow/ingress/x/allow-b/0") {
		t.Errorf("y/b -> s-a.x: allow/ingress/x/allow-b/0 did not move\n%s", out)
	}
	text := e.must("trace", "--name", name, "--from", "x/b", "--to", "x/a", "--port", "80")
	t.Logf("podlab trace --from x/b --to x/a --port 80:\n%s", text)
	for _, want := range []string{"default deny", "x/deny", "drop/ingress/x/a"} {
		if !strings.Contains(text, want) {
			t.Errorf("trace text lacks %q:\n%s", want, text)
		}
	}

	// The drops are lab events, within the poll interval, and the verdict log.
	deadline := time.Now().Add(5 * time.Second)
	for {
		logs := e.must("logs", "--policy", "--name", name)
		if strings.Contains(logs, "drop ingress x/a: TCP") && strings.Contains(logs, "default deny of x/allow-b, x/deny") {
			t.Logf("podlab logs --policy:\n%s", logs)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PolicyDrop for x/a in podlab logs --policy:\n%s\nevents:\n%s", logs, e.must("events", "--name", name))
		}
		time.Sleep(300 * time.Millisecond)
	}
}
