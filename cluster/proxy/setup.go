package proxy

import (
	"net/netip"

	"sigs.k8s.io/knftables"
)

// baseChain is one chain hooked into netfilter; upstream names them "<type>-<hook>".
type baseChain struct {
	name     string
	typ      knftables.BaseChainType
	hook     knftables.BaseChainHook
	priority knftables.BaseChainPriority
}

// baseChains is upstream's v1.37 list: the firewall runs before DNAT (it judges the
// pre-DNAT address), the no-endpoint checks at filter priority after DNAT.
var baseChains = []baseChain{
	{filterPreroutingPreDNATChain, knftables.FilterType, knftables.PreroutingHook, knftables.DNATPriority + "-10"},
	{filterOutputPreDNATChain, knftables.FilterType, knftables.OutputHook, knftables.DNATPriority + "-10"},
	{filterInputChain, knftables.FilterType, knftables.InputHook, knftables.FilterPriority},
	{filterForwardChain, knftables.FilterType, knftables.ForwardHook, knftables.FilterPriority},
	{filterOutputChain, knftables.FilterType, knftables.OutputHook, knftables.FilterPriority},
	{natPreroutingChain, knftables.NATType, knftables.PreroutingHook, knftables.DNATPriority},
	{natOutputChain, knftables.NATType, knftables.OutputHook, knftables.DNATPriority},
	{natPostroutingChain, knftables.NATType, knftables.PostroutingHook, knftables.SNATPriority},
}

// jumpChains are the regular chains the base chains jump to, in upstream's order.
var jumpChains = []struct{ dst, src, match string }{
	{nodePortEndpointsCheckChain, filterInputChain, "ct state new"},
	{serviceEndpointsCheckChain, filterInputChain, "ct state new"},
	{serviceEndpointsCheckChain, filterForwardChain, "ct state new"},
	{serviceEndpointsCheckChain, filterOutputChain, "ct state new"},
	{firewallCheckChain, filterPreroutingPreDNATChain, "ct state new"},
	{firewallCheckChain, filterOutputPreDNATChain, "ct state new"},
	{servicesChain, natOutputChain, ""},
	{servicesChain, natPreroutingChain, ""},
	{masqueradingChain, natPostroutingChain, ""},
	{clusterIPsCheckChain, filterForwardChain, "ct state new"},
	{clusterIPsCheckChain, filterOutputChain, "ct state new"},
	// podlab: per-endpoint accounting of every DNATed packet, after DNAT.
	{countEndpointsChain, filterInputChain, "ct status dnat ct direction original"},
	{countEndpointsChain, filterForwardChain, "ct status dnat ct direction original"},
	{countEndpointsChain, filterOutputChain, "ct status dnat ct direction original"},
}

