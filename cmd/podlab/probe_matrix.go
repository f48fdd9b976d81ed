package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/netprobe"
	"podlab.dev/podlab/runtime/netns"
)

// matrixReply is the matrix as -o json prints it: the upstream suite's shape, with the
// model's table when asked for.
type matrixReply struct {
	From     map[string]map[string]bool `json:"from"`
	Port     int                        `json:"port"`
	Protocol string                     `json:"protocol"`
	Expected map[string]map[string]bool `json:"expected,omitempty"`
}

// matrix is the probes of one run and what could not be probed.
type matrix struct {
	rows, cols []string
	services   []string // per column, the Service (NS/NAME) probed, with --target service
	cells      []netprobe.Cell
	notes      []string
	reasons    map[[2]string]string // the model's explanation per cell
}

func runMatrix(cmd *cobra.Command, c *api.Client, l *probeLab, a *probeArgs) error {
	m, err := l.matrix(a)
	if err != nil {
		return err
	}
	// Two tries of each probe fit; a third try's worth of slack covers the machine.
	ctx, cancel := context.WithTimeout(cmd.Context(), 3*a.timeout+100*time.Millisecond)
	defer cancel()
	start := time.Now()
	netprobe.RunAll(ctx, m.cells, 0)
	took := time.Since(start)
	packets := netprobe.NewTable(m.rows, m.cols)
	var unknown int
	for _, cell := range m.cells {
		if cell.Result.Verdict.Known() {
			packets.Set(cell.From, cell.To, cell.Result.Verdict.Connected())
		} else {
			unknown++
		}
	}
	var model *netprobe.Table
	if a.expect == "model" {
		if model, err = modelTable(cmd.Context(), c, m, a); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	summary := fmt.Sprintf("%d probes in %s", len(m.cells), roundTime(took))
	if a.output == "json" {
		rep := matrixReply{From: packets.Values, Port: a.port, Protocol: a.protocol}
		if model != nil {
			rep.Expected = model.Values
		}
		if err := writeJSON(w, rep); err != nil {
			return err
		}
		// The time and notes go to stderr: stdout is exactly the table's JSON.
		fmt.Fprintf(cmd.ErrOrStderr(), "%s %d: %s\n", a.protocol, a.port, summary)
		for _, n := range m.notes {
			fmt.Fprintln(cmd.ErrOrStderr(), n)
		}
	} else {
		printMatrix(w, a, m, packets, model, summary)
	}
	if unknown > 0 {
		return fmt.Errorf("%d of %d probes have no verdict: %s", unknown, len(m.cells), firstError(m.cells))
	}
	return nil
}

// matrix lays out the probes: every pod of the namespaces to every pod (or its Service).
func (l *probeLab) matrix(a *probeArgs) (*matrix, error) {
	want := func(ns string) bool {
		if len(a.namespaces) == 0 {
			return ns != "kube-system"
		}
		return slices.Contains(a.namespaces, ns)
	}
	var pods []api.PodState
	seen := map[string]bool{}
	for _, p := range l.pods {
		seen[p.Namespace] = true
		if want(p.Namespace) {
			pods = append(pods, p)
		}
	}
	for _, ns := range a.namespaces {
		if !seen[ns] {
			return nil, invalid("--namespaces: lab %s has no pods in namespace %s; see `podlab get pods -A --name %s`", l.name, ns, l.name)
		}
	}
	slices.SortFunc(pods, func(x, y api.PodState) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	m := &matrix{}
	var all []*services.Pod
	for _, p := range pods {
		all = append(all, &services.Pod{Namespace: p.Namespace, Name: p.Name, IP: p.IP, Labels: p.Labels})
	}
	var dests []netip.Addr
	for i, p := range pods {
		key := p.Namespace + "/" + p.Name
		if !p.IP.IsValid() || p.Netns == "" {
			m.notes = append(m.notes, fmt.Sprintf("%s is Pending (no address): left out", key))
			continue
		}
		m.rows = append(m.rows, key)
		dest, through := p.IP, ""
		if a.target == "service" {
			svc, err := netprobe.ServiceFor(all[i], all, l.svcs, int32(a.port), a.protocol)
			if err != nil {
				m.notes = append(m.notes, fmt.Sprintf("column %s left out: %v", key, err))
				continue
			}
			dest, through = netprobe.ClusterIP(svc), svc.Namespace+"/"+svc.Name
		}
		m.cols = append(m.cols, key)
		m.services = append(m.services, through)
		dests = append(dests, dest)
	}
	if len(m.rows) == 0 || len(m.cols) == 0 {
		return nil, fmt.Errorf("nothing to probe in lab %s: %s", l.name, strings.Join(append(m.notes, "no pods with an address"), "; "))
	}
	for _, from := range m.rows {
		dial := dialIn(netns.Path(l.pod(from).Netns))
		for j, to := range m.cols {
			m.cells = append(m.cells, netprobe.Cell{From: from, To: to, Probe: netprobe.Probe{
				Dial: dial, Addr: netip.AddrPortFrom(dests[j], uint16(a.port)), Protocol: a.protocol, Timeout: a.timeout}})
		}
	}
	return m, nil
}

// printMatrix prints the packets' table, the model's, and what differs or is not a
// policy verdict (refused, unsupported).
func printMatrix(w io.Writer, a *probeArgs, m *matrix, packets, model *netprobe.Table, summary string) {
	through := "pods"
	if a.target == "service" {
		through = "their Services' ClusterIPs"
	}
	fmt.Fprintf(w, "%s %d to %s: %s\n", a.protocol, a.port, through, summary)
	packets.Render(w, model)
	if model != nil {
		fmt.Fprintln(w, "\nexpected by the NetworkPolicy model:")
		model.Render(w, nil)
		if d := packets.Disagree(model); len(d) > 0 {
			fmt.Fprintf(w, "\n%d cells (*) disagree with the model:\n", len(d))
			for _, c := range d {
				v, _ := packets.Get(c[0], c[1])
				fmt.Fprintf(w, "  %s -> %s: packets %s, model %s: %s\n", c[0], c[1], allowedWord(v), allowedWord(!v), strings.ReplaceAll(m.reasons[c], "\n", "\n      "))
			}
		} else {
			fmt.Fprintln(w, "\npackets and model agree on every cell")
		}
	}
	var refused []string
	for _, c := range m.cells {
		if c.Result.Verdict == netprobe.Refused {
			refused = append(refused, c.From+" -> "+c.To)
		}
	}
	if len(refused) > 0 {
		fmt.Fprintf(w, "\nrefused, not blocked (X: a reset or port unreachable came back, nothing listens on %s %d there): %s\n", a.protocol, a.port, strings.Join(refused, ", "))
	}
	for _, n := range m.notes {
		fmt.Fprintln(w, n)
	}
}

func allowedWord(v bool) string {
	if v {
		return "allowed"
	}
	return "blocked"
}

func firstError(cells []netprobe.Cell) string {
	for _, c := range cells {
		if !c.Result.Verdict.Known() {
			return fmt.Sprintf("%s -> %s: %s", c.From, c.To, c.Result.Error)
		}
	}
	return ""
}

// modelTable asks the supervisor for the NetworkPolicy model's verdict on every cell.
func modelTable(ctx context.Context, c *api.Client, m *matrix, a *probeArgs) (*netprobe.Table, error) {
	var flows []api.FlowQuery
	for _, from := range m.rows {
		for j, to := range m.cols {
			flows = append(flows, api.FlowQuery{From: from, To: to, Port: int32(a.port), Protocol: a.protocol, Service: m.services[j]})
		}
	}
	verdicts, err := c.NetpolVerdicts(ctx, flows)
	if err != nil {
		return nil, fmt.Errorf("--expect model: %w", err)
	}
	t := netprobe.NewTable(m.rows, m.cols)
	for _, v := range verdicts {
		if v.Error != "" {
			m.notes = append(m.notes, fmt.Sprintf("model: %s -> %s: %s", v.From, v.To, v.Error))
			continue
		}
		t.Set(v.From, v.To, v.Allowed)
		if m.reasons == nil {
			m.reasons = map[[2]string]string{}
		}
		m.reasons[[2]string{v.From, v.To}] = v.Reason
	}
	return t, nil
}
