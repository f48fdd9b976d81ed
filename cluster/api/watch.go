package api

import (
	"context"
	"net/url"
)

// PathWatch streams changes to one kind's objects as NDJSON WatchEvents:
// ?kind=K&namespace=NS (every namespace when empty).
const PathWatch = "/v1/watch"

// Watch event types: a Kubernetes watch's, and the bookmark that ends the initial list.
const (
	WatchAdded    = "ADDED"
	WatchModified = "MODIFIED"
	WatchDeleted  = "DELETED"
	// WatchBookmark follows the objects that existed when the watch began (each sent
	// as ADDED), as the API server's sendInitialEvents ends with a bookmark: what comes
	// after it are changes.
	WatchBookmark = "BOOKMARK"
)

// WatchEvent is one change to an object; a DELETED event carries its last state.
type WatchEvent struct {
	Type   string        `json:"type"`
	Object *StoredObject `json:"object,omitempty"`
}

// Watch calls fn with each object of kind in namespace (every namespace when empty)
// as ADDED, then a BOOKMARK, then every change until ctx ends (no error then) or fn
// fails (that error).
func (c *Client) Watch(ctx context.Context, kind, namespace string, fn func(WatchEvent) error) error {
	resp, err := c.get(ctx, PathWatch+"?kind="+url.QueryEscape(kind)+"&namespace="+url.QueryEscape(namespace))
	if err != nil {
		return err
	}
	return readNDJSON(ctx, resp.Body, fn)
}
