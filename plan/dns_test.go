package plan

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"podlab.dev/podlab/topology"
)

// dnsLab is testLab with a second host serving example.com.
func dnsLab(up topology.ClusterDNS) *topology.Lab {
	lab := testLab()
	lab.Hosts = append(lab.Hosts, topology.Host{Name: "dns", Zones: map[string]string{"example.com": "api A 172.30.0.100\n"}})
	up.Pos = topology.Pos{File: "lab.yaml", Line: 4, Col: 15}
	lab.Cluster.DNS = up
	return lab
}

func TestDNSUpstream(t *testing.T) {
	for name, tc := range map[string]struct {
		dns        topology.ClusterDNS
		addr, conf string
	}{
		"none":    {topology.ClusterDNS{}, "", "# podlab: the lab names no DNS upstream (cluster.dns.upstream): names outside the cluster do not resolve\n"},
		"host":    {topology.ClusterDNS{UpstreamHost: "dns"}, "172.30.0.101:53", "nameserver 172.30.0.101\n"},
		"address": {topology.ClusterDNS{UpstreamAddr: netip.MustParseAddrPort("172.30.0.101:53")}, "172.30.0.101:53", "nameserver 172.30.0.101\n"},
		"pool ip": {topology.ClusterDNS{UpstreamAddr: netip.MustParseAddrPort("172.30.0.200:5353")}, "172.30.0.200:5353", "# podlab: the lab's DNS upstream 172.30.0.200:5353 is not on port 53, which resolv.conf cannot name\n"},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Build(dnsLab(tc.dns))
			if err != nil {
				t.Fatal(err)
			}
			if got := p.DNSUpstreamAddr(); got != tc.addr {
				t.Errorf("DNSUpstreamAddr() = %q, want %q", got, tc.addr)
			}
			if got := p.NodeResolvConf(); got != tc.conf {
				t.Errorf("NodeResolvConf() = %q, want %q", got, tc.conf)
			}
			// plan.json keeps the upstream and the zones.
			b, _ := json.Marshal(p)
			var back Plan
			if err := json.Unmarshal(b, &back); err != nil || back.DNSUpstreamAddr() != tc.addr || back.Hosts[1].Zones["example.com"] != "api A 172.30.0.100\n" {
				t.Errorf("plan.json does not round-trip: %v %+v", err, back.Hosts)
			}
		})
	}
}

func TestDNSUpstreamErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		addr string
		want string
	}{
		"node":            {"172.30.0.11:53", "lab.yaml:4:15: cluster.dns.upstream: 172.30.0.11 is node w1's address: nodes serve no DNS\n  hint: name a host that serves DNS zones (hosts[].dns.zones)"},
		"host without":    {"172.30.0.100:53", "lab.yaml:4:15: cluster.dns.upstream: 172.30.0.100 is host client's address, which serves no DNS\n  hint: give the host DNS zones (hosts[].dns.zones), or name another"},
		"host other port": {"172.30.0.101:5353", "lab.yaml:4:15: cluster.dns.upstream: host dns's DNS server answers on port 53, not 5353\n  hint: write dns or 172.30.0.101"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Build(dnsLab(topology.ClusterDNS{UpstreamAddr: netip.MustParseAddrPort(tc.addr)}))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestPrintDNS(t *testing.T) {
	p, err := Build(dnsLab(topology.ClusterDNS{UpstreamHost: "dns"}))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	p.Print(&b)
	for _, want := range []string{"  dns upstream 172.30.0.101:53\n\n", "host dns  namespace podlab_t_host_dns\n", "  serves dns 53,53/udp: zones example.com\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, b.String())
		}
	}
}
