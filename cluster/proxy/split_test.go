package proxy

import (
	"context"
	"errors"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// runCounter counts the transactions run and can fail the n-th one.
type runCounter struct {
	*knftables.Fake
	runs, failAt int
}

func (r *runCounter) Run(ctx context.Context, tx *knftables.Transaction) error {
	r.runs++
	if r.runs == r.failAt {
		return errors.New("injected failure")
	}
	return r.Fake.Run(ctx, tx)
}

// A sync larger than maxTxOps is committed in parts and ends with exactly the
// table one transaction writes: the full sync, a change of many Services at once
// (syncChanged) and the removal of most of them.
func TestLargeSyncSplit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		versioned bool
	}{{"versioned", true}, {"unversioned", false}} {
		t.Run(tc.name, func(t *testing.T) {
			svcs, slices := bigCluster(200)
			if tc.versioned {
				versioned(svcs, slices)
			}
			nft := &runCounter{Fake: knftables.NewFake(knftables.IPv4Family, tableName)}
			p := New(nft, testNode)
			p.maxTxOps = 100
			steps := []struct {
				svcs   []*v1.Service
				slices []*discoveryv1.EndpointSlice
			}{{svcs[:20], slices[:20]}, {svcs, slices}, {svcs[150:], slices[150:]}}
			for i, st := range steps {
				runs := nft.runs
				mustSync(t, p, st.svcs, st.slices)
				one, single := newFakeProxier()
				mustSync(t, single, st.svcs, st.slices)
				assertRuleset(t, one.Dump(), nft.Dump(), false)
				if i == 1 && nft.runs-runs < 5 {
					t.Errorf("step %d: 180 new Services in %d transactions, want them split", i, nft.runs-runs)
				}
			}
		})
	}
}

// A failed part makes the next sync a full one, which repairs the table.
func TestLargeSyncPartFails(t *testing.T) {
	svcs, slices := bigCluster(100)
	versioned(svcs, slices)
	nft := &runCounter{Fake: knftables.NewFake(knftables.IPv4Family, tableName), failAt: 3}
	p := New(nft, testNode)
	p.maxTxOps = 100
	if err := p.Sync(context.Background(), svcs, slices); err == nil {
		t.Fatal("a sync whose third part failed succeeded")
	}
	if !p.NeedsFullSync() {
		t.Fatal("a failed part did not ask for a full sync")
	}
	mustSync(t, p, svcs, slices)
	one, single := newFakeProxier()
	mustSync(t, single, svcs, slices)
	assertRuleset(t, one.Dump(), nft.Dump(), false)
}

// A new table's first sync of many Services commits the skeleton alone (so that
// the parts with Services can go through netlink) and ends as one transaction
// writes the table; a part that fails is repaired by the next sync.
func TestNewLargeTableSkeletonFirst(t *testing.T) {
	svcs, slices := bigCluster(setupAloneAbove + 100)
	versioned(svcs, slices)
	for _, failAt := range []int{0, 3} {
		nft := &firstWatcher{runCounter: runCounter{Fake: knftables.NewFake(knftables.IPv4Family, tableName), failAt: failAt}}
		p := New(nft, testNode)
		p.maxTxOps = 1000
		p.AssumeNew()
		err := p.Sync(context.Background(), svcs, slices)
		if failAt > 0 {
			if err == nil {
				t.Fatal("a sync whose third part failed succeeded")
			}
			mustSync(t, p, svcs, slices)
		} else if err != nil {
			t.Fatal(err)
		}
		one, single := newFakeProxier()
		mustSync(t, single, svcs, slices)
		assertRuleset(t, one.Dump(), nft.Dump(), false)
		if !strings.Contains(nft.first, "add table") || strings.Contains(nft.first, "dnat to") || strings.Contains(nft.first, "add element ip kube-proxy service-ips") {
			t.Errorf("the first transaction is not the skeleton alone:\n%s", nft.first)
		}
	}
}

// firstWatcher keeps the first transaction's text.
type firstWatcher struct {
	runCounter
	first string
}

func (f *firstWatcher) Run(ctx context.Context, tx *knftables.Transaction) error {
	if f.first == "" {
		f.first = tx.String()
	}
	return f.runCounter.Run(ctx, tx)
}

// An incremental sync changes the proxier's record of the table in place: when its
// transaction fails, the next sync still repairs the table to what a fresh proxier
// writes (it reads the table back), whatever the failed one had changed.
func TestIncrementalFailureRepaired(t *testing.T) {
	svcs, slices := bigCluster(20)
	versioned(svcs, slices)
	nft := &runCounter{Fake: knftables.NewFake(knftables.IPv4Family, tableName)}
	p := New(nft, testNode)
	mustSync(t, p, svcs, slices)
	changed := append([]*discoveryv1.EndpointSlice(nil), slices...)
	changed[3] = webSlice("svc-3", "10.0.0.3", "10.0.9.3")
	changed[3].ResourceVersion = "900"
	nft.failAt = nft.runs + 1
	if err := p.Sync(context.Background(), svcs[1:], changed[1:]); err == nil {
		t.Fatal("the failing sync succeeded")
	}
	for _, step := range [][2]int{{1, 20}, {0, 20}} {
		mustSync(t, p, svcs[step[0]:step[1]], changed[step[0]:step[1]])
		fresh, single := newFakeProxier()
		mustSync(t, single, svcs[step[0]:step[1]], changed[step[0]:step[1]])
		assertRuleset(t, fresh.Dump(), nft.Dump(), false)
	}
}
