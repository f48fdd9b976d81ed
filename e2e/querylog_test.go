package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
)

// TestDNSQueryLog: a query a pod sends with dig is in `podlab logs` of the CoreDNS pod
// that answered it (either of the two), after CoreDNS's startup lines, with the
// client pod named in -o json; it is a DNSQuery event on the client pod; -f prints the
// next one; the TUI's :dns lists it; pods without logs and unknown pods are told apart.
func TestDNSQueryLog(t *testing.T) {
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig is not installed (Debian: bind9-dnsutils; scripts/test.sh installs it)")
	}
	name := uniq("qlog")
	e := newEnv(t)
	e.deploy(name, "runtime: netns\n"+fmt.Sprintf(controllersLab, name, webContainers["netns"]))
	var coredns []string
	for _, p := range named(e.pods(name, "-n", "kube-system"), "coredns-") {
		coredns = append(coredns, p.Name)
	}
	if len(coredns) != 2 {
		t.Fatalf("coredns pods %v, want 2", coredns)
	}
	const fqdn = "web.default.svc.cluster.local."
	dig := func() string {
		t.Helper()
		out := strings.TrimSpace(e.must("exec", "--name", name, "client", "--", "dig", "+short", "+tries=1", "web.default.svc.cluster.local"))
		if out == "" {
			t.Fatal("dig +short web.default.svc.cluster.local: no answer")
		}
		return out
	}
	clusterIP := dig()

	// logs of both CoreDNS pods: one of them has the query.
	var answeredBy string
	var lines []string
	eventually(t, 5*time.Second, func() string {
		for _, pod := range coredns {
			out := e.must("logs", "--name", name, "-n", "kube-system", pod)
			if strings.Contains(out, `"A IN `+fqdn+` udp `) {
				answeredBy, lines = pod, strings.Split(strings.TrimSpace(out), "\n")
				return ""
			}
		}
		return "the query is in neither CoreDNS pod's logs"
	})
	for i, prefix := range []string{".:53", "[INFO] plugin/reload: Running configuration SHA512 = ", "CoreDNS-1.11.3", "linux/"} {
		if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("logs of %s: line %d is not %q...:\n%s", answeredBy, i+1, prefix, strings.Join(lines, "\n"))
		}
	}
	client := podIP(t, e.inspect(name), "client")
	var found bool
	for _, l := range strings.Split(strings.TrimSpace(e.must("logs", "--name", name, "-n", "kube-system", answeredBy, "-o", "json")), "\n") {
		var ll api.LogLine
		if err := json.Unmarshal([]byte(l), &ll); err != nil {
			t.Fatalf("logs -o json: %v\n%s", err, l)
		}
		if q := ll.Query; q != nil && q.Name == fqdn && q.Type == "A" && q.Rcode == "NOERROR" {
			found = true
			if !strings.HasPrefix(q.Client, client+":") || q.From != (api.ObjectRef{Kind: "Pod", Namespace: "default", Name: "client"}) {
				t.Errorf("query from %s (%+v), want the client pod at %s", q.Client, q.From, client)
			}
		}
	}
	if !found {
		t.Errorf("logs -o json of %s has no A query of %s", answeredBy, fqdn)
	}
	if out := e.must("logs", "--name", name, "-n", "kube-system", answeredBy, "--tail", "1"); strings.Count(out, "\n") != 1 {
		t.Errorf("--tail 1 printed:\n%s", out)
	}

	t.Run("event", func(t *testing.T) {
		want := "A " + fqdn + " NOERROR"
		eventually(t, 5*time.Second, func() string {
			for _, l := range strings.Split(e.must("events", "--name", name), "\n") {
				if strings.Contains(l, "DNSQuery") && strings.Contains(l, "default/client") && strings.Contains(l, want) &&
					strings.Contains(l, "-> "+clusterIP) && strings.Contains(l, "("+answeredBy+")") {
					return ""
				}
			}
			return "no DNSQuery event " + want + " on default/client"
		})
	})

	t.Run("follow", func(t *testing.T) {
		for _, pod := range coredns {
			cmd := exec.Command(podlabBin, "logs", "--name", name, "-n", "kube-system", pod, "-f", "--tail", "0")
			cmd.Env = append(os.Environ(), "PODLAB_STATE_DIR="+e.root)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			lines := make(chan string, 64)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			defer func() { cmd.Process.Kill() }()
			// Either pod may answer: ask until this one has.
			deadline := time.After(15 * time.Second)
			for seen := false; !seen; {
				dig()
				select {
				case l, ok := <-lines:
					if !ok {
						t.Fatalf("logs -f of %s ended", pod)
					}
					seen = strings.Contains(l, `"A IN `+fqdn)
				case <-time.After(300 * time.Millisecond):
				case <-deadline:
					t.Fatalf("logs -f of %s printed no query", pod)
				}
			}
		}
	})

	t.Run("tui", func(t *testing.T) {
		tt := startTUI(t, e, name)
		tt.waitFor("the pods", 5*time.Second, func(s string) bool { return strings.Contains(s, "client") })
		tt.send(true, ":dns")
		tt.send(false, "Enter")
		tt.waitFor("the query of "+fqdn+" from default/client", 5*time.Second, func(s string) bool {
			l := lineWith(s, fqdn)
			return strings.Contains(s, "[dns]") && strings.Contains(l, "default/client") && strings.Contains(l, "NOERROR") &&
				strings.Contains(l, clusterIP)
		})
	})

	t.Run("other pods and errors", func(t *testing.T) {
		// An ordinary pod's log is its servers' requests (TestPodRequestLog): none here.
		out, stderr, code := e.run("logs", "--name", name, "client")
		if code != 0 || strings.Contains(out, "IN ") {
			t.Errorf("logs of an ordinary pod: exit %d, stdout %q, stderr %q", code, out, stderr)
		}
		if _, stderr, code := e.run("logs", "--name", name, "nosuch"); code != 2 || !strings.Contains(stderr, "no pod default/nosuch") {
			t.Errorf("logs of no such pod: exit %d, %s", code, stderr)
		}
		if _, stderr, code := e.run("logs", "--name", name, coredns[0]); code != 2 || !strings.Contains(stderr, "-n kube-system") {
			t.Errorf("logs of a CoreDNS pod without -n: exit %d, %s", code, stderr)
		}
	})
}
