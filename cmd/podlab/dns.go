package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/spf13/cobra"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/resolver"
	"podlab.dev/podlab/runtime/netns"
)

// dnsTypes are the query types `podlab dns` asks.
var dnsTypes = []string{"A", "AAAA", "SRV", "PTR", "TXT", "CNAME", "MX", "NS", "SOA", "ANY"}

func newDNS() *cobra.Command {
	var namespace, from, output string
	cmd := &cobra.Command{
		Use:   "dns [--name LAB] [-n NAMESPACE] --from POD NAME [TYPE]",
		Short: "Resolve a name as a pod's resolver would, showing every query of its search path",
		Example: `  sudo podlab dns --from web-1 web
  sudo podlab dns --from web-1 _http._tcp.web.default.svc.cluster.local SRV
  sudo podlab dns -n shop --from api-5d9cc699db-6vgx8 example.com.`,
		Long: "Resolves NAME with the pod's /etc/resolv.conf as glibc's resolver does, sending the\n" +
			"queries from the pod's network namespace, and shows each one: the name asked (NAME\n" +
			"with each search domain, then as it is, per ndots), the server, the rcode, the\n" +
			"answer and the time. With ndots:5 a name such as example.com is first tried with\n" +
			"every search domain. TYPE is A (default), AAAA, SRV, PTR, TXT, CNAME, MX, NS, SOA or\n" +
			"ANY; an IP address as NAME asks its PTR, as `dig -x` does. A trailing dot asks the\n" +
			"name as it is. Exit 0 when the name resolved, 1 when not (NXDOMAIN, NODATA, no\n" +
			"server answered), 2 for a pod or type that does not exist.",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "table" && output != "json" {
				return invalid("output format %q: expected table or json", output)
			}
			if from == "" {
				return invalid("say whose resolver to use: podlab dns --from POD %s", strings.Join(args, " "))
			}
			name, qtype, err := dnsQuestion(args)
			if err != nil {
				return err
			}
			lab, dir, p, err := deployedLab(cmd)
			if err != nil {
				return err
			}
			if err := needRoot("podlab dns"); err != nil {
				return err
			}
			pod, err := podEtc(cmd.Context(), dir, p, namespace, from)
			if errors.Is(err, api.ErrNotFound) {
				return invalid("lab %s has no pod %s/%s; see `podlab get pods -n %s --name %s`", lab, namespace, from, namespace, lab)
			} else if err != nil {
				return err
			}
			if !pod.IP.IsValid() {
				return fmt.Errorf("pod %s/%s is Pending (no node or address yet): it has no network to ask from", namespace, from)
			}
			conf, err := resolver.ParseConf(pod.ResolvConf)
			if err != nil {
				return fmt.Errorf("pod %s/%s: %w", namespace, from, err)
			}
			path := netns.Path(pod.Netns)
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("pod %s/%s: namespace %s is gone; redeploy the lab", namespace, from, pod.Netns)
			}
			r := &resolver.Resolver{Config: conf, Dial: dialIn(path)}
			res := r.Search(cmd.Context(), name, qtype)
			w := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				printSearch(w, pod, res)
			}
			if !res.Resolved {
				return errors.New(dnsFailure(res))
			}
			return nil
		},
	}
	cmd.Flags().String("name", "", "lab name (default: the only deployed lab)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "default", "Kubernetes namespace of the pod")
	cmd.Flags().StringVar(&from, "from", "", "the pod whose resolver resolves NAME (required)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table|json")
	return cmd
}

// dnsQuestion reads NAME [TYPE]: an IP address is asked as its PTR name.
func dnsQuestion(args []string) (string, uint16, error) {
	name, typ := args[0], "A"
	if len(args) > 1 {
		typ = strings.ToUpper(args[1])
	}
	if !slices.Contains(dnsTypes, typ) {
		return "", 0, invalid("type %q: expected one of %s", args[1], strings.Join(dnsTypes, ", "))
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		if len(args) > 1 && typ != "PTR" {
			return "", 0, invalid("%s is an IP address: ask its PTR (podlab dns --from POD %s), or give a name", name, name)
		}
		rev, _ := mdns.ReverseAddr(ip.String())
		return rev, mdns.TypePTR, nil
	}
	if name == "" || strings.Contains(name, "..") || len(name) > 253 {
		return "", 0, invalid("name %q: expected a DNS name such as web or web.shop.svc.cluster.local", name)
	}
	return name, mdns.StringToType[typ], nil
}

