package netpol

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
)

// counterReader is what an Enforcer offers besides Sync (a fake may not).
type counterReader interface {
	Counters(ctx context.Context) (map[string]Counter, error)
}

// Counters reads the named counters (Enforcer.Counters' keys) of every node whose
// table is open, by node, in parallel. A lab that never had a policy has none open
// and gets an empty map. Nodes that could not be read are left out and named in the
// error.
func (c *Component) Counters(ctx context.Context) (map[string]map[string]Counter, error) {
	c.mu.Lock()
	enfs := maps.Clone(c.enforcers)
	c.mu.Unlock()
	out := map[string]map[string]Counter{}
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, node := range slices.Sorted(maps.Keys(enfs)) {
		r, ok := enfs[node].(counterReader)
		if !ok {
			continue
		}
		wg.Go(func() {
			cs, err := r.Counters(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			out[node] = cs
		})
	}
	wg.Wait()
	return out, errors.Join(errs...)
}
