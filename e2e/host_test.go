package e2e

import (
	"context"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"

	"podlab.dev/podlab/runtime/netns"
)

// hostSnapshot is what the machine's own namespace looks like.
type hostSnapshot struct {
	links, routes []string
	nft           string
}

func snapshotHost(t *testing.T) hostSnapshot {
	t.Helper()
	var s hostSnapshot
	links, err := netlink.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range links {
		s.links = append(s.links, l.Attrs().Name)
	}
	routes, err := netlink.RouteList(nil, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range routes {
		s.routes = append(s.routes, r.String())
	}
	sort.Strings(s.links)
	sort.Strings(s.routes)
	out, err := exec.Command("nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset: %v: %s", err, out)
	}
	s.nft = string(out)
	return s
}

func assertHostUnchanged(t *testing.T, before hostSnapshot) {
	t.Helper()
	after := snapshotHost(t)
	if strings.Join(before.links, ",") != strings.Join(after.links, ",") {
		t.Errorf("host links changed:\nbefore %v\nafter  %v", before.links, after.links)
	}
	if strings.Join(before.routes, "\n") != strings.Join(after.routes, "\n") {
		t.Errorf("host routes changed:\nbefore %v\nafter  %v", before.routes, after.routes)
	}
	if before.nft != after.nft {
		t.Errorf("host nft ruleset changed:\nbefore:\n%s\nafter:\n%s", before.nft, after.nft)
	}
}

// assertNothingLeft checks that no namespace, state file or process of the lab is left.
func assertNothingLeft(t *testing.T, root, lab string) {
	t.Helper()
	names, _ := netns.New().List(context.Background(), "podlab_"+lab+"_")
	if len(names) > 0 {
		t.Errorf("namespaces of lab %s left: %v", lab, names)
	}
	if _, err := os.Stat(root + "/" + lab); err == nil {
		t.Errorf("state directory of lab %s left", lab)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, "supervise --name "+lab+" ") {
			stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
			if !strings.Contains(string(stat), ") Z") {
				t.Errorf("supervisor of lab %s left: pid %s", lab, e.Name())
			}
		}
	}
}
