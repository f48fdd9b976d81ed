package network

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

func TestMasqueradeRuleset(t *testing.T) {
	fake := knftables.NewFake(knftables.IPv4Family, NATTable)
	tx := fake.NewTransaction()
	MasqueradeTx(tx, "basics", netip.MustParsePrefix("10.244.0.0/16"))
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	got := fake.Dump()
	for _, want := range []string{
		`add table ip podlab { comment "podlab lab basics" ; }`,
		`add chain ip podlab postrouting { type nat hook postrouting priority 100 ;`,
		`add rule ip podlab postrouting ip saddr 10.244.0.0/16 ip daddr != 10.244.0.0/16 masquerade fully-random`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("ruleset lacks %q:\n%s", want, got)
		}
	}
	// Running it again replaces rather than duplicates the rule.
	tx = fake.NewTransaction()
	MasqueradeTx(tx, "basics", netip.MustParsePrefix("10.244.0.0/16"))
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(fake.Dump(), "masquerade fully-random"); n != 1 {
		t.Errorf("%d masquerade rules after a second run, want 1", n)
	}
}
