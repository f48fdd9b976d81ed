package cni

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestRenderConfList(t *testing.T) {
	base := NodeConfig{
		Lab: "basics", Node: "worker-1", Bridge: "cni0", MTU: 1450,
		Subnet:      netip.MustParsePrefix("10.244.1.0/24"),
		ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"),
	}
	for _, tc := range []struct {
		plugins, version, golden string
	}{
		{PluginsPodlab, "1.1.0", "podlab.conflist"},
		{PluginsBridge, "1.0.0", "bridge.conflist"},
	} {
		t.Run(tc.plugins, func(t *testing.T) {
			cfg := base
			cfg.Plugins = tc.plugins
			got, err := renderConfList(cfg, tc.version, "/state/worker-1/ipam")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := libcni.ConfListFromBytes(got); err != nil {
				t.Fatalf("libcni rejects the conflist: %v\n%s", err, got)
			}
			golden := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("conflist differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestRenderConfListErrors(t *testing.T) {
	for name, cfg := range map[string]NodeConfig{
		"no subnet":       {Node: "n", Plugins: PluginsPodlab},
		"unknown plugins": {Node: "n", Plugins: "calico", Subnet: netip.MustParsePrefix("10.244.1.0/24")},
	} {
		if _, err := renderConfList(cfg, "1.1.0", "/x"); err == nil {
			t.Errorf("%s: want an error", name)
		}
	}
}

func TestLoadNetConf(t *testing.T) {
	for _, tc := range []struct {
		name, conf string
		wantErr    bool
	}{
		{"defaults", `{"cniVersion":"1.1.0","name":"p","type":"podlab-bridge","isDefaultGateway":true,"ipam":{"type":"host-local"}}`, false},
		{"bad mtu", `{"name":"p","mtu":-1,"ipam":{"type":"host-local"}}`, true},
		{"long bridge", `{"name":"p","bridge":"a-very-long-bridge-name","ipam":{"type":"host-local"}}`, true},
		{"other ipam", `{"name":"p","ipam":{"type":"dhcp"}}`, true},
		{"no ipam", `{"name":"p"}`, true},
		{"not json", `{`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := loadNetConf([]byte(tc.conf))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err == nil && (n.BrName != "cni0" || !n.IsGW) {
				t.Errorf("defaults not applied: bridge %q isGateway %v", n.BrName, n.IsGW)
			}
		})
	}
}

func TestNames(t *testing.T) {
	a, b := HostVethName("c1", "eth0"), HostVethName("c1", "eth1")
	if a == b || len(a) != 12 || !isHostVethName(a) || a != HostVethName("c1", "eth0") {
		t.Errorf("HostVethName not deterministic/distinct: %q %q", a, b)
	}
	if got := podMAC([]byte{10, 244, 1, 7}, "c", "eth0").String(); got != "0a:58:0a:f4:01:07" {
		t.Errorf("podMAC = %s", got)
	}
	if m := hostMAC("c", "eth0"); m[0]&1 != 0 || m[0]&2 == 0 {
		t.Errorf("hostMAC %s is not locally administered unicast", m)
	}
	for _, s := range []string{"veth", "vethXYZ12345", "eth0", "veth0123456789"} {
		if isHostVethName(s) {
			t.Errorf("isHostVethName(%q) = true", s)
		}
	}
}
