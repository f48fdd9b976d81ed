package topology

import (
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

func TestDNSLab(t *testing.T) {
	lab := "name: a\ncluster:\n  dns:\n    upstream: dns-server\n" + twoNodes + "hosts:\n  - name: client\n  - name: dns-server\n    dns:\n      zones:\n" +
		"        Example.COM.: |\n          $TTL 60\n          api  A     172.30.0.100\n          www  CNAME api\n" +
		"        lab: |-\n          @ SOA ns.lab. admin.lab. 7 3600 600 86400 30\n"
	l, err := Parse("lab.yaml", []byte(lab), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Cluster.DNS; got.UpstreamHost != "dns-server" || got.UpstreamAddr.IsValid() || got.Pos.Line != 4 {
		t.Errorf("cluster.dns = %+v", got)
	}
	h := l.Hosts[1]
	if len(h.Zones) != 2 || !strings.Contains(h.Zones["example.com"], "www  CNAME api") || h.Zones["lab"] == "" {
		t.Errorf("zones = %q", h.Zones)
	}
	for addr, want := range map[string]string{"172.30.0.200": "172.30.0.200:53", "172.30.0.100:5353": "172.30.0.100:5353"} {
		l, err := Parse("lab.yaml", []byte("name: a\ncluster:\n  dns: {upstream: \""+addr+"\"}\n"+twoNodes), nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.Cluster.DNS.UpstreamAddr.String(); got != want {
			t.Errorf("upstream %s = %s, want %s", addr, got, want)
		}
	}
}

func TestDNSLabErrors(t *testing.T) {
	hosts := "hosts:\n  - name: client\n  - name: dns-server\n    ports: [53, \"53/udp\", 80]\n    dns:\n      zones:\n"
	for _, tc := range []struct {
		name string
		lab  string
		want []string
	}{
		{name: "records", lab: "name: a\n" + twoNodes + hosts +
			"        example.com: |\n" +
			"          api  A     172.30.0.100\n" +
			"          ftp  AA    172.30.0.104\n", want: []string{
			"lab.yaml:8:13: hosts[1].ports[0]: port 53/TCP is the host's DNS server's (dns.zones)\n  hint: remove the port: the DNS server answers on 53/udp and 53/tcp",
			"lab.yaml:8:17: hosts[1].ports[1]: port 53/UDP is the host's DNS server's (dns.zones)\n  hint: remove the port: the DNS server answers on 53/udp and 53/tcp",
			"lab.yaml:13:16: hosts[1].dns.zones[example.com]: unknown record type \"AA\"; did you mean \"A\"?\n  hint: a record is NAME [TTL] [IN] TYPE DATA, e.g. api 300 IN A 172.30.0.100;\n        a line that starts with a space or a tab continues the name above it",
		}},
		{name: "records after parsing", lab: "name: a\n" + twoNodes + hosts +
			"        example.com: |\n" +
			"          api  A     172.30.0.100\n" +
			"          ; a comment\n" +
			"          www  CNAME api\n" +
			"          www  A     172.30.0.101\n" +
			"          api.example.com A 172.30.0.102\n" +
			"          mail.other.org. A 172.30.0.103\n" +
			"          sub  NS    (\n" +
			"                 ns.sub )\n" +
			"          x CH A 1.2.3.4\n" +
			"          y A\n", want: []string{
			"lab.yaml:8:13: hosts[1].ports[0]: port 53/TCP is the host's DNS server's (dns.zones)\n  hint: remove the port: the DNS server answers on 53/udp and 53/tcp",
			"lab.yaml:8:17: hosts[1].ports[1]: port 53/UDP is the host's DNS server's (dns.zones)\n  hint: remove the port: the DNS server answers on 53/udp and 53/tcp",
			"lab.yaml:15:11: hosts[1].dns.zones[example.com]: www.example.com. has a CNAME and other records; a CNAME must be alone at its name\n  hint: a CNAME makes its name an alias: give the records to the target instead",
			"lab.yaml:16:11: hosts[1].dns.zones[example.com]: api.example.com.example.com. names the zone twice\n  hint: names without a final dot are relative to the zone: write api for api.example.com, or end a full name with a dot (api.example.com.)",
			"lab.yaml:17:11: hosts[1].dns.zones[example.com]: mail.other.org. is outside the zone example.com\n  hint: names without a final dot are relative to the zone: write api for api.example.com, or end a full name with a dot (api.example.com.)",
			"lab.yaml:18:11: hosts[1].dns.zones[example.com]: delegations are not supported: NS at sub.example.com.\n  hint: NS records belong at the zone's apex, @; serve the child zone from its own host instead",
			"lab.yaml:20:11: hosts[1].dns.zones[example.com]: class CH is not supported: lab zones are IN\n  hint: leave the class out, or write IN",
			"lab.yaml:21:11: hosts[1].dns.zones[example.com]: the A record has no data\n  hint: write e.g. api A 172.30.0.100",
		}},
		{name: "bad data, quoted zone, zone names", lab: "name: a\n" + twoNodes + "hosts:\n  - name: h\n    dns:\n      zones:\n" +
			"        example.com: \"api A 1.2.3.4\\nweb A 1.2.3.x\\n\"\n" +
			"        example.org: |\n          $INCLUDE /etc/passwd\n" +
			"        a.cluster.local: \"\"\n" +
			"        172.30.0.1: \"\"\n" +
			"        bad_name: \"\"\n", want: []string{
			"lab.yaml:9:22: hosts[0].dns.zones[example.com]: line 2 of the zone: invalid A record: bad A A \"1.2.3.x\"\n  hint: write e.g. api A 172.30.0.100",
			"lab.yaml:11:11: hosts[0].dns.zones[example.org]: $INCLUDE is not supported in a lab zone\n  hint: write the records out in the zone itself",
			"lab.yaml:12:26: hosts[0].dns.zones[a.cluster.local]: zone a.cluster.local is inside the cluster domain cluster.local, which the cluster DNS answers itself: pods would never see it\n  hint: pick a zone outside the cluster domain, e.g. example.com",
			"lab.yaml:13:21: hosts[0].dns.zones[172.30.0.1]: invalid zone name: \"172.30.0.1\" is an address, not a domain\n  hint: name a zone by its domain, e.g. example.com",
			"lab.yaml:14:19: hosts[0].dns.zones[bad_name]: invalid zone name: \"bad_name\" is not a domain: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')\n  hint: name a zone by its domain, e.g. example.com",
		}},
		{name: "upstream host without zones", lab: "name: a\ncluster:\n  dns:\n    upstream: client\n" + twoNodes + "hosts:\n  - name: client\n", want: []string{
			"lab.yaml:4:15: cluster.dns.upstream: host \"client\" serves no DNS: it has no dns.zones\n  hint: add to hosts[0] (lab.yaml:9):\n        dns:\n          zones:\n            example.com: |\n              api A 172.30.0.100",
		}},
		{name: "upstream typo", lab: "name: a\ncluster:\n  dns:\n    upstream: dns-sever\n" + twoNodes + "hosts:\n  - name: dns-server\n    dns: {zones: {example.com: \"\"}}\n", want: []string{
			"lab.yaml:4:15: cluster.dns.upstream: no host named \"dns-sever\"; did you mean \"dns-server\"?\n  hint: hosts with a DNS server: dns-server\n        or write an address inside the underlay, e.g. 172.30.0.100 or 172.30.0.100:5353",
		}},
		{name: "upstream node", lab: "name: a\ncluster:\n  dns: {upstream: n1}\n" + twoNodes, want: []string{
			"lab.yaml:3:19: cluster.dns.upstream: \"n1\" is a node: the upstream is a host that serves DNS zones\n  hint: give a host DNS zones and name it here, e.g. under hosts:\n          - name: dns-server\n            dns:\n              zones:\n                example.com: |\n                  api A 172.30.0.100",
		}},
		{name: "upstream host with a port", lab: "name: a\ncluster:\n  dns: {upstream: \"h:5353\"}\n" + twoNodes, want: []string{
			"lab.yaml:3:19: cluster.dns.upstream: \"h:5353\": a host's DNS server answers on port 53, not 5353\n  hint: write the host's name alone: h",
		}},
		{name: "upstream outside", lab: "name: a\ncluster:\n  dns: {upstream: 8.8.8.8}\n" + twoNodes, want: []string{
			"lab.yaml:3:19: cluster.dns.upstream: 8.8.8.8 is outside the underlay 172.30.0.0/24\n  hint: the cluster DNS reaches only the lab: name a host that serves DNS zones, or an address in 172.30.0.0/24",
		}},
		{name: "upstream gateway", lab: "name: a\ncluster:\n  dns: {upstream: \"172.30.0.1:53\"}\n" + twoNodes, want: []string{
			"lab.yaml:3:19: cluster.dns.upstream: 172.30.0.1 is the underlay's network, gateway or broadcast address: nothing answers DNS there",
		}},
		{name: "dns shapes", lab: "name: a\ncluster:\n  dns: {upstrem: h}\n" + twoNodes + "hosts:\n  - name: h\n    dns: {zones: [example.com]}\n", want: []string{
			"lab.yaml:3:9: cluster.dns.upstrem: unknown field \"upstrem\"; did you mean \"upstream\"?",
			"lab.yaml:9:18: hosts[0].dns.zones: expected a map, got a list\n  hint: write each zone as its name and its records, e.g.\n        zones:\n          example.com: |\n            api A 172.30.0.100",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("lab.yaml", []byte(tc.lab), nil)
			checkErrors(t, err, tc.want)
		})
	}
}

func TestParseZone(t *testing.T) {
	rrs, errs := ParseZone("example.com", "api A 172.30.0.100\n*.web CNAME api\n")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var got []string
	for _, rr := range rrs {
		got = append(got, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	want := []string{
		"example.com. 300 IN SOA ns.example.com. hostmaster.example.com. 1 3600 600 86400 300",
		"example.com. 300 IN NS ns.example.com.",
		"api.example.com. 300 IN A 172.30.0.100",
		"*.web.example.com. 300 IN CNAME api.example.com.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A SOA written is kept, first, and named by an apex NS.
	rrs, _ = ParseZone("lab", "x A 10.0.0.1\n@ 60 SOA ns.lab. admin.lab. 7 3600 600 86400 30\n")
	if soa, ok := rrs[0].(*mdns.SOA); !ok || soa.Serial != 7 || rrs[1].(*mdns.NS).Ns != "ns.lab." || len(rrs) != 3 {
		t.Errorf("records %v", rrs)
	}
	for text, want := range map[string]string{
		"@ CNAME x\n":                                "line 1:1: a CNAME cannot be at the zone's apex, which has its SOA and NS",
		"x SOA a b 1 2 3 4 5\n":                      "line 1:1: a SOA belongs at the zone's apex example.com., not at x.example.com.",
		"x CNAME a\nx CNAME b\n":                     "line 2:1: x.example.com. has a second CNAME; a name has at most one",
		"$GENERATE 1-3 h$ A 10.0.0.$\n":              "line 1:1: $GENERATE is not supported in a lab zone",
		"x TXT \"a;b\" ; c\ny CNAME x.example.com\n": "line 2:1: the CNAME target x.example.com.example.com. names the zone twice",
	} {
		if _, errs := ParseZone("example.com", text); len(errs) != 1 || errs[0].Error() != want {
			t.Errorf("%q: %v, want %s", text, errs, want)
		}
	}
}
