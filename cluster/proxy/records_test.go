package proxy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

// versioned gives every object a resourceVersion, as the object store does: the
// proxier then replays unchanged Services from its records.
func versioned(svcs []*v1.Service, slices []*discoveryv1.EndpointSlice) {
	for i, s := range svcs {
		s.ResourceVersion = fmt.Sprint(i + 1)
	}
	for i, s := range slices {
		s.ResourceVersion = fmt.Sprint(100000 + i)
	}
}

// Replaying unchanged Services gives exactly the table a fresh proxier writes.
func TestReplayMatchesFullSync(t *testing.T) {
	svcs, slices := bigCluster(50)
	versioned(svcs, slices)
	nft, p := newFakeProxier()
	mustSync(t, p, svcs, slices)
	// Change a few: an endpoint added, a Service gone, a new Service.
	slices[3] = webSlice("svc-3", "10.0.0.3", "10.0.9.3")
	slices[3].ResourceVersion = "999"
	svcs = append(svcs[:10], svcs[11:]...)
	extra := webSvc("extra", "10.96.200.1")
	extra.ResourceVersion = "1000"
	extraSlice := webSlice("extra", "10.0.7.7")
	extraSlice.ResourceVersion = "1001"
	svcs, slices = append(svcs, extra), append(slices, extraSlice)
	mustSync(t, p, svcs, slices)
	if got := lastTx(nft); len(got) > 4000 {
		t.Errorf("the incremental transaction rewrote much more than the three changes (%d bytes)", len(got))
	}
	freshNFT, fresh := newFakeProxier()
	mustSync(t, fresh, svcs, slices)
	want, _ := freshNFT.Dump(), 0
	got := nft.Dump()
	assertRuleset(t, want, got, false)
}

func BenchmarkOneChange10kVersioned(b *testing.B) {
	svcs, slices := bigCluster(10000)
	versioned(svcs, slices)
	p := New(renderNFT{knftables.NewFake(knftables.IPv4Family, tableName)}, bigNode)
	if err := p.Sync(context.Background(), svcs, slices); err != nil {
		b.Fatal(err)
	}
	alt := [2]*discoveryv1.EndpointSlice{slices[42], webSlice("svc-42", "10.0.0.42", "10.0.1.42", "10.0.9.9")}
	alt[1].ResourceVersion = "777777"
	i := 0
	for b.Loop() {
		i++
		slices[42] = alt[i%2]
		if err := p.Sync(context.Background(), svcs, slices); err != nil {
			b.Fatal(err)
		}
	}
}

// Random changes synced incrementally always leave the table a fresh full sync
// writes: endpoints added and removed (also local ones, with hairpin elements shared
// by two Services), Services deleted and created.
func TestIncrementalMatchesFullSyncRandomly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	svcs, slices := bigCluster(30)
	versioned(svcs, slices)
	nft, p := newFakeProxier()
	mustSync(t, p, svcs, slices)
	rv := 200000
	next := func() string { rv++; return fmt.Sprint(rv) }
	for round := 0; round < 40; round++ {
		switch rng.IntN(4) {
		case 0: // new endpoints for a Service, one of them local to this node
			i := rng.IntN(len(slices))
			name := slices[i].Labels[discoveryv1.LabelServiceName]
			sl := makeSlice("default", name, slicePort("http", 8080, v1.ProtocolTCP),
				ep{ip: fmt.Sprintf("10.0.5.%d", rng.IntN(5)), node: testNodeName}, ep{ip: fmt.Sprintf("10.0.6.%d", rng.IntN(200)), node: "other-node"})
			sl.Name, sl.ResourceVersion = slices[i].Name, next()
			slices[i] = sl
		case 1: // a Service goes, with its slice
			if len(svcs) > 5 {
				i := rng.IntN(len(svcs))
				name := svcs[i].Name
				svcs = append(svcs[:i:i], svcs[i+1:]...)
				for j := range slices {
					if slices[j].Labels[discoveryv1.LabelServiceName] == name {
						slices = append(slices[:j:j], slices[j+1:]...)
						break
					}
				}
			}
		case 2: // a new Service
			name := fmt.Sprintf("new-%d", round)
			svc := webSvc(name, fmt.Sprintf("10.97.0.%d", round+1))
			svc.ResourceVersion = next()
			sl := webSlice(name, fmt.Sprintf("10.0.8.%d", round))
			sl.ResourceVersion = next()
			svcs, slices = append(svcs, svc), append(slices, sl)
		case 3: // a Service's spec changes (session affinity)
			i := rng.IntN(len(svcs))
			svc := svcs[i].DeepCopy()
			svc.Spec.SessionAffinity = v1.ServiceAffinityClientIP
			svc.ResourceVersion = next()
			svcs[i] = svc
		}
		mustSync(t, p, svcs, slices)
		freshNFT, fresh := newFakeProxier()
		mustSync(t, fresh, svcs, slices)
		assertRuleset(t, freshNFT.Dump(), nft.Dump(), false)
		if t.Failed() {
			t.Fatalf("round %d", round)
		}
	}
}
