package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"podlab.dev/podlab/events"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

// Client talks to a lab's supervisor over its unix socket.
type Client struct {
	dir  state.Dir
	http *http.Client
}

// NewClient returns a client for the lab in dir.
func NewClient(dir state.Dir) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", dir.Socket())
	}}
	return &Client{dir: dir, http: &http.Client{Transport: tr}}
}

func (c *Client) get(ctx context.Context, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://supervisor"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("supervisor of lab %q does not answer on %s: %w", c.dir.Lab, c.dir.Socket(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, apiErr(c.dir.Lab, path, resp)
	}
	return resp, nil
}

// apiErr turns a failed response into an error carrying the supervisor's message.
func apiErr(lab, path string, resp *http.Response) error {
	defer resp.Body.Close()
	var e Error
	if json.NewDecoder(resp.Body).Decode(&e) == nil && e.Error != "" {
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%s: %w", strings.TrimSuffix(e.Error, ": "+ErrNotFound.Error()), ErrNotFound)
		}
		return errors.New(e.Error)
	}
	return fmt.Errorf("supervisor of lab %q: %s %s", lab, path, resp.Status)
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://supervisor"+path, rd)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("supervisor of lab %q does not answer on %s: %w", c.dir.Lab, c.dir.Socket(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return apiErr(c.dir.Lab, path, resp)
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// Ready returns how many pods are ready; it is cheap enough to poll.
func (c *Client) Ready(ctx context.Context) (ReadyCount, error) {
	var r ReadyCount
	err := c.do(ctx, http.MethodGet, PathReady, nil, &r)
	return r, err
}

// Objects lists the lab's stored objects of kind (all when empty) in namespace (all
// when empty).
func (c *Client) Objects(ctx context.Context, kind, namespace string) ([]*StoredObject, error) {
	var out []*StoredObject
	err := c.do(ctx, http.MethodGet, PathObjects+"?kind="+url.QueryEscape(kind)+"&namespace="+url.QueryEscape(namespace), nil, &out)
	return out, err
}

// Apply creates or replaces objects; pods are those the Pod and Deployment objects
// make, as topology.LoadManifests returns them.
func (c *Client) Apply(ctx context.Context, objs []topology.Object) ([]ApplyResult, error) {
	var out []ApplyResult
	err := c.do(ctx, http.MethodPost, PathApply, ApplyRequest{Objects: objs}, &out)
	return out, err
}

// DeleteObjects deletes objects.
func (c *Client) DeleteObjects(ctx context.Context, refs []ObjectRef) ([]ApplyResult, error) {
	var out []ApplyResult
	err := c.do(ctx, http.MethodPost, PathDelete, refs, &out)
	return out, err
}

// Counters returns every pod's, node's and host's interface counters now.
func (c *Client) Counters(ctx context.Context) (*CounterSet, error) {
	var cs CounterSet
	if err := c.do(ctx, http.MethodGet, PathCounters, nil, &cs); err != nil {
		return nil, err
	}
	return &cs, nil
}

// ServiceCounters returns the interface counters and kube-proxy's packet and byte
// counts per Service and per endpoint (one nft listing per node: not for every frame).
func (c *Client) ServiceCounters(ctx context.Context) (*CounterSet, error) {
	var cs CounterSet
	if err := c.do(ctx, http.MethodGet, PathCounters+"?services=1", nil, &cs); err != nil {
		return nil, err
	}
	return &cs, nil
}

// Details returns what the kernel has for a pod, node or host (kind "pod", "node",
// "host"; namespace only for pods).
func (c *Client) Details(ctx context.Context, kind, namespace, name string) (*Details, error) {
	var d Details
	path := PathDetails + url.PathEscape(strings.ToLower(kind)) + "/" + url.PathEscape(name) + "?namespace=" + url.QueryEscape(namespace)
	if err := c.do(ctx, http.MethodGet, path, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// DeletePod deletes a pod from the running lab.
func (c *Client) DeletePod(ctx context.Context, namespace, name string) error {
	return c.do(ctx, http.MethodDelete, PathPods+url.PathEscape(namespace)+"/"+url.PathEscape(name), nil, nil)
}

// SetLabels replaces a pod's labels.
func (c *Client) SetLabels(ctx context.Context, namespace, name string, labels map[string]string) error {
	if labels == nil {
		labels = map[string]string{}
	}
	return c.do(ctx, http.MethodPut, PathPods+url.PathEscape(namespace)+"/"+url.PathEscape(name)+"/labels", labels, nil)
}

// SetNodeLabels replaces a node's labels.
func (c *Client) SetNodeLabels(ctx context.Context, name string, labels map[string]string) error {
	return c.do(ctx, http.MethodPut, PathNodes+url.PathEscape(name)+"/labels", labels, nil)
}

// SetNamespaceLabels replaces a namespace's labels (the API server keeps its
// kubernetes.io/metadata.name).
func (c *Client) SetNamespaceLabels(ctx context.Context, name string, labels map[string]string) error {
	return c.do(ctx, http.MethodPut, PathNamespaces+url.PathEscape(name)+"/labels", labels, nil)
}

// Scale sets the replicas of a Deployment, ReplicaSet or StatefulSet.
func (c *Client) Scale(ctx context.Context, req ScaleRequest) (ApplyResult, error) {
	var out ApplyResult
	err := c.do(ctx, http.MethodPost, PathScale, req, &out)
	return out, err
}

// Rollout runs a rollout action.
func (c *Client) Rollout(ctx context.Context, req RolloutRequest) (*RolloutReply, error) {
	var out RolloutReply
	if err := c.do(ctx, http.MethodPost, PathRollout, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// State returns the lab's live state. When the supervisor is not running it falls
// back to the stored plan and says so in Supervisor.Running and Message.
func (c *Client) State(ctx context.Context) (*LabState, error) {
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	resp, err := c.get(ctx2, PathState)
	if err == nil {
		defer resp.Body.Close()
		var s LabState
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			return nil, err
		}
		return &s, nil
	}
	p, perr := c.dir.ReadPlan()
	if perr != nil {
		return nil, fmt.Errorf("lab %q is not deployed (no plan in %s)", c.dir.Lab, c.dir.Path())
	}
	pid := c.dir.SupervisorPID()
	msg := "supervisor is not running (it crashed or was killed); `podlab destroy` still removes the lab"
	return StateFromPlan(p, nil, SupervisorState{PID: pid, Running: false, Message: msg}), nil
}

// Events calls fn for each event; with follow it keeps going until ctx ends.
func (c *Client) Events(ctx context.Context, follow bool, fn func(events.Event) error) error {
	path := PathEvents
	if follow {
		path += "?follow=1"
	}
	resp, err := c.get(ctx, path)
	if err != nil {
		if follow {
			return err
		}
		// No supervisor: the event file is still the record.
		evs, rerr := events.ReadAll(c.dir.DeployEvents(), c.dir.Events())
		if rerr != nil || !c.dir.Exists() {
			return err
		}
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
	return readNDJSON(ctx, resp.Body, fn)
}

// readNDJSON calls fn for each line of body, decoded, and closes body; a stream cut
// by the end of ctx (a follower's Ctrl-C) is no error.
func readNDJSON[T any](ctx context.Context, body io.ReadCloser, fn func(T) error) error {
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
