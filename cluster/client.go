package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"

	"podlab.dev/podlab/events"
	"podlab.dev/podlab/state"
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
		resp.Body.Close()
		return nil, fmt.Errorf("supervisor of lab %q: %s %s", c.dir.Lab, path, resp.Status)
	}
	return resp, nil
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
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var e events.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
