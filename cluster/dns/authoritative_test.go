package dns

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/nsutil"
)

// labZones is what a lesson's DNS host serves: a zone with its own SOA, a child zone
// served by the same host, and one that gets a SOA made up for it.
var labZones = map[string]string{
	"example.com": `$TTL 60
@      SOA   ns.example.com. admin.example.com. 7 3600 600 86400 30
@      NS    ns
ns     A     172.30.0.100
api    A     172.30.0.100
api    AAAA  fd00::100
www    CNAME api
alias  CNAME www
ext    CNAME api.example.org.
gone   CNAME nothing
loop1  CNAME loop2
loop2  CNAME loop1
*.apps A     172.30.0.110
x.y.z  TXT   "deep"
`,
	"sub.example.com": "api A 172.30.0.120\n",
	"example.org":     "api A 172.30.0.130\n",
}

// answers renders a reply as "RCODE aa; answer | authority".
func answers(m *mdns.Msg) string {
	var ans, ns []string
	for _, rr := range m.Answer {
		ans = append(ans, strings.Join(strings.Fields(rr.String()), " "))
	}
	for _, rr := range m.Ns {
		ns = append(ns, strings.Join(strings.Fields(rr.String()), " "))
	}
	aa := ""
	if m.Authoritative {
		aa = " aa"
	}
	return fmt.Sprintf("%s%s; %s | %s", mdns.RcodeToString[m.Rcode], aa, strings.Join(ans, ", "), strings.Join(ns, ", "))
}

func TestAuthorityAnswers(t *testing.T) {
	a, err := NewAuthority(labZones)
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, a)
	const soa = "example.com. 30 IN SOA ns.example.com. admin.example.com. 7 3600 600 86400 30"
	for _, tc := range []struct {
		name  string
		qtype uint16
		want  string
	}{
		{"api.example.com.", mdns.TypeA, "NOERROR aa; api.example.com. 60 IN A 172.30.0.100 | "},
		{"API.Example.COM.", mdns.TypeA, "NOERROR aa; API.Example.COM. 60 IN A 172.30.0.100 | "},
		{"api.example.com.", mdns.TypeAAAA, "NOERROR aa; api.example.com. 60 IN AAAA fd00::100 | "},
		{"api.example.com.", mdns.TypeMX, "NOERROR aa;  | " + soa},
		{"nope.example.com.", mdns.TypeA, "NXDOMAIN aa;  | " + soa},
		{"www.example.com.", mdns.TypeA, "NOERROR aa; www.example.com. 60 IN CNAME api.example.com., api.example.com. 60 IN A 172.30.0.100 | "},
		{"www.example.com.", mdns.TypeCNAME, "NOERROR aa; www.example.com. 60 IN CNAME api.example.com. | "},
		{"alias.example.com.", mdns.TypeAAAA, "NOERROR aa; alias.example.com. 60 IN CNAME www.example.com., www.example.com. 60 IN CNAME api.example.com., api.example.com. 60 IN AAAA fd00::100 | "},
		{"www.example.com.", mdns.TypeTXT, "NOERROR aa; www.example.com. 60 IN CNAME api.example.com. | " + soa},
		{"ext.example.com.", mdns.TypeA, "NOERROR aa; ext.example.com. 60 IN CNAME api.example.org. | "},
		{"gone.example.com.", mdns.TypeA, "NXDOMAIN aa; gone.example.com. 60 IN CNAME nothing.example.com. | " + soa},
		{"loop1.example.com.", mdns.TypeA, "NOERROR aa; loop1.example.com. 60 IN CNAME loop2.example.com., loop2.example.com. 60 IN CNAME loop1.example.com. | "},
		{"web.apps.example.com.", mdns.TypeA, "NOERROR aa; web.apps.example.com. 60 IN A 172.30.0.110 | "},
		{"a.b.apps.example.com.", mdns.TypeA, "NOERROR aa; a.b.apps.example.com. 60 IN A 172.30.0.110 | "},
		{"apps.example.com.", mdns.TypeA, "NOERROR aa;  | " + soa}, // an empty non-terminal: NODATA
		{"y.z.example.com.", mdns.TypeA, "NOERROR aa;  | " + soa},
		{"example.com.", mdns.TypeNS, "NOERROR aa; example.com. 60 IN NS ns.example.com. | "},
		{"api.sub.example.com.", mdns.TypeA, "NOERROR aa; api.sub.example.com. 300 IN A 172.30.0.120 | "},
		{"sub.example.com.", mdns.TypeSOA, "NOERROR aa; sub.example.com. 300 IN SOA ns.sub.example.com. hostmaster.sub.example.com. 1 3600 600 86400 300 | "},
		{"nope.sub.example.com.", mdns.TypeA, "NXDOMAIN aa;  | sub.example.com. 300 IN SOA ns.sub.example.com. hostmaster.sub.example.com. 1 3600 600 86400 300"},
		{"example.net.", mdns.TypeA, "REFUSED;  | "},
		{"example.com.", mdns.TypeAXFR, "REFUSED;  | "},
	} {
		t.Run(fmt.Sprintf("%s %s", tc.name, mdns.TypeToString[tc.qtype]), func(t *testing.T) {
			m := query(t, addr, "udp", tc.name, tc.qtype, 0)
			if got := answers(m); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if m.RecursionAvailable {
				t.Error("RA set: an authoritative-only server does not recurse")
			}
		})
	}
}

