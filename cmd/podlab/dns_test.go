package main

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/resolver"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

// Invalid input exits 2 before any query: no --from, a bad type, an address asked for
// another type than PTR, no lab, no such pod.
func TestDNSInvalidInput(t *testing.T) {
	root := t.TempDir()
	t.Setenv("PODLAB_STATE_DIR", root)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no --from", []string{"dns", "web"}},
		{"bad type", []string{"dns", "--from", "web-1", "web", "AXFR2"}},
		{"an address for A", []string{"dns", "--from", "web-1", "10.96.0.10", "A"}},
		{"bad output", []string{"dns", "--from", "web-1", "web", "-o", "yaml"}},
		{"no name", []string{"dns", "--from", "web-1"}},
		{"no lab deployed", []string{"dns", "--from", "web-1", "web"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := run(tc.args); got != exitInvalid {
				t.Errorf("podlab %v: exit %d, want %d", tc.args, got, exitInvalid)
			}
		})
	}
	t.Run("no such pod", func(t *testing.T) {
		if needRoot("test") != nil {
			t.Skip("needs root: podlab dns checks it before looking the pod up")
		}
		dir := state.For(root, "dnslab")
		if err := dir.Create(); err != nil {
			t.Fatal(err)
		}
		p := &plan.Plan{Lab: "dnslab", Runtime: "netns", Cluster: topology.Cluster{Domain: "cluster.local", ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12")},
			Pods: []plan.Pod{{Namespace: "default", Name: "web-1", Netns: "dnslab-nosuch", IP: netip.MustParseAddr("10.244.1.2")}}}
		if err := dir.WritePlan(p); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"dns", "--from", "nosuch", "web"}, {"dns", "-n", "shop", "--from", "web-1", "web"}} {
			if got := run(args); got != exitInvalid {
				t.Errorf("podlab %v: exit %d, want %d", args, got, exitInvalid)
			}
		}
		// The pod of the plan is found (no supervisor runs), its namespace is not there.
		if got := run([]string{"dns", "--from", "web-1", "web"}); got != exitRuntime {
			t.Errorf("a pod whose namespace is gone: exit %d, want %d", got, exitRuntime)
		}
	})
}

func TestDNSQuestion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		name string
		typ  uint16
	}{
		{[]string{"web"}, "web", mdns.TypeA},
		{[]string{"web.shop", "aaaa"}, "web.shop", mdns.TypeAAAA},
		{[]string{"_http._tcp.web.shop.svc.cluster.local.", "SRV"}, "_http._tcp.web.shop.svc.cluster.local.", mdns.TypeSRV},
		{[]string{"10.96.12.34"}, "34.12.96.10.in-addr.arpa.", mdns.TypePTR},
		{[]string{"10.96.12.34", "ptr"}, "34.12.96.10.in-addr.arpa.", mdns.TypePTR},
	} {
		name, typ, err := dnsQuestion(tc.args)
		if err != nil || name != tc.name || typ != tc.typ {
			t.Errorf("%v: %q %d %v, want %q %d", tc.args, name, typ, err, tc.name, tc.typ)
		}
	}
}

// The failure line names the cause the lab can act on.
func TestDNSFailure(t *testing.T) {
	attempts := func(rcode string, n int) []resolver.Attempt {
		var as []resolver.Attempt
		for range n {
			as = append(as, resolver.Attempt{Name: "web.default.svc.cluster.local.", Server: "10.96.0.10:53", Rcode: rcode})
		}
		return as
	}
	conf := resolver.DefaultConfig()
	for _, tc := range []struct {
		res  resolver.Result
		want string
	}{
		{resolver.Result{Name: "nosuch", Type: "A", Herrno: resolver.HostNotFound, Attempts: attempts("NXDOMAIN", 4)}, "nosuch A: not found (NXDOMAIN for every name tried, 4 queries)"},
		{resolver.Result{Name: "web", Type: "AAAA", Herrno: resolver.NoData, Attempts: attempts("NOERROR", 1)}, "web: the name exists but has no AAAA records (NODATA; 1 query)"},
		{resolver.Result{Name: "web", Type: "A", Herrno: resolver.TryAgain, Attempts: attempts(resolver.RcodeRefused, 2)}, "no server answered: nothing serves DNS at 10.96.0.10:53 (port unreachable"},
		{resolver.Result{Name: "web", Type: "A", Herrno: resolver.TryAgain, Config: conf, Attempts: attempts(resolver.RcodeTimeout, 4)}, "no server answered: every query to 10.96.0.10:53 timed out (4 queries of up to 5s each)"},
	} {
		if got := dnsFailure(&tc.res); !strings.HasPrefix(got, tc.want) {
			t.Errorf("got %q, want %q...", got, tc.want)
		}
	}
}

func TestPrintSearch(t *testing.T) {
	conf, _ := resolver.ParseConf("search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n")
	res := &resolver.Result{Name: "web", Type: "A", Config: conf, Resolved: true, Answered: "web.default.svc.cluster.local.",
		Answer: []string{"web.default.svc.cluster.local.\t30\tIN\tA\t10.96.12.34"},
		Attempts: []resolver.Attempt{{Name: "web.default.svc.cluster.local.", Type: "A", Server: "10.96.0.10:53", Proto: "udp", Rcode: "NOERROR",
			Answer: []string{"web.default.svc.cluster.local.\t30\tIN\tA\t10.96.12.34"}, Took: 1234 * time.Microsecond}}}
	var b strings.Builder
	printSearch(&b, &api.PodEtc{Namespace: "default", Name: "web-1"}, res)
	want := "pod default/web-1 resolv.conf: nameserver 10.96.0.10; search default.svc.cluster.local svc.cluster.local cluster.local; ndots:5 timeout:5 attempts:2\n" +
		"QUERY                           TYPE  SERVER         RCODE    ANSWER         TIME\n" +
		"web.default.svc.cluster.local.  A     10.96.0.10:53  NOERROR  A 10.96.12.34  1.23ms\n" +
		"web.default.svc.cluster.local.: A 10.96.12.34 (1 query, 1.23ms)\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
