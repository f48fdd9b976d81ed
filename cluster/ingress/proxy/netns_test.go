package proxy

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"podlab.dev/podlab/cluster/ingress/table"
	"podlab.dev/podlab/nsutil"
)

// newNetns makes a named network namespace with lo up, deleted at cleanup, and
// returns its path.
func newNetns(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	name := fmt.Sprintf("podlab-proxy-test-%d", os.Getpid())
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		t.Fatal(err)
	}
	ns, err := netns.NewNamed(name) // switches this thread into it
	if serr := netns.Set(orig); serr != nil {
		t.Fatalf("back to the test's namespace: %v", serr) // the thread stays locked: retired
	}
	runtime.UnlockOSThread()
	orig.Close()
	if err != nil {
		t.Fatal(err)
	}
	ns.Close()
	t.Cleanup(func() { netns.DeleteNamed(name) })
	path := "/var/run/netns/" + name
	err = nsutil.Do(path, func() error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func listenIn(t *testing.T, path, addr string) net.Listener {
	var ln net.Listener
	err := nsutil.Do(path, func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestServePodInNetns serves a pod whose listener and backend exist only inside a
// network namespace: the request can only succeed if the proxy listens and dials in
// there. Updates open and close ports.
func TestServePodInNetns(t *testing.T) {
	path := newNetns(t)
	ln := listenIn(t, path, "127.0.0.1:0") // a loopback-only server, unreachable from outside
	be := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "inside %s", r.Header.Get("X-Real-Ip"))
	})}
	go be.Serve(ln)
	t.Cleanup(func() { be.Close() })

	var mu sync.Mutex
	var log []Entry
	p := New(Options{Log: func(e Entry) { mu.Lock(); log = append(log, e); mu.Unlock() }})
	t.Cleanup(func() { p.Close() })
	tbl := func(ports ...int32) *table.Table {
		f := &table.Frontend{Key: table.FrontendIngress}
		for _, port := range ports {
			f.Listeners = append(f.Listeners, &table.Listener{Name: "http", Port: port, Protocol: "HTTP",
				VirtualHosts: []*table.VirtualHost{{Routes: []*table.Route{route(prefix("/"), svc("in", netip.MustParseAddrPort(ln.Addr().String())))}}}})
		}
		return &table.Table{Frontends: map[string]*table.Frontend{table.FrontendIngress: f}}
	}
	p.Update(tbl(80))
	ps, err := p.ServePod(table.FrontendIngress, "podlab-ingress/controller-1", path)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (conn net.Conn, err error) {
			err = nsutil.Do(path, func() error {
				conn, err = (&net.Dialer{Timeout: time.Second}).DialContext(ctx, network, addr)
				return err
			})
			return conn, err
		}}}
	get := func(port int) (int, string, error) {
		resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b := make([]byte, 64)
		n, _ := resp.Body.Read(b)
		return resp.StatusCode, string(b[:n]), nil
	}
	if status, body, err := get(80); err != nil || status != 200 || body != "inside 127.0.0.1" {
		t.Fatalf("port 80: %d %q %v", status, body, err)
	}
	mu.Lock()
	if len(log) != 1 || log[0].Pod != "podlab-ingress/controller-1" || log[0].UpstreamStatus != 200 {
		t.Errorf("log: %+v", log)
	}
	mu.Unlock()

	p.Update(tbl(81))
	if _, _, err := get(80); err == nil {
		t.Error("port 80 still open after the Update removed it")
	}
	if status, _, err := get(81); err != nil || status != 200 {
		t.Errorf("port 81 after the Update: %d %v", status, err)
	}
	if got := ps.Ports(); !slices.Equal(got, []int32{81}) {
		t.Errorf("Ports: got %v, want [81]", got)
	}
	ps.Close()
	if _, _, err := get(81); err == nil {
		t.Error("port 81 still open after Close")
	}
}
