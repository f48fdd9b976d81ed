package proxy

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// Node is the identity of the node a Proxier programs.
type Node struct {
	Name string
	// IPs are the node's primary addresses; NodePorts are accepted on these only.
	IPs []netip.Addr
	// PodCIDR is this node's pod range (informational; masquerade decisions use
	// ClusterCIDR, as kube-proxy's --cluster-cidr does).
	PodCIDR netip.Prefix
	// ClusterCIDR is the cluster-wide pod range: sources outside it are
	// masqueraded when they reach a ClusterIP, and sources inside it are
	// short-circuited by externalTrafficPolicy Local. Zero: neither rule.
	ClusterCIDR netip.Prefix
	// ServiceCIDR is the Service range: packets to an unallocated address in it
	// are dropped. Zero: no such rule.
	ServiceCIDR netip.Prefix
}

// Proxier is one node's kube-proxy in nftables mode (IPv4). Sync may be called
// from several goroutines; calls are serialized.
type Proxier struct {
	nft         knftables.Interface
	nodeName    string
	nodeIPs     []netip.Addr
	clusterCIDR netip.Prefix
	serviceCIDR netip.Prefix
	names       nameCache

	mu              sync.Mutex
	needFullSync    bool
	assumeNew       bool // the first full sync need not read the table back
	baseChainsReset bool
	// What the table holds after the last successful sync.
	chains   map[string]string       // per-service chain -> content fingerprint
	sets     map[string]int          // affinity set -> timeout seconds
	counters map[string]counterOwner // named counter -> owner

	clusterIPs, serviceIPs, firewallIPs         *elementStore
	noEndpointServices, noEndpointNodePorts     *elementStore
	serviceNodePorts, hairpin, endpointCounters *elementStore

	// records are what each Service wanted in the last successful sync, by the
	// resourceVersions of the Service and its slices: an unchanged Service is replayed
	// from its record instead of being computed again (upstream's change tracking).
	records map[sliceKey]*serviceRecord
	rec     *serviceRecord // the record being written, during a Service's sync
	// refs counts the records that want each element, for incremental syncs.
	refs        map[elementRef]int
	incremental bool // the sync under way is syncChanged
	// maxTxOps is the size at which a sync commits what it has written so far and
	// goes on in a new transaction (see commitIfLarge); 0 means never.
	maxTxOps int
	// pickByRules: the table is large (more than ruleChoiceAbove Services), and
	// Service chains pick their endpoint with a rule each instead of a numgen map.
	pickByRules     bool
	ruleChoiceAbove int
}

// defaultMaxTxOps splits a large sync into transactions of about 1,000 Services. The
// kernel (6.18) looks for each new anonymous map (a Service chain's numgen map) by
// walking the transaction back and the table's list of sets, so one transaction of
// 10,000 Services costs it 38 s and ten of 1,000 cost 11-15 s (measured with nft -f;
// the README of this package has the figures). Without the maps (pickByRules) parts
// of this size are still the fastest: 0.9 s of kernel time for 10,000 Services,
// against 1.1-1.7 s in one transaction and 1.3-2.7 s in parts of 1,000-5,000
// operations.
const defaultMaxTxOps = 10000

// defaultRuleChoiceAbove is the number of Services above which Service chains pick
// their endpoint with one rule per endpoint (`numgen random mod 3 0 dnat to A`,
// `numgen random mod 2 0 dnat to B`, `dnat to C`) instead of upstream's anonymous
// map (`dnat ip addr . port to numgen random mod 3 map { 0 : A , 1 : B , 2 : C }`).
// The kernel (6.18) finds a new anonymous map by walking the table's list of sets,
// twice, so N maps cost N^2/2 walks: 0.3 s of kernel time for 1,000 Services, about
// 10 s for 10,000 (README.md), against 1 s for the rules. The choice is the same,
// uniform and once per connection. Below the limit the table is upstream's to the
// rule; the layout changes back only under 4/5 of it, so a table near the limit
// is not rewritten back and forth.
const defaultRuleChoiceAbove = 1000

// setupAloneAbove is the number of Services above which a new table's first sync
// commits the table's skeleton on its own before the Services: one nft process more,
// which saves nft's parsing of the first part (about 1,000 Services).
const setupAloneAbove = 500

