// Command proxylocal serves the ingress proxy (cluster/ingress/proxy) on
// 127.0.0.1:PORT in the current network namespace, forwarding every request to
// BACKEND: a local side of the ingress benchmark, to compare the proxy alone with
// nginx as a reverse proxy (wrk against both) without a lab.
//
// "bare" serves a plain httputil.ReverseProxy instead: the floor net/http sets.
//
//	usage: proxylocal PORT BACKEND(ip:port) [log|bare]
package main

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync/atomic"

	"podlab.dev/podlab/cluster/ingress/proxy"
	"podlab.dev/podlab/cluster/ingress/table"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: proxylocal PORT BACKEND(ip:port) [log]")
		os.Exit(2)
	}
	ep, err := netip.ParseAddrPort(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "proxylocal: backend:", err)
		os.Exit(2)
	}
	var n atomic.Int64
	opts := proxy.Options{}
	if len(os.Args) > 3 && os.Args[3] == "log" {
		opts.Log = func(e proxy.Entry) { n.Add(1) }
	}
	p := proxy.New(opts)
	p.Update(&table.Table{Frontends: map[string]*table.Frontend{table.FrontendIngress: {Listeners: []*table.Listener{{
		Name: "http", Port: 80, Protocol: "HTTP",
		VirtualHosts: []*table.VirtualHost{{Routes: []*table.Route{{
			Match:    table.Match{Path: table.PathMatch{Type: "Prefix", Value: "/"}},
			Backends: []*table.Backend{{Namespace: "default", Service: "web", Port: 80, Weight: 1, Endpoints: []netip.AddrPort{ep}}},
		}}}},
	}}}}})
	if f := os.Getenv("CPUPROFILE"); f != "" { // until SIGINT
		out, err := os.Create(f)
		if err == nil && pprof.StartCPUProfile(out) == nil {
			go func() {
				c := make(chan os.Signal, 1)
				signal.Notify(c, os.Interrupt)
				<-c
				pprof.StopCPUProfile()
				out.Close()
				os.Exit(0)
			}()
		}
	}
	srv := &http.Server{Addr: "127.0.0.1:" + strconv.Itoa(atoi(os.Args[1])), Handler: p.Handler(table.FrontendIngress, 80)}
	if len(os.Args) > 3 && os.Args[3] == "bare" {
		rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: ep.String()})
		rp.Transport = &http.Transport{MaxIdleConnsPerHost: 256}
		srv.Handler = rp
	}
	fmt.Fprintln(os.Stderr, srv.ListenAndServe())
	os.Exit(1)
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }
