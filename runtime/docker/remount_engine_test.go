package docker

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"podlab.dev/podlab/nsutil"
	podruntime "podlab.dev/podlab/runtime"
)

// TestRemount: a pod's container restarted behind podlab's back runs in a new network
// namespace; Remount mounts that one at the sandbox's path with the sandbox's sysctls,
// and does nothing while the mounted namespace is the container's.
func TestRemount(t *testing.T) {
	r := engine(t)
	ctx := context.Background()
	lab := "rt-rm-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	s := podruntime.Sandbox{Lab: lab, Name: "podlab_" + lab + "_pod_default_p", Kind: podruntime.KindPod,
		Sysctls: map[string]string{"net/ipv6/conf/all/disable_ipv6": "1"}}
	t.Cleanup(func() {
		if err := r.Delete(context.Background(), s.Name); err != nil {
			t.Errorf("delete %s: %v", s.Name, err)
		}
	})
	path, err := r.Create(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	current := func() string {
		t.Helper()
		ins, err := r.cli.ContainerInspect(ctx, ContainerName(s), client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/proc/%d/ns/net", ins.Container.State.Pid)
	}
	mounted := func() bool {
		t.Helper()
		same, err := sameFile(current(), path)
		if err != nil {
			t.Fatal(err)
		}
		return same
	}

	if got, changed, err := r.Remount(ctx, s); err != nil || changed || got != path || !mounted() {
		t.Fatalf("Remount of a fresh sandbox = %q, %v, %v; want %q, nothing changed", got, changed, err, path)
	}
	timeout := 1
	if _, err := r.cli.ContainerRestart(ctx, ContainerName(s), client.ContainerRestartOptions{Timeout: &timeout}); err != nil {
		t.Fatal(err)
	}
	if mounted() {
		t.Fatal("the restarted container kept its namespace: nothing to test")
	}
	if got, changed, err := r.Remount(ctx, s); err != nil || !changed || got != path {
		t.Fatalf("Remount after a restart = %q, %v, %v; want %q, changed", got, changed, err, path)
	}
	if !mounted() {
		t.Errorf("%s is not the restarted container's namespace", path)
	}
	var v []byte
	if err := nsutil.Do(path, func() (err error) {
		v, err = os.ReadFile("/proc/sys/net/ipv6/conf/all/disable_ipv6")
		return err
	}); err != nil || strings.TrimSpace(string(v)) != "1" {
		t.Errorf("disable_ipv6 in the new namespace = %q, %v; want 1", v, err)
	}
	if _, changed, err := r.Remount(ctx, s); err != nil || changed {
		t.Errorf("second Remount: changed %v, %v; want nothing to do", changed, err)
	}
}
