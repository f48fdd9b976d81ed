// Package checks runs a lab's self-checks (the lab file's checks:, `podlab check`)
// against the live lab with real packets: probes, DNS queries and HTTP requests sent
// from inside the source pod's or host's network namespace, and the actions of steps
// done through the supervisor's API. It reads the lab only through Client and opens
// sockets only through Dialer; it never programs the kernel or reads the store.
package checks

import (
	"context"
	"fmt"
	"sync"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/netprobe"
	"podlab.dev/podlab/topology"
)

// Client is what checks need of a lab's supervisor; *api.Client has it.
type Client interface {
	State(ctx context.Context) (*api.LabState, error)
	Objects(ctx context.Context, kind, namespace string) ([]*api.StoredObject, error)
	PodEtc(ctx context.Context, namespace, name string) (*api.PodEtc, error)
	DeletePod(ctx context.Context, namespace, name string) error
	Scale(ctx context.Context, req api.ScaleRequest) (api.ApplyResult, error)
	Apply(ctx context.Context, objs []topology.Object) ([]api.ApplyResult, error)
	DeleteObjects(ctx context.Context, refs []api.ObjectRef) ([]api.ApplyResult, error)
	SetLabels(ctx context.Context, namespace, name string, labels map[string]string) error
}

// Dialer returns a Dial that opens sockets inside the network namespace named netns
// (a pod's, a host's), so the packets leave from there.
type Dialer func(netns string) netprobe.Dial

// Runner runs checks against one lab.
type Runner struct {
	Client Client
	Dial   Dialer
	// Timeout is each probe try's deadline (0: netprobe.DefaultTimeout); an HTTP
	// request gets HTTPTimeout (0: 3s).
	Timeout     time.Duration
	HTTPTimeout time.Duration
	// Parallel caps the checks run at once (0: 8).
	Parallel int
	// Retry is the pause between rounds of a step's checks (0: 250ms).
	Retry time.Duration
}

// Result is one check's outcome.
type Result struct {
	Name   string             `json:"name"`
	Kind   topology.CheckKind `json:"kind"`
	Pass   bool               `json:"pass"`
	Detail string             `json:"detail"` // what was seen, and what was expected when it differs
	Took   time.Duration      `json:"took"`
	Step   string             `json:"step,omitempty"` // the step this check follows
}

// Run runs the independent checks in parallel, then each step in file order: its
// action, then its checks, retried until they all pass or its within: runs out.
func (r *Runner) Run(ctx context.Context, list []topology.Check) []Result {
	var plain, steps []topology.Check
	for _, c := range list {
		if c.Kind == topology.CheckStep {
			steps = append(steps, c)
		} else {
			plain = append(plain, c)
		}
	}
	v, err := r.view(ctx)
	out := r.round(ctx, v, err, plain)
	for _, s := range steps {
		out = append(out, r.step(ctx, s)...)
	}
	return out
}

// round runs checks in parallel against one view of the lab, results in list order.
func (r *Runner) round(ctx context.Context, v *view, verr error, list []topology.Check) []Result {
	out := make([]Result, len(list))
	par := r.Parallel
	if par <= 0 {
		par = 8
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, c := range list {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			start := time.Now()
			res := Result{Name: c.Name, Kind: c.Kind}
			if verr != nil {
				res.Detail = verr.Error()
			} else {
				res.Pass, res.Detail = r.one(ctx, v, &c)
			}
			res.Took = time.Since(start)
			out[i] = res
		}()
	}
	wg.Wait()
	return out
}

// one runs a check that is not a step.
func (r *Runner) one(ctx context.Context, v *view, c *topology.Check) (bool, string) {
	switch c.Kind {
	case topology.CheckReach:
		return r.reach(ctx, v, c)
	case topology.CheckDNS:
		return r.dns(ctx, v, c)
	case topology.CheckHTTP:
		return r.http(ctx, v, c)
	case topology.CheckSpread:
		return r.spread(ctx, v, c)
	}
	return false, fmt.Sprintf("unknown kind of check %q", c.Kind)
}

// step runs a step's action, then its checks until they pass or within: ends. The
// step's own row says what the action did and how long the checks took to pass.
func (r *Runner) step(ctx context.Context, s topology.Check) []Result {
	start := time.Now()
	head := Result{Name: s.Name, Kind: s.Kind}
	done, err := r.act(ctx, s.After)
	if err != nil {
		head.Detail, head.Took = s.After.Verb+" "+s.After.Text+": "+err.Error(), time.Since(start)
		out := []Result{head}
		for _, c := range s.Checks {
			out = append(out, Result{Name: c.Name, Kind: c.Kind, Step: s.Name, Detail: "not run: the step's action failed"})
		}
		return out
	}
	retry := r.Retry
	if retry <= 0 {
		retry = 250 * time.Millisecond
	}
	deadline := start.Add(s.Within)
	var res []Result
	rounds := 0
	for {
		rounds++
		v, verr := r.view(ctx)
		res = r.round(ctx, v, verr, s.Checks)
		if allPass(res) || time.Now().Add(retry).After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
	head.Took = time.Since(start)
	head.Pass = allPass(res)
	took := head.Took.Round(10 * time.Millisecond)
	if head.Pass {
		head.Detail = fmt.Sprintf("%s; %s passed after %s (%s)", done, plural(len(res), "check"), took, plural(rounds, "round"))
	} else {
		head.Detail = fmt.Sprintf("%s; %d of %s still failing after %s (within: %s, %s)", done, failed(res), plural(len(res), "check"), took, s.Within, plural(rounds, "round"))
	}
	for i := range res {
		res[i].Step = s.Name
	}
	return append([]Result{head}, res...)
}

func allPass(rs []Result) bool { return failed(rs) == 0 }

func failed(rs []Result) int {
	n := 0
	for _, r := range rs {
		if !r.Pass {
			n++
		}
	}
	return n
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
