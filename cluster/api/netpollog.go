package api

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// PathNetpolLog serves GET ?since=SEQ: VerdictLog, the entries of the NetworkPolicy
// verdict log after SEQ (podlab logs --policy).
const PathNetpolLog = "/v1/netpol/log"

// VerdictLog is the newest entries of the verdict log, oldest first.
type VerdictLog struct {
	Entries []VerdictEntry `json:"entries"`
	// Next is the Seq to ask for next (the last entry's + 1, or since when none).
	Next uint64 `json:"next"`
	// Lost counts the records the nodes' kernels dropped because the supervisor read
	// them too slowly (nflog socket overruns), since it started.
	Lost int `json:"lost"`
}

// VerdictEntry is one packet a node's NetworkPolicy table logged: a drop by a pod's
// default deny or (Verdict allow) a packet a policy's rule accepted.
type VerdictEntry struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Node      string    `json:"node"`
	Verdict   string    `json:"verdict"`   // drop or allow
	Direction string    `json:"direction"` // ingress or egress
	// Pod is the pod judged (namespace/name): the destination for ingress, the source
	// for egress; "" when the log's key was cut and no pod matches its id any more.
	Pod string `json:"pod"`
	// Policies isolating Pod in Direction (drops: whose default deny dropped it).
	Policies []string `json:"policies,omitempty"`
	// Policy and Rule: the rule that allowed (allows only; Rule is its index in the
	// policy's spec.ingress or spec.egress).
	Policy   string `json:"policy,omitempty"`
	Rule     *int   `json:"rule,omitempty"`
	Protocol string `json:"protocol"` // TCP, UDP, SCTP, ICMP or the number
	Src      string `json:"src"`      // IP:port (IP alone without ports)
	Dst      string `json:"dst"`
	SrcPod   string `json:"srcPod,omitempty"` // namespace/name when the address is a pod's
	DstPod   string `json:"dstPod,omitempty"`
	Message  string `json:"message"` // the entry as one line of text
}

// NetpolLog returns the verdict log entries after since.
func (c *Client) NetpolLog(ctx context.Context, since uint64) (*VerdictLog, error) {
	var out VerdictLog
	if err := c.do(ctx, http.MethodGet, PathNetpolLog+"?since="+strconv.FormatUint(since, 10), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
