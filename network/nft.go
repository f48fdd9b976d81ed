package network

import (
	"context"
	"fmt"
	"sync"

	"sigs.k8s.io/knftables"

	"podlab.dev/podlab/nsutil"
)

// NFT opens an nftables table inside the namespace at nsPath. knftables runs the nft
// command for every call, and a child process inherits the namespace of the thread
// that starts it, so every call switches the calling thread into the namespace first.
//
// knftables.New checks the nft binary and the kernel with two nft processes; a lab of
// ten nodes would pay twenty at start. The checks hold for every namespace of the
// machine, so one process keeps a few checked instances per table and the namespaces
// share them (an instance runs one nft at a time; a few let nodes sync in parallel).
func NFT(nsPath string, family knftables.Family, table string) (knftables.Interface, error) {
	inst, err := pooled(nsPath, family, table)
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", nsPath, err)
	}
	return &nsNFT{Interface: inst, path: nsPath}, nil
}

// nftPoolSize is how many nft commands of one table may run at once. Measured with 10
// nodes and 1,000 Services (scripts/bench/controlloop.sh): 4 instances made one apply
// wait 148-152 ms for every node's rules, 16 (one per node) 118-119 ms: labs of up to
// 16 nodes sync every node at once, bigger ones save the checks.
const nftPoolSize = 16

var nftPool struct {
	sync.Mutex
	m    map[string][]knftables.Interface
	next map[string]int
}

// pooled returns one of the checked instances for family and table, checking a new one
// (inside nsPath, where it will run) until the pool is full.
func pooled(nsPath string, family knftables.Family, table string) (knftables.Interface, error) {
	key := string(family) + " " + table
	nftPool.Lock()
	defer nftPool.Unlock()
	if nftPool.m == nil {
		nftPool.m, nftPool.next = map[string][]knftables.Interface{}, map[string]int{}
	}
	if insts := nftPool.m[key]; len(insts) == nftPoolSize {
		i := nftPool.next[key]
		nftPool.next[key] = (i + 1) % nftPoolSize
		return insts[i], nil
	}
	var nft knftables.Interface
	err := nsutil.Do(nsPath, func() error {
		var err error
		nft, err = knftables.New(family, table)
		return err
	})
	if err != nil {
		return nil, err
	}
	nftPool.m[key] = append(nftPool.m[key], nft)
	return nft, nil
}

// nsNFT runs every knftables call inside one namespace.
type nsNFT struct {
	knftables.Interface
	path string
}

func (n *nsNFT) do(fn func() error) error { return nsutil.Do(n.path, fn) }

func (n *nsNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	return n.do(func() error { return n.Interface.Run(ctx, tx) })
}

func (n *nsNFT) Check(ctx context.Context, tx *knftables.Transaction) error {
	return n.do(func() error { return n.Interface.Check(ctx, tx) })
}

func (n *nsNFT) ListAll(ctx context.Context) (out map[string][]string, err error) {
	err = n.do(func() error { out, err = n.Interface.ListAll(ctx); return err })
	return out, err
}

func (n *nsNFT) List(ctx context.Context, objectType string) (out []string, err error) {
	err = n.do(func() error { out, err = n.Interface.List(ctx, objectType); return err })
	return out, err
}

func (n *nsNFT) ListRules(ctx context.Context, chain string) (out []*knftables.Rule, err error) {
	err = n.do(func() error { out, err = n.Interface.ListRules(ctx, chain); return err })
	return out, err
}

func (n *nsNFT) ListElements(ctx context.Context, objectType, name string) (out []*knftables.Element, err error) {
	err = n.do(func() error { out, err = n.Interface.ListElements(ctx, objectType, name); return err })
	return out, err
}

func (n *nsNFT) ListCounters(ctx context.Context) (out []*knftables.Counter, err error) {
	err = n.do(func() error { out, err = n.Interface.ListCounters(ctx); return err })
	return out, err
}
