package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/runtime/netns"
)

// netpolLab is the upstream e2e netpol model: namespaces x, y, z with pods a, b, c
// (label pod=<name>) serving HTTP on 80 (named serve-80-tcp) and UDP on 81, and one
// Service per pod (s-a, s-b, s-c) on 80.
func netpolLab(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nnodes:\n  - {name: control-plane, role: control-plane}\n  - {name: worker-1}\n  - {name: worker-2}\nmanifests:\n", name)
	for _, ns := range []string{"x", "y", "z"} {
		fmt.Fprintf(&b, "  - {apiVersion: v1, kind: Namespace, metadata: {name: %q}}\n", ns)
		for _, p := range []string{"a", "b", "c"} {
			fmt.Fprintf(&b, `  - apiVersion: v1
    kind: Pod
    metadata: {name: %[2]s, namespace: %[1]q, labels: {pod: %[2]s}}
    spec:
      containers:
        - name: c
          image: podlab/pod
          ports: [{name: serve-80-tcp, containerPort: 80}, {name: serve-81-udp, containerPort: 81, protocol: UDP}]
  - apiVersion: v1
    kind: Service
    metadata: {name: s-%[2]s, namespace: %[1]q}
    spec: {selector: {pod: %[2]s}, ports: [{name: http, port: 80}]}
`, ns, p)
		}
	}
	return b.String()
}

