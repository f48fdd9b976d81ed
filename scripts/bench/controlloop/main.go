// Command controlloop measures the control loop of a running lab (as root):
//
//	controlloop apply PODLAB STATE_DIR LAB N
//	    N times: apply one new Service through the supervisor's API and time the call,
//	    which returns once every component (endpoints, kube-proxy on every node) has
//	    programmed it; then the same for a change of an existing Service.
//	controlloop adopt PODLAB STATE_DIR LAB NETNS_PATH ADDR
//	    kill -9 the supervisor (every pod's server goes with it), then time until
//	    `podlab get pods` (which restarts it) has answered, every pod answers HTTP on
//	    its own address again (checked from NETNS_PATH) and ADDR, a ClusterIP:port,
//	    answers too; and, apart, until every component has resynced.
//
// Results are printed as one JSON line.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/state"
	"podlab.dev/podlab/topology"
)

func main() {
	if len(os.Args) < 5 {
		fmt.Fprintln(os.Stderr, "usage: controlloop apply|adopt PODLAB STATE_DIR LAB ...")
		os.Exit(2)
	}
	dir := state.For(os.Args[3], os.Args[4])
	c := api.NewClient(dir)
	var err error
	switch os.Args[1] {
	case "apply":
		n, _ := strconv.Atoi(os.Args[5])
		err = applyBench(c, n)
	case "adopt":
		err = adoptBench(dir, c, os.Args[2], os.Args[5], os.Args[6])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "controlloop:", err)
		os.Exit(1)
	}
}

func service(name string, port int) topology.Object {
	raw, _ := json.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": name, "namespace": "default"},
		"spec": map[string]any{"selector": map[string]any{"app": "p-1-1"}, "ports": []any{map[string]any{"port": port, "targetPort": 80}}},
	})
	return topology.Object{APIVersion: "v1", Kind: "Service", Namespace: "default", Name: name, Applied: true, Raw: raw}
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func applyBench(c *api.Client, n int) error {
	ctx := context.Background()
	var create, update []time.Duration
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("bench-new-%d-%d", os.Getpid(), i)
		start := time.Now()
		rs, err := c.Apply(ctx, []topology.Object{service(name, 80)}, nil)
		if err != nil || len(rs) != 1 || rs[0].Error != "" {
			return fmt.Errorf("apply %s: %v %+v", name, err, rs)
		}
		create = append(create, time.Since(start))
		start = time.Now()
		rs, err = c.Apply(ctx, []topology.Object{service(name, 81)}, nil)
		if err != nil || len(rs) != 1 || rs[0].Action != "configured" {
			return fmt.Errorf("change %s: %v %+v", name, err, rs)
		}
		update = append(update, time.Since(start))
	}
	out, _ := json.Marshal(map[string]any{"createMedianMs": ms(median(create)), "changeMedianMs": ms(median(update)),
		"createMaxMs": ms(slices.Max(create)), "changeMaxMs": ms(slices.Max(update)), "n": n})
	fmt.Println(string(out))
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func adoptBench(dir state.Dir, c *api.Client, podlab, netns, addr string) error {
	pid := dir.SupervisorPID()
	if !dir.SupervisorAlive(pid) {
		return fmt.Errorf("no supervisor running for lab %s", dir.Lab)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	for dir.SupervisorAlive(pid) {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	cmd := exec.Command(podlab, "get", "--name", dir.Lab, "pods", "-A")
	cmd.Env = append(os.Environ(), "PODLAB_STATE_DIR="+dir.Root)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("podlab get pods: %v\n%s", err, out)
	}
	answered := time.Since(start)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.State(ctx)
	if err != nil {
		return err
	}
	var addrs []string
	for _, p := range st.Pods {
		if p.IP.IsValid() {
			addrs = append(addrs, net.JoinHostPort(p.IP.String(), "80"))
		}
	}
	addrs = append(addrs, addr)
	// Every address answers: checked 32 at a time, again until none fails.
	for len(addrs) > 0 {
		if ctx.Err() != nil {
			return fmt.Errorf("%d addresses still not answering after 30s, e.g. %s", len(addrs), addrs[0])
		}
		var mu sync.Mutex
		var failed []string
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for _, a := range addrs {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if get(netns, a) != nil {
					mu.Lock()
					failed = append(failed, a)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		addrs = failed
	}
	serving := time.Since(start)
	for {
		r, err := c.Ready(ctx)
		if err == nil && r.Ready == r.Total && r.Settled {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("not resynced after 30s: %+v %v", r, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	resynced := time.Since(start)
	out, _ := json.Marshal(map[string]any{"apiAnsweredMs": ms(answered), "everyPodServingMs": ms(serving), "componentsResyncedMs": ms(resynced), "pods": len(st.Pods)})
	fmt.Println(string(out))
	return nil
}

// get fetches http://addr/ from inside the namespace at netns.
func get(netns, addr string) error {
	var conn net.Conn
	err := nsutil.Do(netns, func() error {
		var err error
		conn, err = net.DialTimeout("tcp", addr, time.Second)
		return err
	})
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}}
	resp, err := client.Get("http://" + addr + "/hostname")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
