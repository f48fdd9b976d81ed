package netpol

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/knftables"
)

// TableName is the table the Enforcer owns in each node: `ip podlab-netpol`. It never
// touches any other table (kube-proxy's DNAT in `ip kube-proxy` runs before it, see
// README.md), routes, links or conntrack, and never reads the object store: its caller
// hands it the node's PodRules on every Sync.
const TableName = "podlab-netpol"

const (
	forwardChain   = "forward"
	ingressPodsMap = "ingress-pods"
	egressPodsMap  = "egress-pods"
	// forwardPriority runs after kube-proxy's DNAT (prerouting, dstnat = -100: the
	// forward hook always sees the post-DNAT packet) and after kube-proxy's own
	// filter-forward (filter = 0), so a packet kube-proxy rejects (a Service without
	// endpoints) is not counted as a policy drop.
	forwardPriority = knftables.FilterPriority + "+10"
)

// Options are a node's enforcement settings.
type Options struct {
	// Node names the node in errors.
	Node string
	// EnforceEstablished makes policy changes cut connections already open: instead
	// of accepting every packet of an established connection, only replies (and
	// related ICMP) skip the policy, and every packet in the original direction is
	// judged again. Off (the default), established flows keep flowing after a policy
	// change, as in Calico and Cilium.
	EnforceEstablished bool
	// LogDrops adds a rate-limited `log` before every default-deny drop (the verdict
	// log): to nflog group LogGroup when it is not 0, else to the kernel log. The
	// prefix is the drop counter's name (LogPrefix, ParseLogPrefix).
	LogDrops bool
	// LogAllows adds one before every rule that allows, prefixed with the rule's
	// counter name (its policy and rule index).
	LogAllows bool
	LogGroup  uint16
	// LogRate is nft's limit for each log rule (per pod and direction for drops, per
	// pod and port entry for allows); "10/second" if empty.
	LogRate string
}

// Enforcer programs one node's pods' NetworkPolicy rules into TableName. Sync may be
// called from several goroutines; calls are serialized.
type Enforcer struct {
	nft knftables.Interface
	opt Options

	mu           sync.Mutex
	needFullSync bool
	assumeNew    bool
	base         string // the options the forward chain was written with; "" = not written

	// What the table holds after the last successful sync.
	chains   map[string]string          // per-pod chain -> its rules, joined
	sets     map[string]map[string]bool // peer set -> elements
	counters map[string]string          // named counter -> Counters key
	vmaps    map[string]map[string]string
}

// New returns the Enforcer of one node; nft must be bound to family ip, table
// TableName (network.NFT(nsPath, knftables.IPv4Family, netpol.TableName) in a node,
// or a knftables.Fake).
func New(nft knftables.Interface, opt Options) *Enforcer {
	if opt.LogRate == "" {
		opt.LogRate = "10/second"
	}
	e := &Enforcer{nft: nft, opt: opt, needFullSync: true}
	e.forget()
	return e
}

func (e *Enforcer) forget() {
	e.chains, e.sets, e.counters = map[string]string{}, map[string]map[string]bool{}, map[string]string{}
	e.vmaps = map[string]map[string]string{ingressPodsMap: {}, egressPodsMap: {}}
	e.base = ""
}

// AssumeNew tells the Enforcer that its table does not exist yet (the node's namespace
// was just made): the first sync writes it without deleting an old one first. No sync
// ever reads the table back: a full sync (the first, or the one after a failure)
// replaces the whole table in its transaction.
func (e *Enforcer) AssumeNew() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.assumeNew = true
}

// SetEnforceEstablished switches Options.EnforceEstablished; the next Sync rewrites
// the forward chain (one flush and four rules).
func (e *Enforcer) SetEnforceEstablished(on bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.opt.EnforceEstablished = on
}

