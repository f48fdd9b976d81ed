package api

import (
	"context"
	"net/http"
)

// PathNetpolVerdicts serves POST [FlowQuery...]: the NetworkPolicy model's verdict for
// each flow, from the objects the supervisor holds now (`podlab probe --expect model`).
const PathNetpolVerdicts = "/v1/netpol/verdicts"

// FlowQuery is one flow between two pods of the lab.
type FlowQuery struct {
	From     string `json:"from"` // NS/POD
	To       string `json:"to"`   // NS/POD: the pod that receives the packet
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"` // TCP, UDP or SCTP
	// Service (NS/NAME), when the flow goes through that Service's ClusterIP: Port is
	// then the Service's port, and the flow is judged after kube-proxy's DNAT, at the
	// target port on To, as a conformant CNI judges it.
	Service string `json:"service,omitempty"`
}

// FlowVerdict is the model's answer for one FlowQuery.
type FlowVerdict struct {
	FlowQuery
	Allowed bool `json:"allowed"`
	// Reason is the model's explanation: the policies consulted and the rule that
	// allowed the flow, or the default deny.
	Reason string `json:"reason,omitempty"`
	// Error says why there is no verdict (no such pod or Service port); Allowed is
	// then meaningless.
	Error string `json:"error,omitempty"`
}

// NetpolVerdicts asks the model about flows, in one request for a whole matrix.
func (c *Client) NetpolVerdicts(ctx context.Context, flows []FlowQuery) ([]FlowVerdict, error) {
	var out []FlowVerdict
	if err := c.do(ctx, http.MethodPost, PathNetpolVerdicts, flows, &out); err != nil {
		return nil, err
	}
	return out, nil
}
