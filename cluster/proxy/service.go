package proxy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/knftables"
)

// chainSpec is the wanted content of one per-service chain.
type chainSpec struct {
	name  string
	rules []*knftables.Rule
}

// fingerprint identifies a chain's content; equal fingerprints mean the chain in
// the kernel needs no rewrite.
func (c *chainSpec) fingerprint(extra string) string {
	var b strings.Builder
	b.WriteString(extra)
	for _, r := range c.rules {
		b.WriteString("\n")
		b.WriteString(r.Rule)
		if r.Comment != nil {
			b.WriteString(" #")
			b.WriteString(*r.Comment)
		}
	}
	return b.String()
}

func (c *chainSpec) add(rule string, comment string) {
	r := &knftables.Rule{Chain: c.name, Rule: rule}
	if comment != "" {
		r.Comment = &comment
	}
	c.rules = append(c.rules, r)
}

// syncServicePort writes one service port into tx, following upstream's
// syncProxyRules loop body: chains first (elements refer to them), then affinity
// sets, then map and set elements, then the rules of chains whose content changed.
func (p *Proxier) syncServicePort(tx *knftables.Transaction, st *syncState, sp *servicePort, eps []*endpoint) {
	proto, port := sp.protocol, strconv.Itoa(sp.port)
	comment := truncateComment(sp.nameString)
	base := p.names.service(sp)
	clusterChain := clusterChainPrefix + base
	localChain := localChainPrefix + base
	externalChain := externalChainPrefix + base
	fwChain := firewallChainPrefix + base

	cluster, local, reachable, hasEndpoints := categorize(eps, sp)
	affinity := sp.affinitySeconds > 0

	var chains []*chainSpec
	newChain := func(name string) *chainSpec {
		c := &chainSpec{name: name}
		chains = append(chains, c)
		return c
	}

	usesCluster := len(cluster) > 0 && sp.usesClusterEndpoints()
	usesLocal := len(local) > 0 && sp.usesLocalEndpoints()

	internalChain, hasInternal := clusterChain, hasEndpoints
	if sp.internalLocal {
		internalChain = localChain
		hasInternal = hasInternal && len(local) > 0
	}
	externalPolicyChain, hasExternal := clusterChain, hasEndpoints
	if sp.externalLocal {
		externalPolicyChain = localChain
		hasExternal = hasExternal && len(local) > 0
	}
	usesExternal := hasEndpoints && sp.externallyAccessible()
	usesFW := len(sp.lbVIPs) > 0 && len(sp.sourceRanges) > 0

	internalVerdict, externalVerdict := "", ""
	if !hasEndpoints {
		internalVerdict, externalVerdict = "goto "+rejectChain, "goto "+rejectChain
	} else {
		if !hasInternal {
			internalVerdict = "drop"
		}
		if !hasExternal {
			externalVerdict = "drop"
		}
	}

	// Chains, in the order upstream creates them.
	epNames := map[*endpoint]string{}
	for _, ep := range reachable {
		epNames[ep] = p.names.endpoint(sp, ep)
	}
	if affinity {
		for _, ep := range reachable {
			c := newChain(endpointChainPrefix + epNames[ep])
			c.add("update @"+affinitySetPrefix+epNames[ep]+" { ip saddr }", "")
			c.add("meta l4proto "+proto+" dnat to "+ep.key, "")
		}
	}
	if usesCluster {
		p.writeEndpointChoice(newChain(clusterChain), sp, cluster, epNames)
	}
	if usesLocal {
		p.writeEndpointChoice(newChain(localChain), sp, local, epNames)
	}
	if usesExternal {
		c := newChain(externalChain)
		if !sp.externalLocal {
			c.add(masqueradeRule, "masquerade")
		} else {
			if p.clusterCIDR.IsValid() {
				c.add("ip saddr "+p.clusterCIDR.String()+" goto "+clusterChain, "short-circuit pod traffic")
			}
			c.add("fib saddr type local "+masqueradeRule, "masquerade local traffic")
			c.add("fib saddr type local goto "+clusterChain, "short-circuit local traffic")
		}
		if hasExternal {
			c.add("goto "+externalPolicyChain, "")
		}
	}
	if usesFW {
		c := newChain(fwChain)
		var sources []string
		allowFromNode := false
		for _, cidr := range sp.sourceRanges {
			sources = append(sources, cidr.String())
			if len(p.nodeIPs) > 0 && cidr.Contains(p.nodeIPs[0]) {
				allowFromNode = true
			}
		}
		if allowFromNode {
			for _, ip := range sp.lbVIPs {
				sources = append(sources, ip.String())
			}
		}
		c.add("ip saddr != { "+strings.Join(sources, " , ")+" } drop", "")
	}

	affinityExtra := ""
	if affinity {
		affinityExtra = "timeout=" + strconv.Itoa(sp.affinitySeconds)
	}
	var changed []*chainSpec
	for _, c := range chains {
		fp := c.fingerprint(affinityExtra)
		old, holds := held(st.gone.chains, p.chains, c.name)
		st.chains[c.name] = fp
		if p.rec != nil {
			p.rec.chains[c.name] = fp
		}
		if holds && old == fp {
			continue
		}
		tx.Add(&knftables.Chain{Name: c.name})
		tx.Flush(&knftables.Chain{Name: c.name})
		changed = append(changed, c)
	}
	if affinity {
		for _, ep := range reachable {
			name := affinitySetPrefix + epNames[ep]
			old, ok := held(st.gone.sets, p.sets, name)
			st.sets[name] = sp.affinitySeconds
			if p.rec != nil {
				p.rec.sets[name] = sp.affinitySeconds
			}
			if ok && old == sp.affinitySeconds {
				continue
			}
			if ok {
				tx.Delete(&knftables.Set{Name: name})
			}
			tx.Add(&knftables.Set{Name: name, Type: "ipv4_addr",
				Flags:   []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag},
				Timeout: knftables.PtrTo(time.Duration(sp.affinitySeconds) * time.Second)})
		}
	}

	// Hairpin: a local endpoint reaching itself through the Service is masqueraded.
	for _, ep := range reachable {
		if ep.local {
			p.hairpin.ensure(tx, []string{ep.ip.String(), ep.ip.String(), proto, strconv.Itoa(ep.port)}, nil, "")
		}
	}

	p.clusterIPs.ensure(tx, []string{sp.clusterIP.String()}, nil, "")
	if hasInternal {
		p.serviceIPs.ensure(tx, []string{sp.clusterIP.String(), proto, port}, []string{"goto " + internalChain}, "")
	} else {
		p.noEndpointServices.ensure(tx, []string{sp.clusterIP.String(), proto, port}, []string{internalVerdict}, comment)
	}
	for _, ip := range sp.externalIPs {
		if hasEndpoints {
			p.serviceIPs.ensure(tx, []string{ip.String(), proto, port}, []string{"goto " + externalChain}, "")
		}
		if !hasExternal {
			p.noEndpointServices.ensure(tx, []string{ip.String(), proto, port}, []string{externalVerdict}, comment)
		}
	}
	for _, ip := range sp.lbVIPs {
		if hasEndpoints {
			p.serviceIPs.ensure(tx, []string{ip.String(), proto, port}, []string{"goto " + externalChain}, "")
		}
		if usesFW {
			p.firewallIPs.ensure(tx, []string{ip.String(), proto, port}, []string{"goto " + fwChain}, "")
		}
	}
	if !hasExternal {
		for _, ip := range sp.lbVIPs {
			p.noEndpointServices.ensure(tx, []string{ip.String(), proto, port}, []string{externalVerdict}, comment)
		}
	}
	if sp.nodePort != 0 {
		np := strconv.Itoa(sp.nodePort)
		if hasEndpoints {
			p.serviceNodePorts.ensure(tx, []string{proto, np}, []string{"goto " + externalChain}, "")
		}
		if !hasExternal {
			p.noEndpointNodePorts.ensure(tx, []string{proto, np}, []string{externalVerdict}, comment)
		}
	}
	p.countEndpoints(tx, st, sp, reachable, epNames, hasInternal, hasEndpoints)

	for _, c := range changed {
		for _, r := range c.rules {
			tx.Add(r)
		}
	}
}