// chooseLayout switches between the two ways of picking an endpoint as the number
// of Services crosses ruleChoiceAbove; a switch rewrites every Service chain (their
// records are dropped, so the sync recomputes them all).
func (p *Proxier) chooseLayout(services int) {
	limit := p.ruleChoiceAbove
	switch {
	case !p.pickByRules && services > limit:
		p.pickByRules = true
	case p.pickByRules && services <= limit*4/5:
		p.pickByRules = false
	default:
		return
	}
	p.records = nil
}

// commitIfLarge runs tx once it holds maxTxOps operations and returns a new, empty
// one; it is called between Services only, so each Service's chains, elements and
// counters still change in one transaction. What the table holds stays in our
// record only after the last transaction (finish): if any of them fails the next
// sync is a full one that reads the table back.
func (p *Proxier) commitIfLarge(ctx context.Context, tx *knftables.Transaction) (*knftables.Transaction, error) {
	if p.maxTxOps <= 0 || tx.NumOperations() < p.maxTxOps {
		return tx, nil
	}
	if err := p.nft.Run(ctx, tx); err != nil {
		p.failed()
		return nil, fmt.Errorf("proxy: sync table ip %s on node %s (a part of a large sync): %w", tableName, p.nodeName, err)
	}
	return p.nft.NewTransaction(), nil
}

// failed forgets what we thought the table holds: the next sync is a full one that
// reads the elements back and rewrites every chain.
func (p *Proxier) failed() {
	p.needFullSync = true
	p.records, p.refs = nil, nil
}

// serviceRecord is what one Service wanted of the table.
type serviceRecord struct {
	version  string
	chains   map[string]string
	sets     map[string]int
	counters map[string]counterOwner
	elements []elementRef
}

type elementRef struct {
	store *elementStore
	key   string
}

// version names the exact objects a Service's rules come from; "" when they carry no
// resourceVersion (then nothing is cached).
func version(svc *v1.Service, slices []*discoveryv1.EndpointSlice) string {
	if svc.ResourceVersion == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(svc.ResourceVersion)
	for _, sl := range slices {
		if sl.ResourceVersion == "" {
			return ""
		}
		b.WriteString("," + sl.Namespace + "/" + sl.Name + "@" + sl.ResourceVersion)
	}
	return b.String()
}

func allVersioned(svcs []*v1.Service, slices []*discoveryv1.EndpointSlice) bool {
	for _, s := range svcs {
		if s.ResourceVersion == "" {
			return false
		}
	}
	for _, s := range slices {
		if s.ResourceVersion == "" {
			return false
		}
	}
	return true
}

// syncChanged is a sync that touches only the Services whose object or slices
// changed and those that are gone: what they wanted before is released (elements
// no other Service wants become stale), then the changed ones are synced again.
// Its cost follows the change, not the number of Services.
func (p *Proxier) syncChanged(ctx context.Context, tx *knftables.Transaction, svcs []*v1.Service, idx map[sliceKey][]*discoveryv1.EndpointSlice) error {
	for _, s := range p.stores() {
		clear(s.leftover)
	}
	// What the table holds is changed in place (no copy of 10,000 chains and 30,000
	// counters per change); what release takes out is remembered in gone. If the
	// sync fails, the next one is a full one that reads the table back.
	st := &syncState{tableState: tableState{p.chains, p.sets, p.counters},
		gone: tableState{map[string]string{}, map[string]int{}, map[string]counterOwner{}}}
	records := make(map[sliceKey]*serviceRecord, len(svcs))
	var changed []*v1.Service
	versions := map[sliceKey]string{}
	for _, svc := range svcs {
		key := sliceKey{svc.Namespace, svc.Name}
		v := version(svc, idx[key])
		if old := p.records[key]; old != nil && old.version == v {
			records[key] = old
			continue
		}
		changed = append(changed, svc)
		versions[key] = v
	}
	for key, old := range p.records {
		if records[key] != old {
			p.release(st, old)
		}
	}
	for _, svc := range changed {
		var err error
		if tx, err = p.commitIfLarge(ctx, tx); err != nil {
			return err
		}
		key := sliceKey{svc.Namespace, svc.Name}
		p.rec = &serviceRecord{version: versions[key], chains: map[string]string{}, sets: map[string]int{}, counters: map[string]counterOwner{}}
		for _, sp := range servicePorts(svc) {
			p.syncServicePort(tx, st, sp, endpointsFor(sp, idx[key], p.nodeName))
		}
		for _, e := range p.rec.elements {
			p.refs[e]++
		}
		records[key] = p.rec
		p.rec = nil
	}
	return p.finish(ctx, tx, st, records)
}