// dialIn dials from inside the network namespace at path.
var dialIn = nsutil.Dialer

func printSearch(w io.Writer, pod *api.PodEtc, res *resolver.Result) {
	c := res.Config
	var servers []string
	for _, s := range c.Nameservers {
		servers = append(servers, s.String())
	}
	fmt.Fprintf(w, "pod %s/%s resolv.conf: nameserver %s; search %s; ndots:%d timeout:%d attempts:%d\n",
		pod.Namespace, pod.Name, strings.Join(servers, " "), strings.Join(c.Search, " "), c.Ndots, int(c.Timeout/time.Second), c.Attempts)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "QUERY\tTYPE\tSERVER\tRCODE\tANSWER\tTIME")
	for _, a := range res.Attempts {
		server := a.Server
		if a.Proto == "tcp" {
			server += "/tcp"
		}
		rcode := a.Rcode
		if a.TC {
			rcode += " (TC)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.Type, server, rcode, orDash(rdata(a.Answer)), roundTime(a.Took))
	}
	tw.Flush()
	if res.Resolved {
		fmt.Fprintf(w, "%s: %s (%s, %s)\n", res.Answered, rdata(res.Answer), queries(len(res.Attempts)), roundTime(total(res)))
	}
}

// rdata shortens records to TYPE DATA (the owner, TTL and class are the query's).
func rdata(rrs []string) string {
	var out []string
	for _, rr := range rrs {
		f := strings.SplitN(rr, "\t", 5)
		if len(f) == 5 {
			rr = f[3] + " " + f[4]
		}
		out = append(out, rr)
	}
	return strings.Join(out, ", ")
}

func queries(n int) string {
	if n == 1 {
		return "1 query"
	}
	return fmt.Sprintf("%d queries", n)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func total(res *resolver.Result) time.Duration {
	var d time.Duration
	for _, a := range res.Attempts {
		d += a.Took
	}
	return d
}

func roundTime(d time.Duration) string {
	if d >= time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(10 * time.Microsecond).String()
}

// dnsFailure says why a search failed, in the resolver's terms and the lab's.
func dnsFailure(res *resolver.Result) string {
	var servers []string
	rcodes := map[string]int{}
	for _, a := range res.Attempts {
		if !slices.Contains(servers, a.Server) {
			servers = append(servers, a.Server)
		}
		rcodes[a.Rcode]++
	}
	n := len(res.Attempts)
	at := strings.Join(servers, ", ")
	switch {
	case res.Herrno == resolver.HostNotFound:
		return fmt.Sprintf("%s %s: not found (NXDOMAIN for every name tried, %s)", res.Name, res.Type, queries(n))
	case res.Herrno == resolver.NoData:
		return fmt.Sprintf("%s: the name exists but has no %s records (NODATA; %s)", res.Name, res.Type, queries(n))
	case rcodes[resolver.RcodeRefused] == n:
		return fmt.Sprintf("no server answered: nothing serves DNS at %s (port unreachable: a Service without ready endpoints is rejected so; is kube-system/coredns running? `podlab get pods -n kube-system`)", at)
	case rcodes[resolver.RcodeTimeout] == n:
		return fmt.Sprintf("no server answered: every query to %s timed out (%s of up to %s each); is the server reachable from the pod?", at, queries(n), res.Config.Timeout)
	case rcodes["SERVFAIL"] > 0:
		return fmt.Sprintf("%s %s: the server failed (SERVFAIL) for the names tried; names outside the cluster are forwarded to the lab's upstream (cluster.dns.upstream in the lab file), SERVFAIL without one", res.Name, res.Type)
	}
	last := res.Attempts[n-1]
	return fmt.Sprintf("%s %s: not resolved (%s, last reply %s from %s)", res.Name, res.Type, res.Herrno, last.Rcode, last.Server)
}
