// Command dnsbench is the podlab side of scripts/bench/dns.sh: it makes a synthetic
// cluster (Services, headless Services with EndpointSlices, ExternalName), serves
// it with podlab's cluster DNS component, and writes the same records as zone files
// for the peers (CoreDNS's file plugin, knot) plus the dnsperf query file.
//
//	dnsbench files DIR           DIR/db.cluster.local, DIR/db.10.in-addr.arpa, DIR/queries
//	dnsbench serve ADDR          podlab's dns.Server on UDP ADDR until SIGINT or SIGTERM
//	dnsbench check QUERIES ADDR...   every distinct query asked of each server: the
//	                                 answers must be those of the first
//	dnsbench latency             dnsperf -v output on stdin -> percentiles of latency
//
// Flags before the command size the cluster (default 10 namespaces x 100 Services
// and 10 headless Services of 3 endpoints, 5 ExternalName).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/cluster/dns"
	"podlab.dev/podlab/cluster/store"
)

func main() {
	var sh shape
	flag.IntVar(&sh.namespaces, "namespaces", 10, "namespaces")
	flag.IntVar(&sh.services, "services", 100, "ClusterIP Services per namespace")
	flag.IntVar(&sh.headless, "headless", 10, "headless Services per namespace")
	flag.IntVar(&sh.endpoints, "endpoints", 3, "ready endpoints per headless Service")
	flag.IntVar(&sh.external, "external", 5, "ExternalName Services")
	n := flag.Int("queries", 20000, "lines of the dnsperf query file")
	cpuprofile := flag.String("cpuprofile", "", "serve: write a CPU profile of the server here")
	flag.Parse()
	args := flag.Args()
	var err error
	switch {
	case len(args) == 2 && args[0] == "files":
		err = files(args[1], sh, *n)
	case len(args) == 2 && args[0] == "serve":
		err = serve(args[1], sh, *cpuprofile)
	case len(args) >= 3 && args[0] == "check":
		err = check(args[1], args[2:])
	case len(args) == 1 && args[0] == "latency":
		err = latency()
	default:
		fmt.Fprintln(os.Stderr, "usage: dnsbench [flags] files DIR | serve ADDR | check QUERIES ADDR... | latency")
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dnsbench:", err)
		os.Exit(1)
	}
}

func files(dir string, sh shape, n int) error {
	svcs := sh.cluster()
	if err := writeZones(dir, svcs); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "queries"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	queries(w, svcs, n)
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// serve runs the DNS component on a store holding the cluster, waits until its zone
// is built, then serves it on UDP as a CoreDNS pod's socket is served (ServePod).
func serve(addr string, sh shape, cpuprofile string) error {
	st := store.New()
	if err := fill(st, sh.namespaces, sh.cluster()); err != nil {
		return err
	}
	srv := dns.NewServer(Domain, TTL)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	go srv.Run(ctx, st)
	for srv.Synced() < st.Generation() {
		time.Sleep(time.Millisecond)
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	d := &mdns.Server{PacketConn: pc, Handler: srv}
	go d.ActivateAndServe()
	fmt.Printf("serving %d store objects on udp %s\n", st.Count("Service")+st.Count("EndpointSlice"), pc.LocalAddr())
	<-ctx.Done()
	return d.Shutdown()
}

// check asks every distinct query of the dnsperf file of each server and compares
// the rcode, the answer (TTLs aside, in any order) and the addresses in the
// additional section with the first server's.
func check(queryFile string, addrs []string) error {
	data, err := os.ReadFile(queryFile)
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	slices.Sort(lines)
	lines = slices.Compact(lines)
	c := &mdns.Client{Timeout: 2 * time.Second}
	bad := 0
	for _, l := range lines {
		name, typ, _ := strings.Cut(l, " ")
		req := new(mdns.Msg)
		req.SetQuestion(name, mdns.StringToType[typ])
		var first string
		for i, a := range addrs {
			m, _, err := c.Exchange(req, a)
			if err != nil {
				return fmt.Errorf("%s from %s: %w", l, a, err)
			}
			got := canonical(m)
			if i == 0 {
				first = got
			} else if got != first {
				if bad++; bad <= 5 {
					fmt.Fprintf(os.Stderr, "%s: %s answers\n  %s\nbut %s answers\n  %s\n", l, addrs[0], first, a, got)
				}
			}
		}
	}
	fmt.Printf("%d distinct queries, %d answered differently\n", len(lines), bad)
	if bad > 0 {
		return fmt.Errorf("the servers disagree")
	}
	return nil
}

func canonical(m *mdns.Msg) string {
	rrs := func(section []mdns.RR, types ...uint16) string {
		var out []string
		for _, rr := range section {
			if len(types) > 0 && !slices.Contains(types, rr.Header().Rrtype) {
				continue
			}
			f := strings.Fields(rr.String())
			out = append(out, strings.Join(append(f[:1:1], f[3:]...), " "))
		}
		slices.Sort(out)
		return strings.Join(out, "; ")
	}
	return fmt.Sprintf("%s aa=%v answer [%s] additional [%s]", mdns.RcodeToString[m.Rcode], m.Authoritative,
		rrs(m.Answer), rrs(m.Extra, mdns.TypeA, mdns.TypeAAAA))
}

// latency reads dnsperf -v output ("> RCODE NAME TYPE SECONDS" per answer) and
// prints the number of answers and the 50th, 99th and 99.9th percentiles in ms.
func latency() error {
	var ms []float64
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 || f[0] != ">" {
			continue
		}
		if s, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			ms = append(ms, s*1000)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if len(ms) == 0 {
		return fmt.Errorf("no latencies in the input (dnsperf -v output expected)")
	}
	slices.Sort(ms)
	at := func(p float64) float64 { return ms[min(len(ms)-1, int(p*float64(len(ms))))] }
	fmt.Printf("answers=%d p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f\n", len(ms), at(0.50), at(0.99), at(0.999))
	return nil
}
