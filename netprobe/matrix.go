package netprobe

import (
	"context"
	"sync"
)

// Cell is one probe of a matrix, from a row to a column.
type Cell struct {
	From, To string
	Probe    Probe
	Result   Result
}

// RunAll runs every cell's probe at once, at most parallel at a time (0: all): a
// blocked probe costs its deadline, so only parallel probes keep a matrix of timeouts
// short.
func RunAll(ctx context.Context, cells []Cell, parallel int) {
	if parallel <= 0 {
		parallel = len(cells)
	}
	sem := make(chan struct{}, max(parallel, 1))
	var wg sync.WaitGroup
	for i := range cells {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			cells[i].Result = Run(ctx, cells[i].Probe)
		})
	}
	wg.Wait()
}
