package dns

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"podlab.dev/podlab/nsutil"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/store"
)

// serve runs h on loopback UDP and TCP (the same port) until the test ends.
func serve(t *testing.T, h mdns.Handler) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no loopback:", err)
	}
	l, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		pc.Close()
		t.Skip("no loopback TCP on the same port:", err)
	}
	udp, tcp := &mdns.Server{PacketConn: pc, Handler: h}, &mdns.Server{Listener: l, Handler: h}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return pc.LocalAddr().String()
}

func query(t *testing.T, addr, network, name string, qtype uint16, edns uint16) *mdns.Msg {
	t.Helper()
	req := new(mdns.Msg)
	req.SetQuestion(name, qtype)
	if edns > 0 {
		req.SetEdns0(edns, false)
	}
	c := &mdns.Client{Net: network, Timeout: 2 * time.Second}
	m, _, err := c.Exchange(req, addr)
	if err != nil {
		t.Fatalf("%s %s over %s: %v", name, mdns.TypeToString[qtype], network, err)
	}
	return m
}

func TestServerFollowsTheStoreTruncatesAndForwards(t *testing.T) {
	s := store.New()
	s.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	srv := NewServer("cluster.local", 30)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Run(ctx, s)
	addr := serve(t, srv)

	// A Service created is answered once the component has synced.
	s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.20"}})
	deadline := time.Now().Add(time.Second)
	for srv.Synced() < s.Generation() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if m := query(t, addr, "udp", "web.default.svc.cluster.local.", mdns.TypeA, 0); len(m.Answer) != 1 || m.Rcode != mdns.RcodeSuccess {
		t.Fatalf("web after create: %v", m)
	}
	s.Delete("Service", "default", "web")
	for srv.Synced() < s.Generation() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if m := query(t, addr, "udp", "web.default.svc.cluster.local.", mdns.TypeA, 0); m.Rcode != mdns.RcodeNameError {
		t.Fatalf("web after delete: %v", m)
	}

	// A headless Service of 60 endpoints does not fit 512 bytes: TC over UDP, all
	// over TCP or with an EDNS0 buffer.
	s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "many"}, Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone}})
	sl := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "many-x", Labels: map[string]string{discoveryv1.LabelServiceName: "many"}},
		AddressType: discoveryv1.AddressTypeIPv4}
	for i := 0; i < 60; i++ {
		sl.Endpoints = append(sl.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.244.1.%d", i+2)}})
	}
	s.Create(sl)
	for srv.Synced() < s.Generation() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if m := query(t, addr, "udp", "many.default.svc.cluster.local.", mdns.TypeA, 0); !m.Truncated || len(m.Answer) >= 60 {
		t.Errorf("UDP without EDNS0: truncated %v, %d answers", m.Truncated, len(m.Answer))
	}
	if m := query(t, addr, "tcp", "many.default.svc.cluster.local.", mdns.TypeA, 0); m.Truncated || len(m.Answer) != 60 {
		t.Errorf("TCP: truncated %v, %d answers", m.Truncated, len(m.Answer))
	}
	if m := query(t, addr, "udp", "many.default.svc.cluster.local.", mdns.TypeA, 4096); m.Truncated || len(m.Answer) != 60 {
		t.Errorf("UDP with EDNS0 4096: truncated %v, %d answers", m.Truncated, len(m.Answer))
	}

	// Outside the cluster with no upstream: SERVFAIL at once.
	start := time.Now()
	if m := query(t, addr, "udp", "example.com.", mdns.TypeA, 0); m.Rcode != mdns.RcodeServerFailure || time.Since(start) > 500*time.Millisecond {
		t.Errorf("no upstream: %s after %s", mdns.RcodeToString[m.Rcode], time.Since(start))
	}
	// With one, the answer is the upstream's.
	up := serve(t, mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		m := new(mdns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &mdns.A{Hdr: hdr(r.Question[0].Name, mdns.TypeA, 60), A: net.IPv4(192, 0, 2, 1)})
		w.WriteMsg(m)
	}))
	srv.SetUpstream(up)
	if m := query(t, addr, "udp", "example.com.", mdns.TypeA, 0); len(m.Answer) != 1 || m.Answer[0].(*mdns.A).A.String() != "192.0.2.1" {
		t.Errorf("forwarded: %v", m)
	}
}

// ServePod opens a CoreDNS pod's ports in a pod's namespace: here one the test makes
// (root only), queried from inside it.
func TestServePodInANamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	name := fmt.Sprintf("podlab-test-dns-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if out, err := exec.Command("ip", "-n", name, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v %s", err, out)
	}
	path := "/run/netns/" + name
	s := store.New()
	s.Create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}})
	s.Create(&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.20"}})
	srv := NewServer("cluster.local", 30)
	srv.zone.Store(Build(s, "cluster.local", 30))
	ps, err := srv.ServePod("kube-system/coredns-test", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	time.Sleep(50 * time.Millisecond)
	var udp, ready net.Conn
	err = nsutil.Do(path, func() error {
		var err error
		if udp, err = net.Dial("udp", "127.0.0.1:53"); err != nil {
			return err
		}
		ready, err = net.Dial("tcp", "127.0.0.1:8181")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	defer ready.Close()
	req := new(mdns.Msg)
	req.SetQuestion("web.default.svc.cluster.local.", mdns.TypeA)
	c := &mdns.Client{Timeout: 2 * time.Second}
	m, _, err := c.ExchangeWithConn(req, &mdns.Conn{Conn: udp})
	if err != nil || len(m.Answer) != 1 {
		t.Errorf("DNS from the pod's socket: %v %v", m, err)
	}
	fmt.Fprint(ready, "GET /ready HTTP/1.0\r\n\r\n")
	ready.SetDeadline(time.Now().Add(2 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(ready), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("/ready: %v %v", resp, err)
	}
}
