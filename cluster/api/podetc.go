package api

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
)

// PathPodEtc serves GET {ns}/{name}: PodEtc for any pod of the store.
const PathPodEtc = "/v1/podetc/"

// PodEtc is what a pod's processes see of the lab: where it runs and the /etc files
// kubelet writes for it. Node and IP are empty while it is Pending.
type PodEtc struct {
	Namespace  string     `json:"namespace"`
	Name       string     `json:"name"`
	Node       string     `json:"node"`
	Netns      string     `json:"netns"`
	IP         netip.Addr `json:"ip,omitzero"`
	ResolvConf string     `json:"resolvConf"`
	Hosts      string     `json:"hosts"`
}

// PodEtc returns a pod's runtime files; the error wraps ErrNotFound when the lab has
// no such pod.
func (c *Client) PodEtc(ctx context.Context, namespace, name string) (*PodEtc, error) {
	var out PodEtc
	if err := c.do(ctx, http.MethodGet, PathPodEtc+url.PathEscape(namespace)+"/"+url.PathEscape(name), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
