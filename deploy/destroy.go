package deploy

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"podlab.dev/podlab/plan"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/state"
)

// DestroyOptions tune a destroy.
type DestroyOptions struct {
	Root     string
	Runtime  podruntime.Runtime
	Progress Progress
}

// Removed counts what a destroy removed.
type Removed struct {
	Lab         string         `json:"lab"`
	Existed     bool           `json:"existed"`
	Namespaces  int            `json:"namespaces"`
	Supervisors int            `json:"supervisors"`
	StateDir    bool           `json:"stateDir"`
	Sysctls     []SysctlChange `json:"sysctlsRestored,omitempty"`
}

// Destroy removes everything of lab found by its marks: the supervisor process (by the
// PID it recorded, or by its command line when a deploy crashed before recording it),
// every namespace named with the lab's prefix, and the lab's state directory. It is
// idempotent and works without a plan, so leftovers of a crashed deploy go too.
func Destroy(ctx context.Context, lab string, opt DestroyOptions) (*Removed, error) {
	if opt.Progress == nil {
		opt.Progress = func(string, int, int) {}
	}
	dir := state.For(opt.Root, lab)
	r := &Removed{Lab: lab}
	opt.Progress("stopping the supervisor", 0, 0)
	for _, pid := range supervisors(dir) {
		stopProcess(pid)
		r.Supervisors++
	}
	names, err := opt.Runtime.List(ctx, plan.NetnsPrefix(lab))
	if err != nil {
		return r, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, n := range names {
		g.Go(func() error { return opt.Runtime.Delete(gctx, n) })
	}
	opt.Progress("removing namespaces", 0, len(names))
	if err := g.Wait(); err != nil {
		return r, err
	}
	r.Namespaces = len(names)
	if _, err := os.Stat(dir.Path()); err == nil {
		r.StateDir = true
	}
	if err := dir.Remove(); err != nil {
		return r, err
	}
	r.Existed = r.Namespaces > 0 || r.StateDir || r.Supervisors > 0
	r.Sysctls, err = restoreNeighbourLimits(opt.Root, lab)
	return r, err
}

// supervisors finds the lab's supervisor processes: the recorded PID, and any process
// whose command line is `podlab supervise --name LAB` (a deploy that crashed between
// starting it and recording it).
func supervisors(dir state.Dir) []int {
	seen := map[int]bool{}
	var out []int
	if pid := dir.SupervisorPID(); dir.SupervisorAlive(pid) {
		seen[pid] = true
		out = append(out, pid)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || seen[pid] || pid == os.Getpid() {
			continue
		}
		if dir.SupervisorAlive(pid) {
			out = append(out, pid)
		}
	}
	return out
}

// stopProcess asks pid to stop, then kills it after a grace period.
func stopProcess(pid int) {
	syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil || isZombie(pid) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}

// Labs lists every lab that has a state directory or namespaces on this machine.
func Labs(ctx context.Context, root string, rt podruntime.Runtime) ([]string, error) {
	set := map[string]bool{}
	labs, err := state.Labs(root)
	if err != nil {
		return nil, err
	}
	for _, l := range labs {
		set[l] = true
	}
	names, err := rt.List(ctx, "podlab_")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		rest := strings.TrimPrefix(n, "podlab_")
		if i := strings.IndexByte(rest, '_'); i > 0 {
			set[rest[:i]] = true
		}
	}
	out := make([]string, 0, len(set))
	for l := range set {
		out = append(out, l)
	}
	sortStrings(out)
	return out, nil
}
