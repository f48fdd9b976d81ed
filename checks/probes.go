package checks

import (
	"context"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"podlab.dev/podlab/netprobe"
	"podlab.dev/podlab/topology"
)

// flow is where a reach or spread check's packets leave from and go to.
func (r *Runner) flow(ctx context.Context, v *view, c *topology.Check) (netprobe.Probe, error) {
	src, err := v.source(c.From)
	if err != nil {
		return netprobe.Probe{}, err
	}
	ip, err := r.address(ctx, v, c.From, c.To)
	if err != nil {
		return netprobe.Probe{}, err
	}
	if c.To.Kind == topology.EndpointService {
		svc := v.service(c.To.Namespace, c.To.Name)
		if _, ok := netprobe.ServicePort(svc, int32(c.To.Port), c.Protocol); !ok {
			return netprobe.Probe{}, fmt.Errorf("Service %s has no port %d/%s", c.To.Key(), c.To.Port, c.Protocol)
		}
	}
	return netprobe.Probe{Dial: r.Dial(src), Addr: netip.AddrPortFrom(ip, uint16(c.To.Port)), Protocol: c.Protocol, Timeout: r.Timeout}, nil
}

func (r *Runner) reach(ctx context.Context, v *view, c *topology.Check) (bool, string) {
	p, err := r.flow(ctx, v, c)
	if err != nil {
		return false, err.Error()
	}
	res := netprobe.Run(ctx, p)
	var seen string
	switch res.Verdict {
	case netprobe.Allowed:
		seen = "allowed"
		if res.Answer != "" {
			seen += ", answered by " + res.Answer
		}
	case netprobe.TimedOut:
		seen = fmt.Sprintf("blocked: timed out (%d tries)", res.Tries)
	case netprobe.Refused:
		seen = "refused: nothing listens on " + p.Addr.String() + "/" + strings.ToLower(c.Protocol) + " (or a Service without ready endpoints); not a NetworkPolicy verdict"
	default:
		seen = string(res.Verdict) + ": " + res.Error
	}
	seen = fmt.Sprintf("%s -> %s: %s", c.From.Key(), p.Addr, seen)
	pass := map[string]netprobe.Verdict{"allowed": netprobe.Allowed, "blocked": netprobe.TimedOut, "refused": netprobe.Refused}[c.Expect] == res.Verdict
	if !pass {
		seen += "; expected " + c.Expect
	}
	return pass, seen
}

// spread sends the requests one after another (each a new connection, so kube-proxy
// picks a backend for each) and counts who answered.
func (r *Runner) spread(ctx context.Context, v *view, c *topology.Check) (bool, string) {
	p, err := r.flow(ctx, v, c)
	if err != nil {
		return false, err.Error()
	}
	var want []string
	if svc := v.service(c.To.Namespace, c.To.Name); svc != nil {
		if want, err = r.endpoints(ctx, svc); err != nil {
			return false, err.Error()
		}
	}
	if c.To.Kind == topology.EndpointService && len(want) == 0 {
		return false, fmt.Sprintf("Service %s has no ready endpoints; expected every ready endpoint to answer", c.To.Key())
	}
	if n := c.Endpoints; n > 0 && len(want) != n {
		return false, fmt.Sprintf("Service %s has %s: %s; expected %d", c.To.Key(), plural(len(want), "ready endpoint"), strings.Join(want, ", "), n)
	}
	count := map[string]int{}
	lost := 0
	for range c.Requests {
		res := netprobe.Run(ctx, p)
		if res.Verdict != netprobe.Allowed || res.Answer == "" {
			lost++
			continue
		}
		count[res.Answer]++
	}
	var got []string
	for _, k := range sortedKeys(count) {
		got = append(got, fmt.Sprintf("%s %d", k, count[k]))
	}
	seen := fmt.Sprintf("%d requests to %s: %s", c.Requests, p.Addr, strings.Join(got, ", "))
	if len(got) == 0 {
		seen = fmt.Sprintf("%d requests to %s: none answered", c.Requests, p.Addr)
	}
	if lost > 0 && len(got) > 0 {
		seen += fmt.Sprintf(", %d unanswered", lost)
	}
	var never []string
	for _, w := range want {
		if count[w] == 0 {
			never = append(never, w)
		}
	}
	if len(want) == 0 { // a name: its answers are all we know
		return len(got) > 0, seen
	}
	if len(never) > 0 {
		return false, seen + "; never answered: " + strings.Join(never, ", ") + fmt.Sprintf(" (expected all %d ready endpoints)", len(want))
	}
	return true, seen + fmt.Sprintf(" (all %d ready endpoints)", len(want))
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