// release gives up what a record wanted: its chains, sets and counters leave the
// wanted state, its elements become stale unless another record wants them.
func (p *Proxier) release(st *syncState, r *serviceRecord) {
	for n := range r.chains {
		if fp, ok := st.chains[n]; ok {
			st.gone.chains[n] = fp
			delete(st.chains, n)
		}
	}
	for n := range r.sets {
		if t, ok := st.sets[n]; ok {
			st.gone.sets[n] = t
			delete(st.sets, n)
		}
	}
	for n := range r.counters {
		if o, ok := st.counters[n]; ok {
			st.gone.counters[n] = o
			delete(st.counters, n)
		}
	}
	for _, e := range r.elements {
		if p.refs[e]--; p.refs[e] <= 0 {
			delete(p.refs, e)
			if _, ok := e.store.elements[e.key]; ok {
				e.store.leftover[e.key] = true
			}
		}
	}
}

// replay claims everything an unchanged Service wanted, as its sync would have.
func (p *Proxier) replay(st *syncState, r *serviceRecord) {
	for n, fp := range r.chains {
		st.chains[n] = fp
	}
	for n, t := range r.sets {
		st.sets[n] = t
	}
	for n, o := range r.counters {
		st.counters[n] = o
	}
	for _, e := range r.elements {
		e.store.keep(e.key)
	}
}

// New returns the Proxier of one node; nft must be bound to family ip, table
// kube-proxy (knftables.New(knftables.IPv4Family, "kube-proxy") or a Fake).
func New(nft knftables.Interface, node Node) *Proxier {
	mask := func(p netip.Prefix) netip.Prefix {
		if p.IsValid() && p.Addr().Is4() {
			return p.Masked()
		}
		return netip.Prefix{}
	}
	p := &Proxier{
		nft:                 nft,
		nodeName:            node.Name,
		nodeIPs:             ipv4Only(node.IPs),
		clusterCIDR:         mask(node.ClusterCIDR),
		serviceCIDR:         mask(node.ServiceCIDR),
		names:               nameCache{m: map[string]string{}},
		needFullSync:        true,
		maxTxOps:            defaultMaxTxOps,
		ruleChoiceAbove:     defaultRuleChoiceAbove,
		chains:              map[string]string{},
		sets:                map[string]int{},
		counters:            map[string]counterOwner{},
		clusterIPs:          newElementStore("set", clusterIPsSet),
		serviceIPs:          newElementStore("map", serviceIPsMap),
		firewallIPs:         newElementStore("map", firewallIPsMap),
		noEndpointServices:  newElementStore("map", noEndpointServicesMap),
		noEndpointNodePorts: newElementStore("map", noEndpointNodePortsMap),
		serviceNodePorts:    newElementStore("map", serviceNodePortsMap),
		hairpin:             newElementStore("set", hairpinConnectionsSet),
		endpointCounters:    newElementStore("map", endpointCountersMap),
	}
	for _, s := range p.stores() {
		s.onEnsure = p.recordElement
	}
	return p
}

// recordElement notes an element the Service being synced wants.
func (p *Proxier) recordElement(s *elementStore, key string) {
	if p.rec != nil {
		p.rec.elements = append(p.rec.elements, elementRef{s, key})
	}
}

func (p *Proxier) stores() []*elementStore {
	return []*elementStore{p.clusterIPs, p.serviceIPs, p.firewallIPs, p.noEndpointServices,
		p.noEndpointNodePorts, p.serviceNodePorts, p.hairpin, p.endpointCounters}
}

// AssumeNew tells the proxier that its table does not exist yet (the node's namespace
// was just made): the first sync writes it without listing chains, sets, counters and
// elements back, which costs a dozen nft processes per node. A later full sync (after
// a failure) reads the table back as usual.
func (p *Proxier) AssumeNew() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.assumeNew = true
}

// NeedsFullSync says whether the next sync reads the table back and rewrites it all.
func (p *Proxier) NeedsFullSync() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.needFullSync
}

