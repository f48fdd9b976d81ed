package api

import (
	"context"
	"net/http"
)

const (
	// PathNetpolCounters serves GET: NetpolCounters, the NetworkPolicy tables' named
	// counters on every node whose table is open (podlab trace, the TUI's :netpol).
	PathNetpolCounters = "/v1/netpol/counters"
	// PathNetpolTrace serves POST TraceQuery: TraceVerdict, the model's explanation of
	// one flow (podlab trace).
	PathNetpolTrace = "/v1/netpol/trace"
)

// NetpolCounters is the NetworkPolicy counters of a lab, raw and summed.
type NetpolCounters struct {
	// Nodes: node -> counter key -> count; keys are drop/<ingress|egress>/<ns>/<pod>
	// (a pod's default deny) and allow/<ingress|egress>/<ns>/<policy>/<rule index>.
	Nodes map[string]map[string]PacketCount `json:"nodes"`
	// Policies: every NetworkPolicy, sorted, with what its rules allowed and what the
	// default deny of the pods it isolates dropped.
	Policies []PolicyCount `json:"policies"`
	// Pods: every pod isolated in a direction, sorted, with its drop counter.
	Pods []PodDropCount `json:"pods"`
	// Error names the nodes whose counters could not be read.
	Error string `json:"error,omitempty"`
}

// PolicyCount is one policy's share of the counters.
type PolicyCount struct {
	Policy   string `json:"policy"`   // namespace/name
	Types    string `json:"types"`    // Ingress, Egress or Ingress,Egress
	Isolates int    `json:"isolates"` // pods it selects
	Allowed  uint64 `json:"allowed"`  // packets its rules accepted (all rules, both directions)
	// Dropped sums the drop counters of the pods it isolates: a drop is the default
	// deny of every policy isolating the pod, so two policies on a pod count it twice.
	Dropped uint64 `json:"dropped"`
}

// PodDropCount is one pod's default-deny drops in one direction.
type PodDropCount struct {
	Pod       string   `json:"pod"` // namespace/name
	Node      string   `json:"node"`
	Direction string   `json:"direction"` // ingress or egress
	Dropped   uint64   `json:"dropped"`
	Policies  []string `json:"policies"` // those isolating it in Direction
}

// TraceQuery is one flow to explain: From NS/POD to NS/POD, SVC.NS (the Service's
// ClusterIP) or an IP address.
type TraceQuery struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Port     int32  `json:"port"`
	Protocol string `json:"protocol"` // TCP, UDP or SCTP
}

// TraceVerdict is the model's explanation: one target per pod that may receive the
// packet (the pod, or each ready backend of the Service, judged after DNAT).
type TraceVerdict struct {
	TraceQuery
	FromNode string        `json:"fromNode"`
	FromIP   string        `json:"fromIP"`
	Service  string        `json:"service,omitempty"` // NS/NAME when To is a Service
	Targets  []TraceTarget `json:"targets"`
}

// TraceTarget is the verdict for the packet as it arrives at one destination.
type TraceTarget struct {
	To      string `json:"to"`             // NS/POD, or the address when it is no pod
	Node    string `json:"node,omitempty"` // the destination's node
	Address string `json:"address"`        // IP:port judged (after DNAT for a Service)
	Allowed bool   `json:"allowed"`
	// Always says why no policy was consulted (a pod reaching itself or its node).
	Always  string        `json:"always,omitempty"`
	Egress  TraceDecision `json:"egress"`
	Ingress TraceDecision `json:"ingress"`
	Reason  string        `json:"reason"` // the model's explanation, as text
}

// TraceDecision is one direction's half of a verdict.
type TraceDecision struct {
	Pod      string   `json:"pod,omitempty"` // the pod judged; "" when that end is no pod
	Isolated bool     `json:"isolated"`
	Policies []string `json:"policies,omitempty"` // isolating Pod in this direction
	Allowed  bool     `json:"allowed"`
	Policy   string   `json:"policy,omitempty"` // the policy whose rule allowed the flow
	Rule     int      `json:"rule"`             // that rule's index in spec.ingress or spec.egress
	Text     string   `json:"text"`
}

// NetpolCounters reads the NetworkPolicy counters of every node.
func (c *Client) NetpolCounters(ctx context.Context) (*NetpolCounters, error) {
	var out NetpolCounters
	if err := c.do(ctx, http.MethodGet, PathNetpolCounters, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// NetpolTrace asks the model to explain one flow.
func (c *Client) NetpolTrace(ctx context.Context, q TraceQuery) (*TraceVerdict, error) {
	var out TraceVerdict
	if err := c.do(ctx, http.MethodPost, PathNetpolTrace, q, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
