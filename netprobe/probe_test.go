package netprobe

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// listen serves HTTP /hostname (as podlab's pod servers do) and a UDP echo of the name
// on loopback.
func listen(t *testing.T, name string) (tcp, udp netip.AddrPort) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hostname" {
			fmt.Fprint(w, name)
			return
		}
		http.NotFound(w, r)
	})}
	go srv.Serve(l)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if string(buf[:n]) == "hostname" {
				pc.WriteTo([]byte(name+"\n"), from)
			}
		}
	}()
	t.Cleanup(func() { srv.Close(); pc.Close() })
	return netip.MustParseAddrPort(l.Addr().String()), netip.MustParseAddrPort(pc.LocalAddr().String())
}

// closedPort is a loopback port nothing listens on (just closed).
func closedPort(t *testing.T, network string) netip.AddrPort {
	t.Helper()
	if network == "tcp" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
		return netip.MustParseAddrPort(l.Addr().String())
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc.Close()
	return netip.MustParseAddrPort(pc.LocalAddr().String())
}

// blackhole is a Dial whose packets are dropped: it answers nothing until the deadline.
func blackhole(tries *atomic.Int32) Dial {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		tries.Add(1)
		<-ctx.Done()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
}

func TestRun(t *testing.T) {
	tcp, udp := listen(t, "b")
	var dropped atomic.Int32
	for _, tc := range []struct {
		name   string
		probe  Probe
		want   Verdict
		answer string
		tries  int
	}{
		{name: "tcp http", probe: Probe{Addr: tcp, Protocol: "TCP"}, want: Allowed, answer: "b", tries: 1},
		{name: "udp echo", probe: Probe{Addr: udp, Protocol: "udp"}, want: Allowed, answer: "b", tries: 1},
		{name: "tcp refused", probe: Probe{Addr: closedPort(t, "tcp"), Protocol: "TCP"}, want: Refused, tries: 1},
		{name: "udp port unreachable", probe: Probe{Addr: closedPort(t, "udp"), Protocol: "UDP"}, want: Refused, tries: 1},
		{name: "dropped: timed out after a retry", probe: Probe{Dial: blackhole(&dropped), Addr: tcp, Protocol: "TCP", Timeout: 20 * time.Millisecond}, want: TimedOut, tries: 2},
		{name: "sctp", probe: Probe{Addr: tcp, Protocol: "SCTP"}, want: Unsupported, tries: 1},
		{name: "icmp", probe: Probe{Addr: tcp, Protocol: "ICMP"}, want: Failed, tries: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Run(context.Background(), tc.probe)
			if got.Verdict != tc.want || got.Answer != tc.answer || got.Tries != tc.tries {
				t.Errorf("Run = %+v, want %s answered %q in %d tries", got, tc.want, tc.answer, tc.tries)
			}
			if got.Verdict == Unsupported && !strings.Contains(got.Error, "SCTP") {
				t.Errorf("unsupported without saying why: %+v", got)
			}
		})
	}
	if dropped.Load() != 2 {
		t.Errorf("the dropped probe was sent %d times, want 2 (one retry)", dropped.Load())
	}
}

// A retry that would outlast the caller's deadline is not started.
func TestRunNoRetryPastDeadline(t *testing.T) {
	var tries atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	got := Run(ctx, Probe{Dial: blackhole(&tries), Addr: netip.MustParseAddrPort("10.0.0.1:80"), Protocol: "TCP", Timeout: 100 * time.Millisecond})
	if got.Verdict != TimedOut || got.Tries != 1 {
		t.Errorf("Run = %+v, want timed out after 1 try", got)
	}
}

// Blocked probes of a matrix run at once: 81 timeouts cost about two deadlines, not 162.
func TestRunAllParallel(t *testing.T) {
	var tries atomic.Int32
	var cells []Cell
	for i := range 81 {
		cells = append(cells, Cell{From: fmt.Sprint(i / 9), To: fmt.Sprint(i % 9), Probe: Probe{Dial: blackhole(&tries), Protocol: "UDP", Addr: netip.MustParseAddrPort("10.0.0.1:81"), Timeout: 50 * time.Millisecond}})
	}
	start := time.Now()
	RunAll(context.Background(), cells, 0)
	if took := time.Since(start); took > time.Second {
		t.Errorf("81 blocked probes took %s", took)
	}
	for _, c := range cells {
		if c.Result.Verdict != TimedOut {
			t.Fatalf("%s -> %s: %+v", c.From, c.To, c.Result)
		}
	}
}

// A UDP probe of port 53 asks a DNS question (a DNS server drops anything else, which
// would look like a NetworkPolicy's drop) and reads the answer's rcode.
func TestUDPPayloadDNS(t *testing.T) {
	q := new(mdns.Msg)
	if err := q.Unpack(udpPayload(53)); err != nil || len(q.Question) != 1 {
		t.Fatalf("port 53: not a DNS query: %v", err)
	}
	r := new(mdns.Msg)
	r.SetRcode(q, mdns.RcodeNameError)
	b, _ := r.Pack()
	if got := udpAnswer(53, b); got != "DNS NXDOMAIN" {
		t.Errorf("answer %q", got)
	}
	if string(udpPayload(81)) != "hostname" || udpAnswer(81, []byte("web-1\n")) != "web-1" {
		t.Errorf("other ports keep the echo")
	}
}
