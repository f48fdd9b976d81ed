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
	"bufio"
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
	"strings"
	"sync"
	"sync/atomic"
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
		rs, err := c.Apply(ctx, []topology.Object{service(name, 80)})
		if err != nil || len(rs) != 1 || rs[0].Error != "" {
			return fmt.Errorf("apply %s: %v %+v", name, err, rs)
		}
		create = append(create, time.Since(start))
		start = time.Now()
		rs, err = c.Apply(ctx, []topology.Object{service(name, 81)})
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
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	// The restarted supervisor's API answering, while the command that restarted it
	// still runs.
	var answered time.Duration
	for answered == 0 {
		rctx, rcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		if _, err := c.Ready(rctx); err == nil {
			answered = time.Since(start)
		}
		rcancel()
		if time.Since(start) > 30*time.Second {
			return fmt.Errorf("no API after 30s")
		}
		time.Sleep(2 * time.Millisecond)
	}
	done := make(chan error, 1)
	var commandDone time.Duration
	go func() {
		err := cmd.Wait()
		commandDone = time.Since(start)
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.State(ctx)
	if err != nil {
		return err
	}
	var addrs []string
	for _, p := range st.Pods {
		if p.IP.IsValid() && p.Namespace != "kube-system" { // the lab's pods; CoreDNS serves no HTTP on 80
			addrs = append(addrs, net.JoinHostPort(p.IP.String(), "80"))
		}
	}
	addrs = append(addrs, addr)
	// Every address answers: 16 workers, each retrying its addresses until each has
	// answered once; serving is when the last one did.
	var wg sync.WaitGroup
	const workers = 16
	var lastOK atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []string
			for i := w; i < len(addrs); i += workers {
				mine = append(mine, addrs[i])
			}
			for len(mine) > 0 && ctx.Err() == nil {
				mine = getAll(netns, mine)
				if len(mine) > 0 {
					time.Sleep(2 * time.Millisecond)
				}
			}
			if t := int64(time.Since(start)); t > lastOK.Load() {
				lastOK.Store(t)
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return fmt.Errorf("not every pod answers after 30s")
	}
	serving := time.Duration(lastOK.Load())
	if err := <-done; err != nil {
		return fmt.Errorf("podlab get pods: %v\n%s", err, out.String())
	}
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
	res, _ := json.Marshal(map[string]any{"apiAnsweredMs": ms(answered), "getPodsDoneMs": ms(commandDone), "everyPodServingMs": ms(serving), "componentsResyncedMs": ms(resynced), "pods": len(st.Pods)})
	fmt.Println(string(res))
	return nil
}

// getAll fetches http://addr/hostname for each of addrs from inside the namespace at
// netns, connecting from one thread switched into it once; it returns those that failed.
func getAll(netns string, addrs []string) []string {
	var failed []string
	conns := make([]net.Conn, len(addrs))
	nsutil.Do(netns, func() error {
		for i, a := range addrs {
			conns[i], _ = net.DialTimeout("tcp", a, time.Second)
		}
		return nil
	})
	for i, a := range addrs {
		c := conns[i]
		if c == nil {
			if os.Getenv("CONTROLLOOP_DEBUG") != "" {
				fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), a, "no connection")
			}
			failed = append(failed, a)
			continue
		}
		c.SetDeadline(time.Now().Add(time.Second))
		fmt.Fprintf(c, "GET /hostname HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", a)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			if os.Getenv("CONTROLLOOP_DEBUG") != "" {
				fmt.Fprintln(os.Stderr, time.Now().Format("15:04:05.000"), a, err, resp)
			}
			failed = append(failed, a)
		} else {
			io.Copy(io.Discard, resp.Body)
		}
		c.Close()
	}
	return failed
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
