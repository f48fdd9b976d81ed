package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/netprobe"
)

func newTrace() *cobra.Command {
	a := probeArgs{target: "pod"}
	cmd := &cobra.Command{
		Use:   "trace [--name LAB] --from NS/POD --to NS/POD|SVC.NS|IP --port N [--protocol tcp|udp]",
		Short: "Explain a flow: the NetworkPolicies that decide it, and the nft counters a real packet moves",
		Example: `  sudo podlab trace --from x/a --to y/b --port 80
  sudo podlab trace --from default/web-1 --to web.default --port 80 -o json`,
		Long: "Asks the lab's NetworkPolicy model about one flow and prints, for the source's egress\n" +
			"and the destination's ingress, the policies that isolate the pod and the rule that\n" +
			"allowed the flow (x/allow-b rule 0 (spec.ingress[0])), or the default deny of the\n" +
			"isolating policies. --to SVC.NS is judged as the dataplane judges it, after kube-proxy's\n" +
			"DNAT, at each ready backend (at its target port).\n\n" +
			"Then sends one real probe from inside the source pod (as podlab probe does: a TCP\n" +
			"connect and GET /hostname, or a UDP datagram) and prints whether it passed and which\n" +
			"counters of the nodes' NetworkPolicy tables (nft table ip podlab-netpol) moved while it\n" +
			"ran: drop/<direction>/<ns>/<pod> is a pod's default deny, allow/<direction>/<ns>/\n" +
			"<policy>/<rule> a rule that accepted the packet (the first packet of a connection).\n" +
			"Other traffic in the lab moves counters too. No counters exist until a policy does.\n" +
			"-o json prints {verdict, packet, counters, agrees}. Exit 0 when the trace ran\n" +
			"(whatever the verdict), 1 when it could not, 2 for invalid input.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.checkTrace(); err != nil {
				return err
			}
			c, lab, err := client(cmd)
			if err != nil {
				return err
			}
			if err := needRoot("podlab trace"); err != nil {
				return err
			}
			l, err := loadProbeLab(cmd.Context(), cmd, c, lab)
			if err != nil {
				return err
			}
			return runTrace(cmd, l, &a)
		},
	}
	f := cmd.Flags()
	f.String("name", "", "lab name (default: the only deployed lab)")
	f.StringVar(&a.from, "from", "", "source pod, NS/POD")
	f.StringVar(&a.to, "to", "", "destination: NS/POD, SVC.NS (a Service's ClusterIP) or an IP address")
	f.IntVar(&a.port, "port", 0, "destination port (a Service's port for a Service)")
	f.StringVar(&a.protocol, "protocol", "tcp", "tcp|udp")
	f.StringVarP(&a.output, "output", "o", "text", "text|json")
	f.DurationVar(&a.timeout, "timeout", netprobe.DefaultTimeout, "the probe's deadline for each try; a timed-out probe is tried twice")
	return cmd
}

// checkTrace validates trace's flags with probe's checks, plus what trace adds.
func (a *probeArgs) checkTrace() error {
	if a.output == "text" {
		a.output = "table"
		defer func() { a.output = "text" }()
	}
	if a.output != "table" && a.output != "json" {
		return invalid("output format %q: expected text or json", a.output)
	}
	if a.from == "" || a.to == "" {
		return invalid("say what to trace: --from NS/POD --to NS/POD|SVC.NS|IP --port N")
	}
	if err := a.check(); err != nil {
		return err
	}
	if a.protocol == "SCTP" {
		return invalid("--protocol sctp: this kernel has no SCTP sockets, so trace cannot send the packet; use tcp or udp")
	}
	if t, _ := netprobe.ParseTarget(a.to); t.Kind == netprobe.ToName {
		return invalid("--to %s: expected NS/POD, SVC.NS or an IP address (trace judges Services and pods, not DNS names; see `podlab dns`)", a.to)
	}
	return nil
}

