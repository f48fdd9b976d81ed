package network

import (
	"context"
	"fmt"
	"net/netip"

	"sigs.k8s.io/knftables"
)

// NATTable is the nftables table podlab owns in each node namespace.
const NATTable = "podlab"

// Masquerade programs, in a node namespace, what flanneld --ip-masq does: pod traffic
// leaving the pod network is masqueraded to the node's address; pod-to-pod traffic
// keeps its source. tx is built by MasqueradeTx so tests can run it against a Fake.
func Masquerade(ctx context.Context, nsPath, lab string, podCIDR netip.Prefix) error {
	nft, err := NFT(nsPath, knftables.IPv4Family, NATTable)
	if err != nil {
		return err
	}
	tx := nft.NewTransaction()
	MasqueradeTx(tx, lab, podCIDR)
	if err := nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("program masquerade: %w", err)
	}
	return nil
}

// MasqueradeTx adds the table, its postrouting chain and the masquerade rule.
func MasqueradeTx(tx *knftables.Transaction, lab string, podCIDR netip.Prefix) {
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("podlab lab " + lab)})
	tx.Add(&knftables.Chain{
		Name:     "postrouting",
		Type:     knftables.PtrTo(knftables.NATType),
		Hook:     knftables.PtrTo(knftables.PostroutingHook),
		Priority: knftables.PtrTo(knftables.SNATPriority),
		Comment:  knftables.PtrTo("masquerade pod traffic leaving the pod network"),
	})
	tx.Flush(&knftables.Chain{Name: "postrouting"})
	tx.Add(&knftables.Rule{
		Chain: "postrouting",
		Rule:  knftables.Concat("ip saddr", podCIDR.String(), "ip daddr !=", podCIDR.String(), "masquerade fully-random"),
	})
}
