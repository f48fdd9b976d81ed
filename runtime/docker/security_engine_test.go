package docker

import (
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	podruntime "podlab.dev/podlab/runtime"
)

// engine is a runtime on a live engine with podlab's images, or skips the test.
func engine(t *testing.T) *Runtime {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount network namespaces")
	}
	if _, err := os.Stat(Busybox); err != nil {
		t.Skip("needs Debian's busybox-static for podlab's images")
	}
	r, err := New("runtime-test")
	if err != nil {
		t.Skipf("no Docker client: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := r.Ping(ctx); err != nil {
		t.Skipf("no Docker engine answers: %v", err)
	}
	if _, err := r.EnsureImages(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return r
}

// capEff is the effective capability mask of process pid.
func capEff(t *testing.T, pid int) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	t.Fatalf("no CapEff in /proc/%d/status", pid)
	return 0
}

// Bits of the capabilities podlab used to give every container.
const (
	capNetAdmin = 1 << 12
	capSysAdmin = 1 << 21
)

// TestCreateSecurity: a pod's container gets its securityContext and nothing of what
// podlab needs in a node; a node's keeps it; a privileged pod is refused before any
// container is made.
func TestCreateSecurity(t *testing.T) {
	r := engine(t)
	ctx := context.Background()
	lab := "rt-sec-" + strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	uid := int64(1000)
	create := func(s podruntime.Sandbox) client.ContainerInspectResult {
		t.Helper()
		s.Lab = lab
		t.Cleanup(func() {
			if err := r.Delete(context.Background(), s.Name); err != nil {
				t.Errorf("delete %s: %v", s.Name, err)
			}
		})
		if _, err := r.Create(ctx, s); err != nil {
			t.Fatalf("create %s: %v", s.Name, err)
		}
		ins, err := r.cli.ContainerInspect(ctx, ContainerName(s), client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return ins
	}

	ins := create(podruntime.Sandbox{Name: "podlab_" + lab + "_pod_default_locked", Kind: podruntime.KindPod,
		Security: &podruntime.Security{CapDrop: []string{"ALL"}, RunAsUser: &uid, ReadOnlyRootFilesystem: true}})
	hc := ins.Container.HostConfig
	if len(hc.CapAdd) != 0 || !reflect.DeepEqual(hc.CapDrop, []string{"ALL"}) || !hc.ReadonlyRootfs || ins.Container.Config.User != "1000" {
		t.Errorf("locked pod: CapAdd %q, CapDrop %q, ReadonlyRootfs %v, User %q; want none, [ALL], true, 1000",
			hc.CapAdd, hc.CapDrop, hc.ReadonlyRootfs, ins.Container.Config.User)
	}
	if m := capEff(t, ins.Container.State.Pid); m != 0 {
		t.Errorf("locked pod: effective capabilities %#x, want none", m)
	}

	ins = create(podruntime.Sandbox{Name: "podlab_" + lab + "_pod_default_plain", Kind: podruntime.KindPod})
	if hc := ins.Container.HostConfig; len(hc.CapAdd) != 0 || len(hc.CapDrop) != 0 {
		t.Errorf("plain pod: CapAdd %q, CapDrop %q; want the engine's defaults", hc.CapAdd, hc.CapDrop)
	}
	if m := capEff(t, ins.Container.State.Pid); m&(capNetAdmin|capSysAdmin) != 0 {
		t.Errorf("plain pod: effective capabilities %#x include NET_ADMIN or SYS_ADMIN", m)
	}

	ins = create(podruntime.Sandbox{Name: "podlab_" + lab + "_node_n1", Kind: podruntime.KindNode, Node: "n1"})
	if m := capEff(t, ins.Container.State.Pid); m&(capNetAdmin|capSysAdmin) != capNetAdmin|capSysAdmin {
		t.Errorf("node: effective capabilities %#x lack NET_ADMIN or SYS_ADMIN", m)
	}

	priv := podruntime.Sandbox{Lab: lab, Name: "podlab_" + lab + "_pod_default_priv", Kind: podruntime.KindPod,
		Security: &podruntime.Security{Privileged: true}}
	if _, err := r.Create(ctx, priv); err == nil || !strings.Contains(err.Error(), "pod default/priv") {
		r.Delete(ctx, priv.Name)
		t.Errorf("privileged pod: err = %v, want a refusal naming pod default/priv", err)
	}
	if _, err := r.cli.ContainerInspect(ctx, ContainerName(priv), client.ContainerInspectOptions{}); err == nil {
		r.Delete(ctx, priv.Name)
		t.Errorf("privileged pod: container %s was made", ContainerName(priv))
	}
}