// writeEndpointChoice fills a policy chain: without affinity it DNATs directly
// (one endpoint: a plain dnat; several: a numgen-indexed map); with affinity it
// first sends known clients to their endpoint chain, then picks one at random.
// In a large table (pickByRules) the random pick is a rule per endpoint instead of
// an anonymous map: see ruleChoiceAbove.
func (p *Proxier) writeEndpointChoice(c *chainSpec, sp *servicePort, eps []*endpoint, epNames map[*endpoint]string) {
	if sp.affinitySeconds == 0 {
		if len(eps) == 1 {
			c.add("meta l4proto "+sp.protocol+" dnat to "+eps[0].key, "")
			return
		}
		if p.pickByRules {
			for i, ep := range eps {
				c.add("meta l4proto "+sp.protocol+" "+pickOneIn(len(eps)-i)+"dnat to "+ep.key, "")
			}
			return
		}
		elems := make([]string, len(eps))
		for i, ep := range eps {
			elems[i] = fmt.Sprintf("%d : %s . %d", i, ep.ip, ep.port)
		}
		c.add(fmt.Sprintf("meta l4proto %s dnat ip addr . port to numgen random mod %d map { %s }",
			sp.protocol, len(eps), strings.Join(elems, " , ")), "")
		return
	}
	for _, ep := range eps {
		name := epNames[ep]
		c.add("ip saddr @"+affinitySetPrefix+name+" goto "+endpointChainPrefix+name, "")
	}
	if p.pickByRules {
		for i, ep := range eps {
			c.add(pickOneIn(len(eps)-i)+"goto "+endpointChainPrefix+epNames[ep], "")
		}
		return
	}
	elems := make([]string, len(eps))
	for i, ep := range eps {
		elems[i] = fmt.Sprintf("%d : goto %s%s", i, endpointChainPrefix, epNames[ep])
	}
	c.add(fmt.Sprintf("numgen random mod %d vmap { %s }", len(eps), strings.Join(elems, " , ")), "")
}

// pickOneIn is the match of a rule taken with probability 1/n: the i-th of n
// endpoints' rule (from 0) matches one draw in n-i of the connections that reach it,
// so each endpoint gets 1/n, as iptables mode's `-m statistic --probability` chain.
// The last rule (n = 1) matches all that is left.
func pickOneIn(n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf("numgen random mod %d 0 ", n)
}
