package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/spf13/cobra"
	v1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/netprobe"
	"podlab.dev/podlab/resolver"
	"podlab.dev/podlab/runtime/netns"
)

// probeArgs are probe's flags, checked before the lab is touched.
type probeArgs struct {
	from, to   string
	matrix     bool
	namespaces []string
	port       int
	protocol   string
	target     string
	output     string
	expect     string
	timeout    time.Duration
}

func newProbe() *cobra.Command {
	var a probeArgs
	cmd := &cobra.Command{
		Use:   "probe [--name LAB] (--from NS/POD --to NS/POD|SVC.NS|IP|NAME | --matrix [--namespaces x,y,z] [--target pod|service]) --port N [--protocol tcp|udp|sctp]",
		Short: "Send real packets from inside pods: one flow, or a reachability matrix as a truth table",
		Example: `  sudo podlab probe --from default/web-1 --to shop/api-5d9cc699db-6vgx8 --port 8080
  sudo podlab probe --from default/web-1 --to web.default --port 80
  sudo podlab probe --matrix --namespaces x,y,z --port 80 --expect model`,
		Long: "Opens a real connection from inside the source pod's network namespace: a TCP\n" +
			"connect then GET /hostname, or a UDP \"hostname\" datagram (what podlab's servers\n" +
			"answer). A probe is allowed when it connects, \"timed out\" (blocked: a NetworkPolicy\n" +
			"drops silently) when nothing answers within --timeout on two tries, \"refused\" when a\n" +
			"reset or port unreachable comes back (nothing listens there: not a policy verdict).\n" +
			"--to SVC.NS goes to the Service's ClusterIP, so kube-proxy picks the backend that\n" +
			"answers; a NAME is resolved by the cluster DNS with the pod's resolv.conf.\n\n" +
			"--matrix probes every pod of --namespaces (default: all but kube-system) to every pod\n" +
			"(or, with --target service, to the Service selecting exactly that pod), all at once,\n" +
			"and prints the truth table as the upstream e2e netpol suite does: rows from, columns\n" +
			"to, '.' allowed, 'X' blocked or refused, '?' unknown. -o json prints\n" +
			"{\"from\": {\"NS/POD\": {\"NS/POD\": true|false}}, \"port\": N, \"protocol\": \"TCP\"}.\n" +
			"--expect model adds the table NetworkPolicy's model predicts from the objects and marks\n" +
			"with '*' every cell where the packets disagree.\n" +
			"This kernel has no SCTP sockets: SCTP probes answer \"unsupported\", never a verdict.\n" +
			"Exit 0 when the probes ran (whatever the verdicts), 1 when they could not, 2 for\n" +
			"invalid input.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := a.check(); err != nil {
				return err
			}
			c, lab, err := client(cmd)
			if err != nil {
				return err
			}
			if err := needRoot("podlab probe"); err != nil {
				return err
			}
			l, err := loadProbeLab(cmd.Context(), cmd, c, lab)
			if err != nil {
				return err
			}
			if a.matrix {
				return runMatrix(cmd, c, l, &a)
			}
			return runSingle(cmd, l, &a)
		},
	}
	f := cmd.Flags()
	f.String("name", "", "lab name (default: the only deployed lab)")
	f.StringVar(&a.from, "from", "", "source pod, NS/POD")
	f.StringVar(&a.to, "to", "", "destination: NS/POD, SVC.NS (a Service's ClusterIP), an IP address or a DNS name")
	f.BoolVar(&a.matrix, "matrix", false, "probe every pod to every pod and print the truth table")
	f.StringSliceVar(&a.namespaces, "namespaces", nil, "the matrix's namespaces (default: every namespace but kube-system)")
	f.IntVar(&a.port, "port", 0, "destination port (a Service's port for a Service)")
	f.StringVar(&a.protocol, "protocol", "tcp", "tcp|udp|sctp")
	f.StringVar(&a.target, "target", "pod", "matrix columns probed through: pod (its IP) or service (the Service selecting exactly that pod)")
	f.StringVarP(&a.output, "output", "o", "table", "table|json")
	f.StringVar(&a.expect, "expect", "", "model: print the NetworkPolicy model's table beside the packets' and mark disagreements")
	f.DurationVar(&a.timeout, "timeout", netprobe.DefaultTimeout, "each try's deadline; a timed-out probe is tried twice")
	return cmd
}