// tableState is a set of the table's per-Service chains (with their content's
// fingerprint), affinity sets (with their timeout) and named counters.
type tableState struct {
	chains   map[string]string
	sets     map[string]int
	counters map[string]counterOwner
}

// syncState collects what this sync wants to exist. In an incremental sync it is
// the table's record itself (p.chains, p.sets, p.counters), changed in place, and
// gone holds what release took out of it, with the values the table still has
// (nil maps in a full sync).
type syncState struct {
	tableState
	gone tableState
}

// held is what the table holds under name (before this sync changed it): the value
// release took out, else the record's.
func held[V any](gone, table map[string]V, name string) (V, bool) {
	if v, ok := gone[name]; ok {
		return v, true
	}
	v, ok := table[name]
	return v, ok
}

// Sync makes the table match svcs and slices (the complete current lists, like an
// informer's cache). The first sync (and the one after a failure) writes
// everything; later ones rewrite only the chains whose content changed, add and
// delete only the changed map and set elements, and delete stale chains, sets and
// counters, all in one atomic transaction.
func (p *Proxier) Sync(ctx context.Context, svcs []*v1.Service, slices []*discoveryv1.EndpointSlice) error {
	p.mu.Lock()
	defer p.mu.Unlock()

	p.chooseLayout(len(svcs))
	tx := p.nft.NewTransaction()
	if p.needFullSync {
		p.setup(tx)
		if p.assumeNew { // nothing to read back: see AssumeNew
			p.assumeNew = false
			if len(svcs) > setupAloneAbove {
				// The table's skeleton alone (nft's: base chains, sets and maps),
				// so that the parts with the Services can go through netlink.
				if err := p.nft.Run(ctx, tx); err != nil {
					p.failed()
					return fmt.Errorf("proxy: create table ip %s on node %s: %w", tableName, p.nodeName, err)
				}
				tx = p.nft.NewTransaction()
			}
		} else if err := p.reloadState(ctx, tx); err != nil {
			return err
		}
	} else if p.records != nil && p.refs != nil && allVersioned(svcs, slices) {
		p.incremental = true
		defer func() { p.incremental = false }()
		return p.syncChanged(ctx, tx, svcs, indexSlices(slices))
	}
	for _, s := range p.stores() {
		s.startSync()
	}
	st := &syncState{tableState: tableState{
		chains:   make(map[string]string, len(p.chains)),
		sets:     make(map[string]int, len(p.sets)),
		counters: make(map[string]counterOwner, len(p.counters)),
	}}
	idx := indexSlices(slices)
	if p.needFullSync || p.records == nil {
		p.records = map[sliceKey]*serviceRecord{}
	}
	records := make(map[sliceKey]*serviceRecord, len(svcs))
	for _, svc := range svcs {
		key := sliceKey{svc.Namespace, svc.Name}
		svcSlices := idx[key]
		v := version(svc, svcSlices)
		if old := p.records[key]; v != "" && old != nil && old.version == v {
			p.replay(st, old)
			records[key] = old
			continue
		}
		ports := servicePorts(svc)
		if len(ports) == 0 {
			continue
		}
		var err error
		if tx, err = p.commitIfLarge(ctx, tx); err != nil {
			return err
		}
		p.rec = &serviceRecord{version: v, chains: map[string]string{}, sets: map[string]int{}, counters: map[string]counterOwner{}}
		for _, sp := range ports {
			p.syncServicePort(tx, st, sp, endpointsFor(sp, svcSlices, p.nodeName))
		}
		if v != "" {
			records[key] = p.rec
		}
		p.rec = nil
	}

	return p.finish(ctx, tx, st, records)
}