// counterMove is one counter that moved while the trace's packet was sent.
type counterMove struct {
	Node    string `json:"node"`
	Counter string `json:"counter"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// traceReply is what -o json prints.
type traceReply struct {
	Verdict  *api.TraceVerdict `json:"verdict"`
	Packet   singleReply       `json:"packet"`
	Counters []counterMove     `json:"counters"`
	// Agrees: the packet's fate is the model's (for a Service: the answering backend's
	// verdict when it passed, every backend's when it did not).
	Agrees bool   `json:"agrees"`
	Note   string `json:"note,omitempty"`
}

func runTrace(cmd *cobra.Command, l *probeLab, a *probeArgs) error {
	ctx := cmd.Context()
	q := api.TraceQuery{From: a.from, To: a.to, Port: int32(a.port), Protocol: a.protocol}
	v, err := l.client.NetpolTrace(ctx, q)
	if errors.Is(err, api.ErrNotFound) {
		return invalid("%v; see `podlab get pods,svc -A --name %s`", err, l.name)
	}
	if err != nil {
		return err
	}
	dial, err := l.dialFrom(a.from)
	if err != nil {
		return err
	}
	rep := traceReply{Verdict: v, Packet: singleReply{From: a.from, To: a.to, Protocol: a.protocol}}
	t, _ := netprobe.ParseTarget(a.to)
	addr, answerNS, err := l.resolve(ctx, a, t, &rep.Packet)
	if err != nil {
		return err
	}
	rep.Packet.Address = netip.AddrPortFrom(addr, uint16(a.port)).String()
	before, err := l.client.NetpolCounters(ctx)
	if err != nil {
		return err
	}
	res := netprobe.Run(ctx, netprobe.Probe{Dial: dial, Addr: netip.AddrPortFrom(addr, uint16(a.port)), Protocol: a.protocol, Timeout: a.timeout})
	if res.Verdict == netprobe.Failed {
		return fmt.Errorf("trace %s -> %s: the probe failed: %s", a.from, rep.Packet.Address, res.Error)
	}
	after, err := l.client.NetpolCounters(ctx)
	if err != nil {
		return err
	}
	p := &rep.Packet
	p.Verdict, p.Allowed, p.Tries, p.Took = res.Verdict, res.Verdict.Connected(), res.Tries, roundTime(res.Took)
	p.AnsweredBy = l.answeredBy(res.Answer, answerNS)
	rep.Counters = counterMoves(before.Nodes, after.Nodes, traceNodes(v))
	rep.Agrees = agrees(v, *p)
	if len(after.Nodes) == 0 {
		rep.Note = "no node has a NetworkPolicy table yet (the lab has never had a policy): no counters"
	}
	if after.Error != "" {
		rep.Note = strings.TrimSpace(rep.Note + "; counters: " + after.Error)
	}
	w := cmd.OutOrStdout()
	if a.output == "json" {
		return writeJSON(w, rep)
	}
	printTrace(w, rep, res, a)
	return nil
}

// traceNodes are the nodes a flow crosses: the source's and each destination's.
func traceNodes(v *api.TraceVerdict) []string {
	nodes := []string{v.FromNode}
	for _, t := range v.Targets {
		if t.Node != "" && !slices.Contains(nodes, t.Node) {
			nodes = append(nodes, t.Node)
		}
	}
	return nodes
}

// counterMoves lists the counters of nodes that grew between before and after,
// sorted by node and counter. A counter that is new or went down (the table was
// rebuilt) moved by its whole value.
func counterMoves(before, after map[string]map[string]api.PacketCount, nodes []string) []counterMove {
	var out []counterMove
	for _, node := range nodes {
		cs := after[node]
		for _, k := range slices.Sorted(maps.Keys(cs)) {
			c, old := cs[k], before[node][k]
			if c.Packets < old.Packets {
				old = api.PacketCount{}
			}
			if c.Packets > old.Packets {
				out = append(out, counterMove{Node: node, Counter: k, Packets: c.Packets - old.Packets, Bytes: c.Bytes - min(old.Bytes, c.Bytes)})
			}
		}
	}
	return out
}

// agrees says whether the packet's fate is the model's. A refused probe reached a
// pod that did not listen: the policies let it through.
func agrees(v *api.TraceVerdict, p singleReply) bool {
	passed := p.Verdict == netprobe.Allowed || p.Verdict == netprobe.Refused
	if !passed {
		return !slices.ContainsFunc(v.Targets, func(t api.TraceTarget) bool { return t.Allowed })
	}
	for _, t := range v.Targets {
		if t.To == p.AnsweredBy {
			return t.Allowed
		}
	}
	return slices.ContainsFunc(v.Targets, func(t api.TraceTarget) bool { return t.Allowed })
}

func printTrace(w io.Writer, rep traceReply, res netprobe.Result, a *probeArgs) {
	v := rep.Verdict
	fmt.Fprintf(w, "trace %s (%s, node %s) -> %s %s/%d\n", v.From, v.FromIP, v.FromNode, v.To, v.Protocol, v.Port)
	if v.Service != "" {
		fmt.Fprintf(w, "\nmodel, through Service %s: judged after kube-proxy's DNAT at each ready backend\n", v.Service)
	} else {
		fmt.Fprintln(w, "\nmodel:")
	}
	for _, t := range v.Targets {
		where := t.Address
		if t.Node != "" {
			where += ", node " + t.Node
		}
		word := "blocked"
		if t.Allowed {
			word = "allowed"
		}
		if t.Always != "" {
			fmt.Fprintf(w, "  %s (%s): %s: %s\n", t.To, where, word, t.Always)
			continue
		}
		fmt.Fprintf(w, "  %s (%s): %s\n    %s\n    %s\n", t.To, where, word, t.Egress.Text, t.Ingress.Text)
	}
	fmt.Fprintf(w, "\npacket: %s -> %s (%s): %s, %s\n", rep.Packet.From, rep.Packet.Address, rep.Packet.Protocol, verdictText(res, rep.Packet, a), rep.Packet.Took)
	switch {
	case len(rep.Counters) > 0:
		fmt.Fprintln(w, "counters moved (nft table ip podlab-netpol):")
		for _, m := range rep.Counters {
			fmt.Fprintf(w, "  %-14s %-40s +%d packets\n", m.Node, m.Counter, m.Packets)
		}
	case rep.Note == "":
		fmt.Fprintln(w, "counters moved: none (no policy isolates these pods in this direction, or the flow was established)")
	}
	if rep.Note != "" {
		fmt.Fprintln(w, "note:", rep.Note)
	}
	if !rep.Agrees {
		fmt.Fprintln(w, "warning: the packet disagrees with the model: the dataplane does not enforce what the objects say")
	}
}