// check validates the flags alone, with a hint for each mistake.
func (a *probeArgs) check() error {
	if a.output != "table" && a.output != "json" {
		return invalid("output format %q: expected table or json", a.output)
	}
	if a.port < 1 || a.port > 65535 {
		return invalid("--port %d: expected the destination port, 1-65535, such as --port 80", a.port)
	}
	proto, err := netprobe.ParseProtocol(a.protocol)
	if err != nil {
		return invalid("%v", err)
	}
	a.protocol = proto
	if a.target != "pod" && a.target != "service" {
		return invalid("--target %q: expected pod or service", a.target)
	}
	if a.expect != "" && a.expect != "model" {
		return invalid("--expect %q: expected model", a.expect)
	}
	if a.timeout < time.Millisecond || a.timeout > time.Minute {
		return invalid("--timeout %s: expected a duration between 1ms and 1m, such as 300ms", a.timeout)
	}
	if a.matrix {
		if a.from != "" || a.to != "" {
			return invalid("--matrix probes every pod to every pod: drop --from and --to, or drop --matrix for one flow")
		}
		for _, ns := range a.namespaces {
			if _, _, err := netprobe.ParsePod(ns + "/x"); err != nil {
				return invalid("--namespaces: %q is not a namespace name", ns)
			}
		}
		return nil
	}
	if a.from == "" || a.to == "" {
		return invalid("say what to probe: --from NS/POD --to NS/POD|SVC.NS|IP|NAME --port N, or --matrix --port N")
	}
	if len(a.namespaces) > 0 || a.target != "pod" || a.expect != "" {
		return invalid("--namespaces, --target and --expect are for --matrix")
	}
	if _, _, err := netprobe.ParsePod(a.from); err != nil {
		return invalid("--from: %v", err)
	}
	if _, err := netprobe.ParseTarget(a.to); err != nil {
		return invalid("--to: %v", err)
	}
	return nil
}

// probeLab is what probes need of the live lab: its pods and Services.
type probeLab struct {
	client *api.Client
	name   string
	pods   []api.PodState
	svcs   []*v1.Service
}

func loadProbeLab(ctx context.Context, cmd *cobra.Command, c *api.Client, lab string) (*probeLab, error) {
	st, err := c.State(ctx)
	if err != nil {
		return nil, err
	}
	objs, err := collect(cmd, c, "Service", "", "")
	if err != nil {
		return nil, err
	}
	l := &probeLab{client: c, name: lab, pods: st.Pods}
	for _, o := range objs {
		if svc, ok := o.(*v1.Service); ok {
			l.svcs = append(l.svcs, svc)
		}
	}
	return l, nil
}

func (l *probeLab) pod(key string) *api.PodState {
	for i := range l.pods {
		if l.pods[i].Namespace+"/"+l.pods[i].Name == key {
			return &l.pods[i]
		}
	}
	return nil
}

