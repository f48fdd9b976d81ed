package netns

import (
	"context"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	vnetns "github.com/vishvananda/netns"

	"podlab.dev/podlab/nsutil"
	podruntime "podlab.dev/podlab/runtime"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
}

// prefix is this test process's mark: it cannot be the prefix of a real lab's names
// nor of another test process's.
func prefix(t *testing.T) string {
	return "podlab_ut" + strconv.Itoa(os.Getpid()) + "x_" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "_")) + "_"
}

// create makes a namespace and removes it when the test ends, whatever happens.
func create(t *testing.T, r *Runtime, s podruntime.Sandbox) string {
	t.Helper()
	path, err := r.Create(context.Background(), s)
	if err == nil {
		t.Cleanup(func() {
			if err := r.Delete(context.Background(), s.Name); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
	}
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func readSysctl(t *testing.T, path, key string) string {
	t.Helper()
	var v string
	err := nsutil.Do(path, func() error {
		b, err := os.ReadFile("/proc/sys/" + key)
		v = strings.TrimSpace(string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCreate(t *testing.T) {
	needRoot(t)
	r := New()
	rootForward, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	name := prefix(t) + "node_a"
	path := create(t, r, podruntime.Sandbox{Name: name, Kind: podruntime.KindNode, Sysctls: map[string]string{
		"net/ipv6/conf/default/disable_ipv6": "1",
		"net/ipv4/ip_forward":                "1",
	}})
	if path != Dir+"/"+name || path != Path(name) {
		t.Errorf("path %q, want %q", path, Dir+"/"+name)
	}
	h, err := vnetns.GetFromPath(path)
	if err != nil {
		t.Fatalf("%s is not a network namespace: %v", path, err)
	}
	t.Cleanup(func() { h.Close() })
	self, err := vnetns.GetFromPath("/proc/self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { self.Close() })
	if h.Equal(self) {
		t.Error("the new namespace is the test's own")
	}

	// The sysctls are set inside, and only inside.
	if got := readSysctl(t, path, "net/ipv6/conf/default/disable_ipv6"); got != "1" {
		t.Errorf("disable_ipv6 inside = %q, want 1", got)
	}
	if got := readSysctl(t, path, "net/ipv4/ip_forward"); got != "1" {
		t.Errorf("ip_forward inside = %q, want 1", got)
	}
	if now, _ := os.ReadFile("/proc/sys/net/ipv4/ip_forward"); string(now) != string(rootForward) {
		t.Errorf("root namespace's ip_forward changed from %q to %q", rootForward, now)
	}
	// A fresh namespace without sysctls keeps the kernel's defaults (unless this
	// machine makes new namespaces inherit the root namespace's settings).
	plain := create(t, r, podruntime.Sandbox{Name: prefix(t) + "plain"})
	if b, _ := os.ReadFile("/proc/sys/net/core/devconf_inherit_init_net"); strings.TrimSpace(string(b)) == "0" {
		if got := readSysctl(t, plain, "net/ipv4/ip_forward"); got != "0" {
			t.Errorf("ip_forward in a namespace without sysctls = %q, want 0", got)
		}
	}

	_, err = r.Create(context.Background(), podruntime.Sandbox{Name: name})
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("Create of an existing name: %v, want \"already exists\"", err)
	}
	// The failed Create left the existing namespace alone.
	if h2, err := vnetns.GetFromPath(path); err != nil {
		t.Errorf("existing namespace damaged by a second Create: %v", err)
	} else {
		if !h2.Equal(h) {
			t.Error("a second Create replaced the namespace")
		}
		h2.Close()
	}
}

func TestCreateBadSysctl(t *testing.T) {
	needRoot(t)
	r := New()
	name := prefix(t) + "bad"
	t.Cleanup(func() { r.Delete(context.Background(), name) })
	_, err := r.Create(context.Background(), podruntime.Sandbox{Name: name, Sysctls: map[string]string{"net/ipv4/no_such_knob": "1"}})
	if err == nil || !strings.Contains(err.Error(), "no_such_knob") {
		t.Errorf("Create with a bad sysctl: %v, want an error naming it", err)
	}
	if _, err := os.Stat(Path(name)); !os.IsNotExist(err) {
		t.Errorf("a failed Create left %s: %v", Path(name), err)
	}
}

func TestListAndDelete(t *testing.T) {
	needRoot(t)
	r := New()
	p := prefix(t)
	names := []string{p + "b_node", p + "a_node", p + "a_pod"}
	for _, n := range names {
		create(t, r, podruntime.Sandbox{Name: n})
	}
	got, err := r.List(context.Background(), p+"a_")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{p + "a_node", p + "a_pod"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List(%q) = %q, want %q", p+"a_", got, want)
	}
	got, err = r.List(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{p + "a_node", p + "a_pod", p + "b_node"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List(%q) = %q, want sorted %q", p, got, want)
	}

	for i := 0; i < 2; i++ { // the second Delete of the same name is fine too
		if err := r.Delete(context.Background(), p+"a_node"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	if _, err := os.Stat(Path(p + "a_node")); !os.IsNotExist(err) {
		t.Errorf("%s still there after Delete: %v", Path(p+"a_node"), err)
	}
	got, _ = r.List(context.Background(), p)
	if want := []string{p + "a_pod", p + "b_node"}; !reflect.DeepEqual(got, want) {
		t.Errorf("List after Delete = %q, want %q", got, want)
	}
	if err := r.Delete(context.Background(), p+"never_made"); err != nil {
		t.Errorf("Delete of a name never created: %v", err)
	}
}