// Sync makes the table enforce rules, the node's pods (the complete current list).
// The first sync writes the whole table; later ones add and delete only the set and
// map elements, chains and counters that changed, in one atomic transaction.
func (e *Enforcer) Sync(ctx context.Context, rules []PodRules) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	want, err := e.desired(rules)
	if err != nil {
		return fmt.Errorf("netpol: node %s: %w", e.opt.Node, err)
	}
	tx := e.nft.NewTransaction()
	if e.needFullSync {
		e.forget()
		tx.Add(&knftables.Table{Comment: knftables.PtrTo("podlab: NetworkPolicy enforcement")})
		if !e.assumeNew {
			tx.Delete(&knftables.Table{}) // whatever an older podlab left, atomically replaced
			tx.Add(&knftables.Table{Comment: knftables.PtrTo("podlab: NetworkPolicy enforcement")})
		}
		for _, m := range []string{ingressPodsMap, egressPodsMap} {
			tx.Add(&knftables.Map{Name: m, Type: "ipv4_addr : verdict",
				Comment: knftables.PtrTo("podlab: isolated pods' " + strings.TrimSuffix(m, "-pods") + " chains, by pod IP")})
		}
	}
	e.apply(tx, want)
	if tx.NumOperations() == 0 {
		return nil
	}
	if err := e.nft.Run(ctx, tx); err != nil {
		e.needFullSync = true
		return fmt.Errorf("netpol: sync table ip %s on node %s: %w", TableName, e.opt.Node, err)
	}
	e.needFullSync, e.assumeNew = false, false
	e.chains, e.sets, e.counters, e.vmaps = want.chains, want.sets, want.counters, want.vmaps
	e.base = want.base
	return nil
}

// state is what the table holds, or should.
type state struct {
	base         string
	chains       map[string]string
	chainRules   map[string][]string
	chainComment map[string]string
	sets         map[string]map[string]bool
	setComment   map[string]string
	setContent   map[string]string // set key -> fingerprint of its elements (sharing check)
	counters     map[string]string
	vmaps        map[string]map[string]string
}

// apply writes the difference between the table and want, in an order the kernel
// accepts: counters and sets before the rules that name them, chains before the map
// elements that jump to them; stale elements before the chains they jump to, stale
// chains emptied before the sets and counters they name are deleted.
func (e *Enforcer) apply(tx *knftables.Transaction, want *state) {
	if e.base != want.base {
		e.writeForward(tx)
	}
	for name := range want.counters {
		if _, ok := e.counters[name]; !ok {
			tx.Add(&knftables.Counter{Name: name})
		}
	}
	for name, elems := range want.sets {
		have, ok := e.sets[name]
		if !ok {
			tx.Add(&knftables.Set{Name: name, Type: "ipv4_addr", Flags: []knftables.SetFlag{knftables.IntervalFlag},
				Comment: knftables.PtrTo(want.setComment[name])})
		}
		for _, el := range slices.Sorted(maps.Keys(elems)) { // sorted: the Fake keeps the order
			if !have[el] {
				tx.Add(&knftables.Element{Set: name, Key: []string{el}})
			}
		}
		for el := range have {
			if !elems[el] {
				tx.Delete(&knftables.Element{Set: name, Key: []string{el}})
			}
		}
	}
	for name, content := range want.chains {
		old, ok := e.chains[name]
		if ok && old == content {
			continue
		}
		c := &knftables.Chain{Name: name, Comment: knftables.PtrTo(want.chainComment[name])}
		tx.Add(c)
		if ok {
			tx.Flush(c)
		}
		for _, r := range want.chainRules[name] {
			tx.Add(&knftables.Rule{Chain: name, Rule: r})
		}
	}
	for m, elems := range want.vmaps {
		have := e.vmaps[m]
		for k, v := range have {
			if nv, ok := elems[k]; !ok || nv != v {
				tx.Delete(&knftables.Element{Map: m, Key: []string{k}})
			}
		}
		for _, k := range slices.Sorted(maps.Keys(elems)) {
			if old, ok := have[k]; !ok || old != elems[k] {
				tx.Add(&knftables.Element{Map: m, Key: []string{k}, Value: []string{elems[k]}})
			}
		}
	}
	stale := gone(e.chains, want.chains)
	for _, name := range stale {
		tx.Flush(&knftables.Chain{Name: name})
	}
	for _, name := range gone(e.sets, want.sets) {
		tx.Delete(&knftables.Set{Name: name})
	}
	for _, name := range stale {
		tx.Delete(&knftables.Chain{Name: name})
	}
	for _, name := range gone(e.counters, want.counters) {
		tx.Delete(&knftables.Counter{Name: name})
	}
}

