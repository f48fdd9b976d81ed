package network

import (
	"context"
	"fmt"

	"sigs.k8s.io/knftables"

	"podlab.dev/podlab/nsutil"
)

// NFT opens an nftables table inside the namespace at nsPath. knftables runs the nft
// command for every call, and a child process inherits the namespace of the thread
// that starts it, so every call switches the calling thread into the namespace first.
func NFT(nsPath string, family knftables.Family, table string) (knftables.Interface, error) {
	var nft knftables.Interface
	err := nsutil.Do(nsPath, func() error {
		var err error
		nft, err = knftables.New(family, table)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("nftables in %s: %w", nsPath, err)
	}
	return &nsNFT{Interface: nft, path: nsPath}, nil
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
