package docker

import (
	"context"
	"time"

	"github.com/moby/moby/client"
)

// watchedActions are the container events that mean a container died or came back
// without podlab asking.
var watchedActions = map[string]bool{
	"die": true, "kill": true, "stop": true, "oom": true, "destroy": true,
	"restart": true, "start": true,
}

// Watch follows the engine's events for the lab's containers until ctx ends and calls
// fn with the container's namespace name (its podlab.netns label) and the action (die,
// kill, stop, oom, destroy, restart, start). A lost event stream is opened again.
func (r *Runtime) Watch(ctx context.Context, lab string, fn func(netnsName, action string)) error {
	if err := r.Ping(ctx); err != nil {
		return err
	}
	for ctx.Err() == nil {
		since := time.Now()
		res := r.cli.Events(ctx, client.EventsListOptions{
			Filters: make(client.Filters).Add("type", "container").Add("label", LabelLab+"="+lab),
		})
	stream:
		for {
			select {
			case <-ctx.Done():
				return nil
			case m, ok := <-res.Messages:
				if !ok {
					break stream
				}
				action := string(m.Action)
				if !watchedActions[action] {
					continue
				}
				attrs := m.Actor.Attributes
				if attrs[LabelLab] != lab || attrs[LabelNetns] == "" {
					continue
				}
				fn(attrs[LabelNetns], action)
			case <-res.Err:
				break stream
			}
		}
		// Wait a little before opening the stream again, never hammering the engine.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(max(0, time.Second-time.Since(since))):
		}
	}
	return nil
}