// reach probes every pod from every pod with real packets (TCP to port 80, or to the
// target's Service ClusterIP; or UDP to 81), all at once with short deadlines, and
// returns "from>to" -> answered.
func reach(t *testing.T, st *api.LabState, proto string, svcIP map[string]string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, src := range st.Pods {
		for _, dst := range st.Pods {
			wg.Go(func() {
				addr := net.JoinHostPort(dst.IP.String(), "80")
				if svcIP != nil {
					addr = net.JoinHostPort(svcIP[dst.Namespace+"/"+dst.Name], "80")
				}
				network := "tcp"
				if proto == "udp" {
					network, addr = "udp", net.JoinHostPort(dst.IP.String(), "81")
				}
				ok := false
				for try := 0; try < 2 && !ok; try++ { // a lost first packet is not a verdict
					ok = answers(src.Netns, network, addr)
				}
				mu.Lock()
				out[src.Namespace+"/"+src.Name+">"+dst.Namespace+"/"+dst.Name] = ok
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	return out
}

// answers says whether addr answers from inside namespace ns within 600 ms.
func answers(ns, network, addr string) bool {
	var c net.Conn
	err := nsutil.Do(netns.Path(ns), func() (err error) {
		c, err = net.DialTimeout(network, addr, 600*time.Millisecond)
		return err
	})
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(600 * time.Millisecond))
	if network == "udp" {
		c.Write([]byte("hostname"))
	} else {
		fmt.Fprintf(c, "GET /hostname HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	}
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	return n > 0
}

// probeMatrix runs podlab probe --matrix ARGS --expect model -o json and returns the
// packets' table and the model's.
func (e *env) probeMatrix(lab string, args ...string) (packets, model map[string]map[string]bool) {
	e.t.Helper()
	var m struct {
		From, Expected map[string]map[string]bool
	}
	out := e.must(append(append([]string{"probe", "--name", lab, "--matrix"}, args...), "--expect", "model", "-o", "json")...)
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		e.t.Fatalf("probe -o json: %v\n%s", err, out)
	}
	return m.From, m.Expected
}

// flatten turns probe's {"from": {"NS/POD": {"NS/POD": bool}}} into reach's form.
func flatten(m map[string]map[string]bool) map[string]bool {
	out := map[string]bool{}
	for from, row := range m {
		for to, ok := range row {
			out[from+">"+to] = ok
		}
	}
	return out
}

// expectTable compares got with want(from, to) and prints both as truth tables.
func expectTable(t *testing.T, scenario string, got map[string]bool, want func(from, to string) bool) {
	t.Helper()
	var pods []string
	seen := map[string]bool{}
	for k := range got {
		from, _, _ := strings.Cut(k, ">")
		if !seen[from] {
			seen[from] = true
			pods = append(pods, from)
		}
	}
	sort.Strings(pods)
	var g, w strings.Builder
	bad := 0
	for _, from := range pods {
		fmt.Fprintf(&g, "%-4s", from)
		fmt.Fprintf(&w, "%-4s", from)
		for _, to := range pods {
			cell := func(b bool) string {
				if b {
					return " ."
				}
				return " X"
			}
			g.WriteString(cell(got[from+">"+to]))
			w.WriteString(cell(want(from, to)))
			if got[from+">"+to] != want(from, to) {
				bad++
			}
		}
		g.WriteByte('\n')
		w.WriteByte('\n')
	}
	if bad > 0 {
		t.Errorf("%s: %d cells differ\ngot:\n%swant:\n%s", scenario, bad, g.String(), w.String())
	}
}

func TestNetworkPolicy(t *testing.T) {
	e := newEnv(t)
	name := uniq("np")
	st := e.deploy(name, netpolLab(name))
	svcIP := map[string]string{}
	for _, ns := range []string{"x", "y", "z"} {
		for _, p := range []string{"a", "b", "c"} {
			var svc struct {
				Spec struct {
					ClusterIP string `json:"clusterIP"`
				} `json:"spec"`
			}
			e.object(name, &svc, "-n", ns, "svc", "s-"+p)
			svcIP[ns+"/"+p] = svc.Spec.ClusterIP
		}
	}
	nsOf := func(p string) string { ns, _, _ := strings.Cut(p, "/"); return ns }
	apply := func(yaml string) { e.must("apply", "--name", name, "-f", writeLab(t, yaml)) }
	del := func(ns, policy string) { e.must("delete", "--name", name, "-n", ns, "networkpolicy", policy) }
	all := func(from, to string) bool { return true }

	start := time.Now()
	expectTable(t, "no policy, TCP", reach(t, st, "tcp", nil), all)
	t.Logf("a 9x9 matrix with everything allowed: %v", time.Since(start).Round(time.Millisecond))

	// Default deny ingress in x: nothing reaches x's pods but themselves.
	apply("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: x}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n")
	denyX := func(from, to string) bool { return nsOf(to) != "x" || from == to }
	start = time.Now()
	expectTable(t, "deny ingress in x, TCP", reach(t, st, "tcp", nil), denyX)
	t.Logf("a 9x9 matrix with x denied: %v", time.Since(start).Round(time.Millisecond))
	expectTable(t, "deny ingress in x, UDP", reach(t, st, "udp", nil), denyX)
	// Judged on the post-DNAT packet: through each pod's Service, the same table.
	// (A pod through its own Service is hairpinned, masqueraded to its node: allowed.)
	expectTable(t, "deny ingress in x, through Services", reach(t, st, "tcp", svcIP), denyX)

	// Plus: x/a from namespace y AND pod=b (one peer entry: AND).
	apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-yb, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}
          podSelector: {matchLabels: {pod: b}}
`)
	and := func(from, to string) bool { return denyX(from, to) || to == "x/a" && from == "y/b" }
	expectTable(t, "x/a from y AND pod=b", reach(t, st, "tcp", nil), and)
	// podlab probe's matrix, with the model's table beside the packets', agrees.
	for _, target := range []string{"pod", "service"} {
		packets, model := e.probeMatrix(name, "--port", "80", "--target", target)
		if len(packets) != 9 || !reflect.DeepEqual(packets, model) {
			t.Errorf("probe --matrix --target %s --expect model: packets %v, model %v", target, packets, model)
		}
		expectTable(t, "probe --matrix --target "+target, flatten(packets), and)
	}

	// The same with two entries: y's pods OR pod=b of x.
	apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: a-from-yb, namespace: x}
spec:
  podSelector: {matchLabels: {pod: a}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: "y"}}
        - podSelector: {matchLabels: {pod: b}}
`)
	or := func(from, to string) bool {
		return denyX(from, to) || to == "x/a" && (nsOf(from) == "y" || from == "x/b")
	}
	expectTable(t, "x/a from y OR x/pod=b", reach(t, st, "tcp", nil), or)

	// A namespace labelled afterwards is selected at once.
	apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-team, namespace: x}
spec:
  podSelector: {matchLabels: {pod: c}}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: blue}}}], ports: [{port: serve-80-tcp}]}]
`)
	expectTable(t, "x/c from team=blue (none yet)", reach(t, st, "tcp", nil), or)
	e.must("label", "--name", name, "namespace", "z", "team=blue")
	team := func(from, to string) bool { return or(from, to) || to == "x/c" && nsOf(from) == "z" }
	expectTable(t, "z labelled team=blue", reach(t, st, "tcp", nil), team)

	// Egress: y may talk only to DNS (and itself).
	apply(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns-only, namespace: "y"}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]
      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
`)
	egress := func(from, to string) bool { return team(from, to) && (nsOf(from) != "y" || from == to) }
	expectTable(t, "y egress to DNS only", reach(t, st, "tcp", nil), egress)
	if out, errs, code := e.run("exec", "--name", name, "-n", "y", "a", "--", "getent", "hosts", "s-a.x"); code != 0 || !strings.Contains(out, svcIP["x/a"]) {
		t.Errorf("y/a resolving a name with egress to DNS only: exit %d %s%s", code, out, errs)
	}

	// Deleting the policies opens everything again.
	for _, p := range [][2]string{{"x", "deny"}, {"x", "a-from-yb"}, {"x", "from-team"}, {"y", "dns-only"}} {
		del(p[0], p[1])
	}
	expectTable(t, "policies deleted", reach(t, st, "tcp", nil), all)
}
