package e2e

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
)

// nsPodIP is the address of pod ns/pod in st (podIP looks up a name alone).
func nsPodIP(t *testing.T, st *api.LabState, ns, pod string) string {
	t.Helper()
	for _, p := range st.Pods {
		if p.Namespace == ns && p.Name == pod {
			return p.IP.String()
		}
	}
	t.Fatalf("no pod %s/%s", ns, pod)
	return ""
}

// TestVerdictLog: a blocked probe from y/b to x/a:80 is one entry of podlab logs
// --policy with its 5-tuple; once a policy allows it, --allows shows the rule.
func TestVerdictLog(t *testing.T) {
	e := newEnv(t)
	name := uniq("vlog")
	st := e.deploy(name, traceLab(name))
	a, b := nsPodIP(t, st, "x", "a"), nsPodIP(t, st, "y", "b")
	e.must("apply", "--name", name, "-f", writeLab(t, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: "x"}
spec: {podSelector: {}, policyTypes: [Ingress]}
`))
	// find waits for an entry of logs --policy -o json (args added) that match accepts.
	find := func(what string, match func(api.VerdictEntry) bool, args ...string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			out := e.must(append([]string{"logs", "--policy", "--name", name, "-o", "json"}, args...)...)
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var v api.VerdictEntry
				if line != "" && json.Unmarshal([]byte(line), &v) == nil && match(v) {
					t.Logf("%s: %s", what, v.Message)
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s in podlab logs --policy -o json %v:\n%s", what, args, out)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	e.must("probe", "--name", name, "--from", "y/b", "--to", "x/a", "--port", "80")
	find("drop of y/b -> x/a:80", func(v api.VerdictEntry) bool {
		src, err := netip.ParseAddrPort(v.Src)
		return v.Verdict == "drop" && v.Direction == "ingress" && v.Pod == "x/a" && v.Protocol == "TCP" &&
			err == nil && src.Addr().String() == b && v.Dst == a+":80" && v.SrcPod == "y/b" &&
			strings.Join(v.Policies, ",") == "x/deny"
	})
	e.must("apply", "--name", name, "-f", writeLab(t, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-b, namespace: "x"}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}, podSelector: {matchLabels: {pod: b}}}]
`))
	e.must("probe", "--name", name, "--from", "y/b", "--to", "x/a", "--port", "80")
	find("allow of y/b -> x/a:80 by rule 0 of x/allow-b", func(v api.VerdictEntry) bool {
		return v.Verdict == "allow" && v.Pod == "x/a" && v.Policy == "x/allow-b" && v.Rule != nil && *v.Rule == 0 && v.Dst == a+":80"
	}, "--allows")
	// Without --allows, only drops.
	for _, line := range strings.Split(strings.TrimSpace(e.must("logs", "--policy", "--name", name, "-o", "json")), "\n") {
		if strings.Contains(line, `"verdict":"allow"`) {
			t.Errorf("logs --policy without --allows printed an allow: %s", line)
		}
	}
}
