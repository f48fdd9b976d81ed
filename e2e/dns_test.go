package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/resolver"
)

// customDNS is a pod with its own resolver settings (dnsPolicy None).
const customDNS = `apiVersion: v1
kind: Pod
metadata: {name: custom}
spec:
  dnsPolicy: None
  dnsConfig: {nameservers: [10.96.0.10], searches: [svc.cluster.local], options: [{name: ndots, value: "1"}]}
  containers: [{name: c, image: registry.k8s.io/e2e-test-images/agnhost:2.53, args: [pause]}]
`

// TestDNSFromPods: pods get kubelet's resolv.conf (a controller's pod too, through
// exec), and `podlab dns` resolves as their resolver does, one query per search-path
// name, against the lab's cluster DNS.
func TestDNSFromPods(t *testing.T) {
	name := uniq("dns")
	e := newEnv(t)
	e.deploy(name, "runtime: netns\n"+fmt.Sprintf(controllersLab, name, webContainers["netns"]))
	e.must("apply", "--name", name, "-f", writeLab(t, customDNS))
	var svc corev1.Service
	e.object(name, &svc, "svc", "web")

	t.Run("exec finds a pod a controller made and writes its resolv.conf", func(t *testing.T) {
		before := map[string]bool{}
		for _, p := range named(e.pods(name), "web-") {
			before[p.Name] = true
		}
		e.must("scale", "--name", name, "deployment/web", fmt.Sprintf("--replicas=%d", len(before)+1))
		var newest string
		eventually(t, 10*time.Second, func() string {
			for _, p := range named(e.pods(name), "web-") {
				if !before[p.Name] && ready(p) {
					newest = p.Name
					return ""
				}
			}
			return "no new web pod ready"
		})
		got := e.must("exec", "--name", name, newest, "--", "cat", "/etc/resolv.conf")
		want := "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n"
		if got != want {
			t.Errorf("%s's resolv.conf:\n%s\nwant:\n%s", newest, got, want)
		}
		if got := e.must("exec", "--name", name, "custom", "--", "cat", "/etc/resolv.conf"); got != "search svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:1\n" {
			t.Errorf("dnsPolicy None's resolv.conf:\n%s", got)
		}
	})

	search := func(t *testing.T, wantCode int, args ...string) resolver.Result {
		t.Helper()
		out, stderr, code := e.run(append([]string{"dns", "--name", name, "-o", "json"}, args...)...)
		if code != wantCode {
			t.Fatalf("podlab dns %v: exit %d, want %d\n%s%s", args, code, wantCode, out, stderr)
		}
		var res resolver.Result
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("dns -o json: %v\n%s", err, out)
		}
		return res
	}
	queries := func(res resolver.Result) string {
		var qs []string
		for _, a := range res.Attempts {
			qs = append(qs, a.Name+" "+a.Rcode)
		}
		return strings.Join(qs, ", ")
	}

	t.Run("a Service's short name: the first search domain", func(t *testing.T) {
		res := search(t, 0, "--from", "client", "web")
		if !res.Resolved || queries(res) != "web.default.svc.cluster.local. NOERROR" || len(res.Answer) != 1 || !strings.HasSuffix(res.Answer[0], "\t"+svc.Spec.ClusterIP) {
			t.Errorf("%+v, want web.default.svc.cluster.local. A %s", res, svc.Spec.ClusterIP)
		}
	})
	t.Run("ndots:5: a name outside the cluster walks the search list first", func(t *testing.T) {
		out, _, code := e.run("dns", "--name", name, "--from", "client", "example.com")
		for _, line := range []string{"example.com.default.svc.cluster.local.  A     10.96.0.10:53  NXDOMAIN", "example.com.svc.cluster.local.", "example.com.cluster.local.", "\nexample.com.  "} {
			if !strings.Contains(out, line) {
				t.Errorf("no %q in\n%s", line, out)
			}
		}
		if code > 1 {
			t.Errorf("exit %d", code)
		}
	})
	t.Run("dnsConfig ndots:1: a dotted name as it is first", func(t *testing.T) {
		res := search(t, 0, "--from", "custom", "web.default")
		if q := queries(res); q != "web.default. SERVFAIL, web.default. SERVFAIL, web.default.svc.cluster.local. NOERROR" && q != "web.default. NXDOMAIN, web.default.svc.cluster.local. NOERROR" {
			t.Errorf("queries %s", q)
		}
	})
	t.Run("PTR of the ClusterIP, NODATA for AAAA", func(t *testing.T) {
		res := search(t, 0, "--from", "client", svc.Spec.ClusterIP)
		if len(res.Answer) != 1 || !strings.HasSuffix(res.Answer[0], "PTR\tweb.default.svc.cluster.local.") {
			t.Errorf("PTR %+v", res)
		}
		if res := search(t, 1, "--from", "client", "web.default.svc.cluster.local.", "AAAA"); res.Herrno != resolver.NoData {
			t.Errorf("AAAA %+v", res)
		}
	})
	t.Run("no such pod", func(t *testing.T) {
		if _, stderr, code := e.run("dns", "--name", name, "--from", "nosuch", "web"); code != 2 || !strings.Contains(stderr, "has no pod default/nosuch") {
			t.Errorf("exit %d: %s", code, stderr)
		}
	})
	t.Run("nothing serves DNS: the search ends at the first name", func(t *testing.T) {
		e.must("scale", "--name", name, "-n", "kube-system", "deployment/coredns", "--replicas=0")
		eventually(t, 10*time.Second, func() string {
			var eps corev1.Endpoints
			e.object(name, &eps, "endpoints", "kube-dns", "-n", "kube-system")
			for _, ss := range eps.Subsets {
				if len(ss.Addresses) > 0 {
					return fmt.Sprintf("kube-dns endpoints %v", ss.Addresses)
				}
			}
			return ""
		})
		out, stderr, code := e.run("dns", "--name", name, "--from", "client", "web")
		if code != 1 || strings.Count(out, "unreachable") != 2 || !strings.Contains(stderr, "nothing serves DNS at 10.96.0.10:53") {
			t.Errorf("exit %d:\n%s%s", code, out, stderr)
		}
	})
}