// setup writes the fixed part of the table (upstream's setupNFTables). It runs on
// the first sync and after a failed one; it flushes only the fixed chains it
// rewrites, never the table.
func (p *Proxier) setup(tx *knftables.Transaction) {
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("rules for kube-proxy")})

	// Add+delete the base chains once, so a table left by another version with
	// different hooks or priorities is replaced instead of failing the transaction.
	if !p.baseChainsReset {
		for _, bc := range baseChains {
			tx.Add(&knftables.Chain{Name: bc.name})
			tx.Delete(&knftables.Chain{Name: bc.name})
		}
		p.baseChainsReset = true
	}
	for _, bc := range baseChains {
		c := &knftables.Chain{Name: bc.name, Type: knftables.PtrTo(bc.typ), Hook: knftables.PtrTo(bc.hook), Priority: knftables.PtrTo(bc.priority)}
		tx.Add(c)
		tx.Flush(c)
	}
	made := map[string]bool{}
	ensure := func(name string) {
		if !made[name] {
			made[name] = true
			tx.Add(&knftables.Chain{Name: name})
			tx.Flush(&knftables.Chain{Name: name})
		}
	}
	for _, j := range jumpChains {
		ensure(j.dst)
		tx.Add(&knftables.Rule{Chain: j.src, Rule: knftables.Concat(j.match, "jump", j.dst)})
	}

	tx.Add(&knftables.Set{Name: hairpinConnectionsSet, Type: "ipv4_addr . ipv4_addr . inet_proto . inet_service",
		Comment: knftables.PtrTo("service hairpin connections")})
	tx.Add(&knftables.Rule{Chain: masqueradingChain,
		Rule: knftables.Concat("mark and", masqueradeMark, "!= 0 mark set mark xor", masqueradeMark, "masquerade fully-random")})
	tx.Add(&knftables.Rule{Chain: masqueradingChain,
		Rule: "ct status dnat ip saddr . ip daddr . meta l4proto . th dport @" + hairpinConnectionsSet + " masquerade fully-random"})

	tx.Add(&knftables.Set{Name: clusterIPsSet, Type: "ipv4_addr", Comment: knftables.PtrTo("Active ClusterIPs")})
	tx.Add(&knftables.Rule{Chain: clusterIPsCheckChain, Rule: "ip daddr @" + clusterIPsSet + " reject",
		Comment: knftables.PtrTo("Reject traffic to invalid ports of ClusterIPs")})
	if p.serviceCIDR.IsValid() {
		tx.Add(&knftables.Rule{Chain: clusterIPsCheckChain, Rule: knftables.Concat("ip daddr {", p.serviceCIDR.String(), "} drop"),
			Comment: knftables.PtrTo("Drop traffic to unallocated ClusterIPs")})
	}

	// NodePorts are accepted on the node's primary IPs only (nftables mode's default).
	tx.Add(&knftables.Set{Name: nodePortIPsSet, Type: "ipv4_addr", Comment: knftables.PtrTo("IPs that accept NodePort traffic")})
	tx.Flush(&knftables.Set{Name: nodePortIPsSet})
	for _, ip := range p.nodeIPs {
		tx.Add(&knftables.Element{Set: nodePortIPsSet, Key: []string{ip.String()}})
	}

	tx.Add(&knftables.Map{Name: noEndpointServicesMap, Type: "ipv4_addr . inet_proto . inet_service : verdict",
		Comment: knftables.PtrTo("vmap to drop or reject packets to services with no endpoints")})
	tx.Add(&knftables.Map{Name: noEndpointNodePortsMap, Type: "inet_proto . inet_service : verdict",
		Comment: knftables.PtrTo("vmap to drop or reject packets to service nodeports with no endpoints")})
	tx.Add(&knftables.Chain{Name: rejectChain, Comment: knftables.PtrTo("helper for @no-endpoint-services / @no-endpoint-nodeports")})
	tx.Flush(&knftables.Chain{Name: rejectChain})
	tx.Add(&knftables.Rule{Chain: rejectChain, Rule: "reject"})
	tx.Add(&knftables.Rule{Chain: serviceEndpointsCheckChain, Rule: "ip daddr . meta l4proto . th dport vmap @" + noEndpointServicesMap})
	tx.Add(&knftables.Rule{Chain: nodePortEndpointsCheckChain,
		Rule: "ip daddr @" + nodePortIPsSet + " meta l4proto . th dport vmap @" + noEndpointNodePortsMap})

	tx.Add(&knftables.Map{Name: firewallIPsMap, Type: "ipv4_addr . inet_proto . inet_service : verdict",
		Comment: knftables.PtrTo("destinations that are subject to LoadBalancerSourceRanges")})
	tx.Add(&knftables.Rule{Chain: firewallCheckChain, Rule: "ip daddr . meta l4proto . th dport vmap @" + firewallIPsMap})

	tx.Add(&knftables.Map{Name: serviceIPsMap, Type: "ipv4_addr . inet_proto . inet_service : verdict",
		Comment: knftables.PtrTo("ClusterIP, ExternalIP and LoadBalancer IP traffic")})
	tx.Add(&knftables.Map{Name: serviceNodePortsMap, Type: "inet_proto . inet_service : verdict",
		Comment: knftables.PtrTo("NodePort traffic")})
	if p.clusterCIDR.IsValid() {
		// Off-cluster sources reaching a ClusterIP are masqueraded so the reply
		// comes back through this node; pod sources keep their address.
		tx.Add(&knftables.Rule{Chain: servicesChain,
			Rule:    knftables.Concat("ip daddr @"+clusterIPsSet, "ip saddr !=", p.clusterCIDR.String(), masqueradeRule),
			Comment: knftables.PtrTo("masquerade clusterIP traffic from outside cluster")})
	}
	tx.Add(&knftables.Rule{Chain: servicesChain, Rule: "ip daddr . meta l4proto . th dport vmap @" + serviceIPsMap})
	tx.Add(&knftables.Rule{Chain: servicesChain,
		Rule: "ip daddr @" + nodePortIPsSet + " meta l4proto . th dport vmap @" + serviceNodePortsMap})

	setupCounting(tx)
}

// ipv4Only keeps the usable IPv4 addresses (no loopback: nftables mode never
// accepts NodePorts on 127.0.0.1).
func ipv4Only(ips []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		if ip.Is4() && !ip.IsLoopback() {
			out = append(out, ip)
		}
	}
	return out
}