// gone lists, sorted, the names in have that want lacks.
func gone[V, W any](have map[string]V, want map[string]W) []string {
	var out []string
	for name := range have {
		if _, ok := want[name]; !ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// writeForward (re)writes the one base chain: on a full sync (the table is new) and
// when EnforceEstablished changed.
func (e *Enforcer) writeForward(tx *knftables.Transaction) {
	c := &knftables.Chain{Name: forwardChain, Type: knftables.PtrTo(knftables.FilterType),
		Hook: knftables.PtrTo(knftables.ForwardHook), Priority: knftables.PtrTo(knftables.BaseChainPriority(forwardPriority)),
		Comment: knftables.PtrTo("podlab: NetworkPolicy of this node's pods, on the post-DNAT packet")}
	tx.Add(c)
	tx.Flush(c)
	for _, r := range forwardRules(e.opt.EnforceEstablished) {
		tx.Add(&knftables.Rule{Chain: forwardChain, Rule: r})
	}
}

func forwardRules(enforceEstablished bool) []string {
	conntrack := []string{"ct state established,related accept"}
	if enforceEstablished {
		conntrack = []string{"ct direction reply accept", "ct state related accept"}
	}
	return append(conntrack,
		"ip saddr vmap @"+egressPodsMap,  // an allowed egress returns here...
		"ip daddr vmap @"+ingressPodsMap) // ...to be judged by the destination's ingress
}

// direction is what differs between the two directions of a pod's chain.
type direction struct {
	name      string // "ingress" or "egress"
	pod, peer string // the packet's fields holding the pod's and the peer's address
	allow     string // an allowed egress must still pass the destination's ingress
	vmap      string
	dispatch  string // jump or goto, from the vmap
}

var (
	ingress = direction{"ingress", "ip daddr", "ip saddr", "accept", ingressPodsMap, "goto"}
	egress  = direction{"egress", "ip saddr", "ip daddr", "return", egressPodsMap, "jump"}
)

// desired computes the table rules asks for.
func (e *Enforcer) desired(rules []PodRules) (*state, error) {
	st := &state{
		base:   fmt.Sprintf("established=%v", e.opt.EnforceEstablished),
		chains: map[string]string{}, chainRules: map[string][]string{}, chainComment: map[string]string{},
		sets: map[string]map[string]bool{}, setComment: map[string]string{}, setContent: map[string]string{},
		counters: map[string]string{},
		vmaps:    map[string]map[string]string{ingressPodsMap: {}, egressPodsMap: {}},
	}
	for i := range rules {
		pr := &rules[i]
		if !pr.IP.IsValid() || !pr.IP.Is4() {
			continue // no address yet: no traffic to judge
		}
		if pr.IngressIsolated {
			if err := st.podChain(e.opt, pr, ingress, pr.Ingress); err != nil {
				return nil, err
			}
		}
		if pr.EgressIsolated {
			if err := st.podChain(e.opt, pr, egress, pr.Egress); err != nil {
				return nil, err
			}
		}
	}
	return st, nil
}

// podChain adds one isolated pod's chain for d, its peer sets and counters, and the
// map element that dispatches to it.
func (st *state) podChain(opt Options, pr *PodRules, d direction, rules []Rule) error {
	pod := pr.Namespace + "/" + pr.Name
	ip := pr.IP.String()
	if _, taken := st.vmaps[d.vmap][ip]; taken {
		return nil // two pods with one address: the first (Compile's order) wins
	}
	chain := objectName(d.name, pod, "")
	// A pod talking to itself (hairpin through its own Service) is always allowed.
	out := []string{knftables.Concat(d.peer, ip, d.allow)}
	for _, r := range rules {
		peer := ""
		if len(r.Peers) > 0 {
			set, err := st.peerSet(d, r)
			if err != nil {
				return fmt.Errorf("pod %s, %s rule %d of %s: %w", pod, d.name, r.Index, r.Policy, err)
			}
			peer = d.peer + " @" + set
		}
		counter := objectName("allow", d.name+"/"+r.Policy+"/"+strconv.Itoa(r.Index), "")
		st.counters[counter] = "allow/" + d.name + "/" + r.Policy + "/" + strconv.Itoa(r.Index)
		ports, err := portMatches(r.Ports)
		if err != nil {
			return fmt.Errorf("pod %s, %s rule %d of %s: %w", pod, d.name, r.Index, r.Policy, err)
		}
		for _, p := range ports {
			if opt.LogAllows { // a rule of its own: a limit over its rate ends the rule
				out = append(out, strings.Join(strings.Fields(knftables.Concat(peer, p, logStatement(opt, counter))), " "))
			}
			out = append(out, strings.Join(strings.Fields(knftables.Concat(peer, p, "counter name", counter, d.allow)), " "))
		}
	}
	drop := objectName("drop", d.name+"/"+pod, "")
	st.counters[drop] = "drop/" + d.name + "/" + pod
	if opt.LogDrops {
		out = append(out, logStatement(opt, drop))
	}
	out = append(out, knftables.Concat("counter name", drop, "drop"))
	st.chains[chain] = strings.Join(out, "\n")
	st.chainRules[chain] = out
	st.chainComment[chain] = "podlab: " + d.name + " of pod " + pod
	st.vmaps[d.vmap][ip] = d.dispatch + " " + chain
	return nil
}

// peerSet returns the set of a rule's peers. Every pod a policy selects gets the same
// rule, so the set is shared, named by the policy, direction, rule index and ports: a
// pod's label change then adds or deletes one element per set, and no chain changes.
func (st *state) peerSet(d direction, r Rule) (string, error) {
	elems, err := peerElements(r.Peers)
	if err != nil {
		return "", err
	}
	fp := strings.Join(elems, ",")
	key := d.name + "/" + r.Policy + "/" + strconv.Itoa(r.Index)
	ports := fmt.Sprint(r.Ports)
	name := objectName("peers", key, ports)
	if old, ok := st.setContent[name]; ok && old != fp {
		// The same rule resolved to other peers for another pod (not expected from
		// Compile): a set of its own, named by its content.
		name = objectName("peers", key, ports+"/"+fp)
	}
	if _, ok := st.sets[name]; !ok {
		m := make(map[string]bool, len(elems))
		for _, el := range elems {
			m[el] = true
		}
		st.sets[name] = m
		st.setContent[name] = fp
		st.setComment[name] = "podlab: peers of " + d.name + " rule " + strconv.Itoa(r.Index) + " of " + r.Policy
	}
	return name, nil
}

// portMatches returns one match per port entry ("" = every port and protocol).
func portMatches(ports []Port) ([]string, error) {
	if len(ports) == 0 {
		return []string{""}, nil
	}
	var out []string
	for _, p := range ports {
		proto := strings.ToLower(p.Protocol)
		switch proto {
		case "":
			proto = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return nil, fmt.Errorf("protocol %q: want TCP, UDP or SCTP", p.Protocol)
		}
		m := "meta l4proto " + proto
		switch {
		case p.Port == 0:
		case p.EndPort > p.Port:
			m += fmt.Sprintf(" th dport %d-%d", p.Port, p.EndPort)
		default:
			m += fmt.Sprintf(" th dport %d", p.Port)
		}
		out = append(out, m)
	}
	return out, nil
}