// finish removes what no Service wants any more, runs the transaction and, once it
// succeeded, makes st and records what the table holds.
func (p *Proxier) finish(ctx context.Context, tx *knftables.Transaction, st *syncState, records map[sliceKey]*serviceRecord) error {
	// Stale objects, in an order the kernel accepts: empty the chains, so nothing
	// refers to the affinity sets; drop the sets and the elements (which refer to
	// chains and counters); then the chains and counters themselves. (Upstream
	// waits a second before deleting chains because kernels before 6.2 noticed
	// the last reference going only later; podlab needs 6.2 or newer.)
	// What the table held and this sync does not want: in an incremental sync, what
	// release took out and no Service wanted again.
	was := tableState{p.chains, p.sets, p.counters}
	if st.gone.chains != nil {
		was = st.gone
	}
	var staleChains []string
	for name := range was.chains {
		if _, ok := st.chains[name]; !ok {
			staleChains = append(staleChains, name)
			tx.Flush(&knftables.Chain{Name: name})
		}
	}
	for name := range was.sets {
		if _, ok := st.sets[name]; !ok {
			tx.Delete(&knftables.Set{Name: name})
		}
	}
	for _, s := range p.stores() {
		s.cleanup(tx)
	}
	for _, name := range staleChains {
		tx.Delete(&knftables.Chain{Name: name})
	}
	for name := range was.counters {
		if _, ok := st.counters[name]; !ok {
			tx.Delete(&knftables.Counter{Name: name})
		}
	}

	if tx.NumOperations() > 0 {
		if err := p.nft.Run(ctx, tx); err != nil {
			p.failed() // our record of the table may now be wrong
			return fmt.Errorf("proxy: sync table ip %s on node %s: %w", tableName, p.nodeName, err)
		}
	}
	if p.refs == nil || !p.incremental {
		p.refs = map[elementRef]int{}
		for _, r := range records {
			for _, e := range r.elements {
				p.refs[e]++
			}
		}
	}
	p.needFullSync = false
	p.records = records
	p.chains, p.sets, p.counters = st.chains, st.sets, st.counters
	if len(p.names.m) > 2*(len(p.chains)+len(p.counters))+1024 {
		clear(p.names.m) // endpoints came and went; start over rather than grow
	}
	return nil
}

// reloadState forgets what we think the table holds and reads it back: existing
// per-service chains, affinity sets and counters are marked for rewrite (or
// deletion), elements are reloaded.
func (p *Proxier) reloadState(ctx context.Context, tx *knftables.Transaction) error {
	p.chains, p.sets, p.counters = map[string]string{}, map[string]int{}, map[string]counterOwner{}
	list := func(kind string) ([]string, error) {
		names, err := p.nft.List(ctx, kind)
		if err != nil && !knftables.IsNotFound(err) {
			return nil, fmt.Errorf("proxy: list %s of table ip %s: %w", kind, tableName, err)
		}
		return names, nil
	}
	chains, err := list("chains")
	if err != nil {
		return err
	}
	for _, c := range chains {
		if isServiceChainName(c) {
			p.chains[c] = "" // never equal to a real fingerprint: rewritten
		}
	}
	sets, err := list("sets")
	if err != nil {
		return err
	}
	for _, s := range sets {
		if strings.HasPrefix(s, affinitySetPrefix) {
			p.sets[s] = -1
		}
	}
	counters, err := list("counters")
	if err != nil {
		return err
	}
	maps, err := list("maps")
	if err != nil {
		return err
	}
	if slices.Contains(maps, legacyCountersMap) {
		// setup has flushed count-endpoints, its only user; its elements would keep
		// counters that are to be deleted busy.
		tx.Delete(&knftables.Map{Name: legacyCountersMap})
	}
	for _, c := range counters {
		if isServiceChainName(c) {
			p.counters[c] = counterOwner{}
		}
	}
	for _, s := range p.stores() {
		s.reload(ctx, tx, p.nft)
	}
	return nil
}

// nameCache memoizes the hashed chain-name bases: hashing is the costliest part of
// computing a large ruleset, and the names of a Service never change.
type nameCache struct{ m map[string]string }

func (c *nameCache) service(sp *servicePort) string {
	k := sp.namespace + "/" + sp.name + "/" + sp.protocol + "/" + sp.portName
	if v, ok := c.m[k]; ok {
		return v
	}
	v := servicePortChainBase(sp.namespace, sp.name, sp.protocol, sp.portName)
	c.m[k] = v
	return v
}

func (c *nameCache) endpoint(sp *servicePort, ep *endpoint) string {
	k := sp.namespace + "/" + sp.name + "/" + sp.protocol + "/" + sp.portName + "__" + ep.key
	if v, ok := c.m[k]; ok {
		return v
	}
	v := endpointChainBase(sp.namespace, sp.name, sp.protocol, sp.portName, ep.ip.String(), ep.port)
	c.m[k] = v
	return v
}
