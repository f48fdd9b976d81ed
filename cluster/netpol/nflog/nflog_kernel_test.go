package nflog

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
)

// TestKernelNflog: in a namespace of its own, an nft rule logs UDP to port 9999 to
// group 7; a reader bound there sees the packet's prefix and 5-tuple.
func TestKernelNflog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft")
	}
	name := fmt.Sprintf("podlab_nflog%d", os.Getpid())
	rt := netns.New()
	if _, err := rt.Create(context.Background(), runtime.Sandbox{Name: name}); err != nil {
		t.Fatalf("create netns: %v", err)
	}
	t.Cleanup(func() { _ = rt.Delete(context.Background(), name) })
	script := `ip link set lo up && nft -f - <<'EOF'
table ip nflogtest {
	chain out { type filter hook output priority filter; udp dport 9999 log prefix "podlab-test x/a: " group 7; }
}
EOF`
	if out, err := exec.Command("ip", "netns", "exec", name, "sh", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	r, err := Open(netns.Path(name), 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	if _, err := Open(netns.Path(name), 7); err == nil {
		t.Error("a second reader of group 7 in the namespace: want an error")
	}
	// The reader's socket lives in the namespace, not here: group 7 is free here.
	if r2, err := Open("", 7); err != nil {
		t.Errorf("group 7 in this namespace: %v", err)
	} else {
		_ = r2.Close()
	}

	var sport int
	err = nsutil.Do(netns.Path(name), func() error {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9999})
		if err != nil {
			return err
		}
		defer c.Close()
		sport = c.LocalAddr().(*net.UDPAddr).Port
		_, err = c.Write([]byte("hello"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []Record, 1)
	go func() {
		recs, err := r.Read()
		if err != nil {
			t.Errorf("Read: %v", err)
		}
		got <- recs
	}()
	select {
	case recs := <-got:
		want := fmt.Sprintf("UDP 127.0.0.1:%d -> 127.0.0.1:9999", sport)
		if len(recs) != 1 || recs[0].Prefix != "podlab-test x/a: " || recs[0].Tuple() != want ||
			time.Since(recs[0].Time).Abs() > time.Minute {
			t.Errorf("records = %+v, want one %q from prefix %q", recs, want, "podlab-test x/a: ")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no record in 5 s")
	}
	// Close ends a blocked Read.
	done := make(chan error, 1)
	go func() { _, err := r.Read(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	_ = r.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Read after Close: want an error")
		}
	case <-time.After(2 * time.Second):
		t.Error("Close did not end Read")
	}
}
