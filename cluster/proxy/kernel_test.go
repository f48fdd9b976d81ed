package proxy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"

	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
)

// kernelNS makes a temporary network namespace, or skips without root and nft.
func kernelNS(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft")
	}
	name := fmt.Sprintf("podlab_proxytest%d_%s", os.Getpid(), strings.ToLower(t.Name()[len(t.Name())-4:]))
	r := netns.New()
	path, err := r.Create(context.Background(), runtime.Sandbox{Name: name})
	if err != nil {
		t.Fatalf("create netns: %v", err)
	}
	t.Cleanup(func() { _ = r.Delete(context.Background(), name) })
	return path
}

// inNS runs fn inside the namespace; nft, which knftables execs, inherits it.
func inNS(t *testing.T, path string, fn func() error) {
	t.Helper()
	if err := nsutil.Do(path, fn); err != nil {
		t.Fatal(err)
	}
}

func TestKernelSync(t *testing.T) {
	path := kernelNS(t)
	var p *Proxier
	inNS(t, path, func() error {
		nft, err := knftables.New(knftables.IPv4Family, tableName)
		if err != nil {
			return err
		}
		p = New(nft, testNode)
		var svcs []*v1.Service
		var slices []*discoveryv1.EndpointSlice
		for _, sc := range scenarios() {
			if sc.name == "udp-and-sctp" || sc.name == "headless-and-externalname" {
				continue // SCTP needs the module in the kernel; tested on the Fake
			}
			for _, s := range sc.svcs {
				s = s.DeepCopy()
				s.Name = sc.name
				svcs = append(svcs, s)
			}
			for _, s := range sc.slices {
				s = s.DeepCopy()
				s.Labels[discoveryv1.LabelServiceName] = sc.name
				slices = append(slices, s)
			}
			break
		}
		svcs = append(svcs, affinityWeb())
		slices = append(slices, webSlice("sticky", "10.0.2.1", "10.0.2.2"))
		if err := p.Sync(context.Background(), svcs, slices); err != nil {
			return err
		}
		out, err := exec.Command("nft", "list", "table", "ip", tableName).CombinedOutput()
		if err != nil {
			return fmt.Errorf("nft list: %v\n%s", err, out)
		}
		for _, want := range []string{"chain nat-prerouting", "map service-ips", "numgen random mod 2", "set affinity-", "counter endpoint-"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("kernel table lacks %q:\n%s", want, out)
			}
		}
		// Incremental: drop an endpoint of sticky (endpoint chain, set and
		// counter deleted in the same transaction) and delete the other Service.
		if err := p.Sync(context.Background(), svcs[1:], []*discoveryv1.EndpointSlice{webSlice("sticky", "10.0.2.1")}); err != nil {
			return fmt.Errorf("incremental sync: %w", err)
		}
		out, _ = exec.Command("nft", "list", "table", "ip", tableName).CombinedOutput()
		if strings.Contains(string(out), "10.0.2.2") || strings.Contains(string(out), "clusterip-two-endpoints") {
			t.Errorf("stale objects after incremental sync:\n%s", out)
		}
		if _, err := p.Counters(context.Background()); err != nil {
			return err
		}
		return nil
	})
}

func affinityWeb() *v1.Service {
	s := webSvc("sticky", "172.30.0.30")
	s.Spec.SessionAffinity = v1.ServiceAffinityClientIP
	return s
}

// TestKernelFullSync10k times one full sync of 10,000 Services x 3 endpoints
// into the real kernel, and one change after it (objects with resourceVersions, as
// the object store gives them). Run with -run KernelFullSync10k -v;
// PODLAB_BENCH_MAXTXOPS sets the size at which a sync is split (0: never),
// PODLAB_BENCH_NFT_ONLY=1 leaves every transaction to nft (no Netlink),
// PODLAB_BENCH_RULECHOICE sets the number of Services above which chains pick
// their endpoint by rules (20000: upstream's numgen maps throughout).
func TestKernelFullSync10k(t *testing.T) {
	if os.Getenv("PODLAB_BENCH") == "" {
		t.Skip("a benchmark of about a minute: set PODLAB_BENCH=1 (scripts/bench/services.sh does)")
	}
	path := kernelNS(t)
	svcs, slices := bigCluster(10000)
	versioned(svcs, slices)
	inNS(t, path, func() error {
		nft, err := knftables.New(knftables.IPv4Family, tableName)
		if err != nil {
			return err
		}
		how := "nft only"
		if os.Getenv("PODLAB_BENCH_NFT_ONLY") == "" {
			if nft, err = Netlink(nft, nil); err != nil {
				return err
			}
			how = "partial syncs through netlink"
		}
		timed := &timedNFT{Interface: nft}
		p := New(timed, bigNode)
		if v := os.Getenv("PODLAB_BENCH_MAXTXOPS"); v != "" {
			if p.maxTxOps, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("PODLAB_BENCH_MAXTXOPS=%q: %w", v, err)
			}
		}
		if v := os.Getenv("PODLAB_BENCH_RULECHOICE"); v != "" { // the Services above which chains pick by rules
			if p.ruleChoiceAbove, err = strconv.Atoi(v); err != nil {
				return fmt.Errorf("PODLAB_BENCH_RULECHOICE=%q: %w", v, err)
			}
		}
		p.AssumeNew()
		start := time.Now()
		if err := p.Sync(context.Background(), svcs, slices); err != nil {
			return err
		}
		t.Logf("full sync of 10000 Services x 3 endpoints into the kernel (split at %d operations, %s): %v (%v of it in Run, programming the kernel)",
			p.maxTxOps, how, time.Since(start), timed.spent)
		alt := [2]*discoveryv1.EndpointSlice{slices[42], webSlice("svc-42", "10.0.0.42", "10.0.9.9")}
		alt[1].ResourceVersion = "777777"
		var times, kernel []time.Duration
		changes := 7
		if v, err := strconv.Atoi(os.Getenv("PODLAB_BENCH_CHANGES")); err == nil {
			changes = v // for a profile
		}
		for i := range changes {
			slices[42] = alt[(i+1)%2]
			timed.spent = 0
			start = time.Now()
			if err := p.Sync(context.Background(), svcs, slices); err != nil {
				return err
			}
			times, kernel = append(times, time.Since(start)), append(kernel, timed.spent)
		}
		t.Logf("one change with 10000 Services present (%s): median %v (%v of it in Run, programming the kernel) of %v",
			how, median(times), median(kernel), times)
		return nil
	})
}

// timedNFT adds up the time spent running transactions.
type timedNFT struct {
	knftables.Interface
	spent time.Duration
}

func (t *timedNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	start := time.Now()
	defer func() { t.spent += time.Since(start) }()
	return t.Interface.Run(ctx, tx)
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
