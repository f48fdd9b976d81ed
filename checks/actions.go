package checks

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/topology"
)

// act does a step's action through the API and says what it did.
func (r *Runner) act(ctx context.Context, a *topology.StepAction) (string, error) {
	done := a.Verb + " " + a.Text
	switch a.Verb {
	case topology.ActionDelete:
		return done, r.Client.DeletePod(ctx, a.Namespace, a.Name)
	case topology.ActionScale:
		res, err := r.Client.Scale(ctx, api.ScaleRequest{ObjectRef: api.ObjectRef{Kind: a.Kind, Namespace: a.Namespace, Name: a.Name}, Replicas: int32(a.Replicas)})
		if err == nil && res.Error != "" {
			err = errors.New(res.Error)
		}
		return done, err
	case topology.ActionApply:
		rs, err := r.Client.Apply(ctx, a.Objects)
		return done, resultsErr(rs, err)
	case topology.ActionDeleteManifest:
		var refs []api.ObjectRef
		for _, o := range a.Objects {
			refs = append(refs, api.ObjectRef{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name})
		}
		rs, err := r.Client.DeleteObjects(ctx, refs)
		return done, resultsErr(rs, err)
	case topology.ActionLabel:
		return done, r.label(ctx, a)
	case topology.ActionBreakReadiness:
		return done, r.breakReadiness(ctx, a)
	}
	return done, fmt.Errorf("unknown action %q", a.Verb)
}

func resultsErr(rs []api.ApplyResult, err error) error {
	if err != nil {
		return err
	}
	var bad []string
	for _, r := range rs {
		if r.Error != "" {
			bad = append(bad, r.Kind+"/"+r.Name+": "+r.Error)
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, "; "))
	}
	return nil
}

// label sets and removes labels on the pod's current ones (the API replaces them all).
func (r *Runner) label(ctx context.Context, a *topology.StepAction) error {
	p, err := r.livePod(ctx, a)
	if err != nil {
		return err
	}
	ls := maps.Clone(p.Labels)
	if ls == nil {
		ls = map[string]string{}
	}
	maps.Copy(ls, a.Labels)
	for _, k := range a.Remove {
		delete(ls, k)
	}
	return r.Client.SetLabels(ctx, a.Namespace, a.Name, ls)
}

// breakReadiness asks the pod's own server for /podlab/fail-readiness on its first TCP
// port, from inside the pod: its /readyz then answers 503 and a readinessProbe on it
// fails, as a real application's would.
func (r *Runner) breakReadiness(ctx context.Context, a *topology.StepAction) error {
	p, err := r.livePod(ctx, a)
	if err != nil {
		return err
	}
	port := firstTCPPort(p.Ports)
	if port == 0 || p.Netns == "" {
		return fmt.Errorf("pod %s/%s serves no TCP port (ports %q): nothing to break", a.Namespace, a.Name, p.Ports)
	}
	dial := r.Dial(p.Netns)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext:       func(ctx context.Context, network, _ string) (net.Conn, error) { return dial(ctx, network, addr) },
	}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/podlab/fail-readiness", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("pod %s/%s port %d: %w", a.Namespace, a.Name, port, unwrapURL(err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pod %s/%s port %d: /podlab/fail-readiness answered %s", a.Namespace, a.Name, port, resp.Status)
	}
	return nil
}

// livePod is the state of the pod an action names, now.
func (r *Runner) livePod(ctx context.Context, a *topology.StepAction) (*api.PodState, error) {
	v, err := r.view(ctx)
	if err != nil {
		return nil, err
	}
	p := v.pod(a.Namespace, a.Name)
	if p == nil {
		return nil, fmt.Errorf("lab %s has no pod %s/%s now", v.st.Lab, a.Namespace, a.Name)
	}
	return p, nil
}
