// Command connlat measures TCP connect latency from inside a network namespace: it
// connects N times to ADDR and prints the mean and percentiles as JSON. Used by
// scripts/bench/services.sh to compare a ClusterIP with 10 and 10,000 Services loaded.
//
//	usage: connlat NETNS_PATH ADDR N
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"podlab.dev/podlab/nsutil"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: connlat NETNS_PATH ADDR N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[3])
	if err != nil || n < 1 {
		fmt.Fprintln(os.Stderr, "connlat: N must be a positive number")
		os.Exit(2)
	}
	var samples []time.Duration
	err = nsutil.Do(os.Args[1], func() error {
		for i := 0; i < n+n/10; i++ { // the first tenth warms caches up and is dropped
			start := time.Now()
			c, err := net.DialTimeout("tcp", os.Args[2], 2*time.Second)
			if err != nil {
				return err
			}
			d := time.Since(start)
			c.Close()
			if i >= n/10 {
				samples = append(samples, d)
			}
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "connlat:", err)
		os.Exit(1)
	}
	slices.Sort(samples)
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"n": len(samples), "mean_us": us(sum / time.Duration(len(samples))),
		"p50_us": us(samples[len(samples)/2]), "p90_us": us(samples[len(samples)*9/10]), "p99_us": us(samples[len(samples)*99/100]),
	})
}