func (l *probeLab) service(ns, name string) *v1.Service {
	for _, s := range l.svcs {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

// answeredBy names the pod whose hostname came back: first in ns, else the only
// pod of that name; else the answer as it is.
func (l *probeLab) answeredBy(answer, ns string) string {
	if answer == "" {
		return ""
	}
	if l.pod(ns+"/"+answer) != nil {
		return ns + "/" + answer
	}
	var found []string
	for _, p := range l.pods {
		if p.Name == answer {
			found = append(found, p.Namespace+"/"+p.Name)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return answer
}

// dialFrom opens sockets in the pod's namespace (the one `podlab dns` uses).
func (l *probeLab) dialFrom(key string) (netprobe.Dial, error) {
	p := l.pod(key)
	if p == nil {
		return nil, invalid("lab %s has no pod %s; see `podlab get pods -A --name %s`", l.name, key, l.name)
	}
	if !p.IP.IsValid() || p.Netns == "" {
		return nil, fmt.Errorf("pod %s is Pending (no node or address yet): it has no network to probe from", key)
	}
	return dialIn(netns.Path(p.Netns)), nil
}

// singleReply is one probe as -o json prints it.
type singleReply struct {
	From       string           `json:"from"`
	To         string           `json:"to"`
	Address    string           `json:"address"`
	Service    string           `json:"service,omitempty"`
	Protocol   string           `json:"protocol"`
	Verdict    netprobe.Verdict `json:"verdict"`
	Allowed    bool             `json:"allowed"`
	AnsweredBy string           `json:"answeredBy,omitempty"`
	Tries      int              `json:"tries"`
	Took       string           `json:"took"`
}

func runSingle(cmd *cobra.Command, l *probeLab, a *probeArgs) error {
	if a.protocol == "SCTP" {
		return netprobe.SCTPUnsupported()
	}
	dial, err := l.dialFrom(a.from)
	if err != nil {
		return err
	}
	t, _ := netprobe.ParseTarget(a.to)
	rep := singleReply{From: a.from, To: a.to, Protocol: a.protocol}
	addr, answerNS, err := l.resolve(cmd.Context(), a, t, &rep)
	if err != nil {
		return err
	}
	rep.Address = netip.AddrPortFrom(addr, uint16(a.port)).String()
	res := netprobe.Run(cmd.Context(), netprobe.Probe{Dial: dial, Addr: netip.AddrPortFrom(addr, uint16(a.port)), Protocol: a.protocol, Timeout: a.timeout})
	if res.Verdict == netprobe.Failed {
		return fmt.Errorf("probe %s -> %s: %s", a.from, rep.Address, res.Error)
	}
	rep.Verdict, rep.Allowed, rep.Tries, rep.Took = res.Verdict, res.Verdict.Connected(), res.Tries, roundTime(res.Took)
	rep.AnsweredBy = l.answeredBy(res.Answer, answerNS)
	w := cmd.OutOrStdout()
	if a.output == "json" {
		return writeJSON(w, rep)
	}
	fmt.Fprintf(w, "%s -> %s (%s %s): %s, %s\n", rep.From, rep.To, rep.Address, rep.Protocol, verdictText(res, rep, a), rep.Took)
	return nil
}

// resolve turns --to into the address to probe and the namespace whose pods may answer.
func (l *probeLab) resolve(ctx context.Context, a *probeArgs, t netprobe.Target, rep *singleReply) (netip.Addr, string, error) {
	switch t.Kind {
	case netprobe.ToPod:
		p := l.pod(t.Namespace + "/" + t.Name)
		if p == nil {
			return netip.Addr{}, "", invalid("lab %s has no pod %s/%s; see `podlab get pods -A --name %s`", l.name, t.Namespace, t.Name, l.name)
		}
		if !p.IP.IsValid() {
			return netip.Addr{}, "", fmt.Errorf("pod %s/%s is Pending: it has no address to probe", t.Namespace, t.Name)
		}
		return p.IP, t.Namespace, nil
	case netprobe.ToService:
		if svc := l.service(t.Namespace, t.Name); svc != nil {
			ip := netprobe.ClusterIP(svc)
			if !ip.IsValid() {
				return netip.Addr{}, "", invalid("Service %s/%s has no ClusterIP (headless or ExternalName): probe its pods, or its DNS name", t.Namespace, t.Name)
			}
			if _, ok := netprobe.ServicePort(svc, int32(a.port), a.protocol); !ok {
				return netip.Addr{}, "", invalid("Service %s/%s has no port %d/%s; see `podlab get svc %s -n %s`", t.Namespace, t.Name, a.port, a.protocol, t.Name, t.Namespace)
			}
			rep.Service = t.Namespace + "/" + t.Name
			return ip, t.Namespace, nil
		}
	}
	ip := t.IP
	if t.Kind != netprobe.ToIP {
		var err error
		if ip, err = l.lookup(ctx, a.from, t.Host); err != nil {
			return netip.Addr{}, "", err
		}
	}
	return ip, l.owner(ip, rep), nil
}

// owner is the namespace of the pod or Service at ip, whose pods may answer; a
// Service is recorded in rep.
func (l *probeLab) owner(ip netip.Addr, rep *singleReply) string {
	for _, svc := range l.svcs {
		if netprobe.ClusterIP(svc) == ip {
			rep.Service = svc.Namespace + "/" + svc.Name
			return svc.Namespace
		}
	}
	for _, p := range l.pods {
		if p.IP == ip {
			return p.Namespace
		}
	}
	return ""
}

// lookup resolves host with the source pod's resolver, as its processes would.
func (l *probeLab) lookup(ctx context.Context, from, host string) (netip.Addr, error) {
	p := l.pod(from)
	ns, name, _ := netprobe.ParsePod(from)
	etc, err := l.client.PodEtc(ctx, ns, name)
	if err != nil {
		return netip.Addr{}, err
	}
	conf, err := resolver.ParseConf(etc.ResolvConf)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("pod %s: %w", from, err)
	}
	r := &resolver.Resolver{Config: conf, Dial: dialIn(netns.Path(p.Netns))}
	res := r.Search(ctx, host, mdns.TypeA)
	for _, rr := range res.Answer {
		if a, ok := parseA(rr); ok {
			return a, nil
		}
	}
	if res.Resolved || len(res.Attempts) > 0 && !slices.ContainsFunc(res.Attempts, func(a resolver.Attempt) bool { return a.Rcode == resolver.RcodeTimeout }) {
		return netip.Addr{}, invalid("--to %s: no such pod, Service or name: %s (see `podlab dns --from %s -n %s %s`)", host, dnsFailure(res), name, ns, host)
	}
	return netip.Addr{}, fmt.Errorf("--to %s: %s", host, dnsFailure(res))
}

// parseA reads the address of an A record as the resolver prints it.
func parseA(rr string) (netip.Addr, bool) {
	f := strings.Split(rr, "\t")
	if len(f) != 5 || f[3] != "A" {
		return netip.Addr{}, false
	}
	ip, err := netip.ParseAddr(f[4])
	return ip, err == nil
}

// verdictText says what a single probe's verdict means.
func verdictText(res netprobe.Result, rep singleReply, a *probeArgs) string {
	switch res.Verdict {
	case netprobe.Allowed:
		s := "allowed"
		if rep.AnsweredBy != "" {
			s += ", answered by " + rep.AnsweredBy
			if rep.Service != "" {
				s += " (a backend of Service " + rep.Service + ")"
			}
		}
		return s
	case netprobe.TimedOut:
		return fmt.Sprintf("blocked: timed out (no answer to %d tries of %s; a NetworkPolicy drops silently)", res.Tries, a.timeout)
	case netprobe.Refused:
		what := "a TCP reset"
		if a.protocol == "UDP" {
			what = "ICMP port unreachable"
		}
		return fmt.Sprintf("refused (%s: nothing listens on %s %d there, or a Service without ready endpoints; not a NetworkPolicy verdict)", what, a.protocol, a.port)
	}
	return string(res.Verdict) + ": " + res.Error
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