// A reply larger than the client takes over UDP is truncated with TC; TCP and a large
// enough EDNS0 buffer get it whole.
func TestAuthorityTruncates(t *testing.T) {
	var b strings.Builder
	for i := range 60 {
		fmt.Fprintf(&b, "many A 172.30.1.%d\n", i+1)
	}
	a, err := NewAuthority(map[string]string{"example.com": b.String()})
	if err != nil {
		t.Fatal(err)
	}
	addr := serve(t, a)
	if m := query(t, addr, "udp", "many.example.com.", mdns.TypeA, 0); !m.Truncated || len(m.Answer) >= 60 {
		t.Errorf("UDP without EDNS0: truncated %v, %d answers", m.Truncated, len(m.Answer))
	}
	if m := query(t, addr, "tcp", "many.example.com.", mdns.TypeA, 0); m.Truncated || len(m.Answer) != 60 || !m.Authoritative {
		t.Errorf("TCP: truncated %v, %d answers", m.Truncated, len(m.Answer))
	}
	if m := query(t, addr, "udp", "many.example.com.", mdns.TypeA, 4096); m.Truncated || len(m.Answer) != 60 || m.IsEdns0() == nil {
		t.Errorf("UDP with EDNS0 4096: truncated %v, %d answers, edns0 %v", m.Truncated, len(m.Answer), m.IsEdns0())
	}
}

func TestNewAuthorityErrors(t *testing.T) {
	_, err := NewAuthority(map[string]string{"example.com": "api A 1.2.3.4\nx.other.org. A 1.2.3.5\n", "bad_zone": ""})
	want := `dns: zone "bad_zone": "bad_zone" is not a domain`
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "zone example.com: line 2:1: x.other.org. is outside the zone example.com") {
		t.Errorf("error %v, want %s... and the record outside the zone", err, want)
	}
}

// The cluster DNS forwards to a host's Authority: a name outside the cluster resolves
// end to end, with no internet (issue 10's ExternalName lesson).
func TestClusterDNSForwardsToAuthority(t *testing.T) {
	a, err := NewAuthority(labZones)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer("cluster.local", 30)
	srv.SetUpstream(serve(t, a))
	m := query(t, serve(t, srv), "udp", "www.example.com.", mdns.TypeA, 0)
	if len(m.Answer) != 2 || m.Answer[1].(*mdns.A).A.String() != "172.30.0.100" {
		t.Errorf("through the cluster DNS: %s", answers(m))
	}
}

// ServeNetns opens 53/udp and tcp in a host's namespace: here one the test makes (root
// only), queried from inside it.
func TestAuthorityServeNetns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	name := fmt.Sprintf("podlab-test-auth-%d", os.Getpid())
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Skipf("ip %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	path := "/run/netns/" + name
	a, err := NewAuthority(labZones)
	if err != nil {
		t.Fatal(err)
	}
	s, err := a.ServeNetns(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := a.ServeNetns(path); err == nil {
		t.Error("a second server on the same namespace's port 53: no error")
	}
	for _, network := range []string{"udp", "tcp"} {
		var conn net.Conn
		if err := nsutil.Do(path, func() (err error) { conn, err = net.Dial(network, "127.0.0.1:53"); return err }); err != nil {
			t.Fatal(err)
		}
		req := new(mdns.Msg)
		req.SetQuestion("api.example.com.", mdns.TypeA)
		c := &mdns.Client{Net: network, Timeout: 2 * time.Second}
		m, _, err := c.ExchangeWithConn(req, &mdns.Conn{Conn: conn})
		conn.Close()
		if err != nil || !m.Authoritative || len(m.Answer) != 1 {
			t.Errorf("%s from inside the namespace: %v %v", network, m, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	// Closed, the port is free again.
	s2, err := a.ServeNetns(path)
	if err != nil {
		t.Fatalf("serve again after close: %v", err)
	}
	s2.Close()
}
