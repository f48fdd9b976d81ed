package dns

import (
	"encoding/binary"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// wire is a ResponseWriter that keeps the reply, as a UDP or TCP socket would send it.
type wire struct {
	tcp   bool
	reply []byte
}

func (w *wire) LocalAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(10, 96, 0, 10), Port: 53} }
func (w *wire) RemoteAddr() net.Addr {
	if w.tcp {
		return &net.TCPAddr{IP: net.IPv4(10, 244, 1, 2), Port: 40000}
	}
	return &net.UDPAddr{IP: net.IPv4(10, 244, 1, 2), Port: 40000}
}
func (w *wire) WriteMsg(m *mdns.Msg) error {
	b, err := m.Pack()
	w.reply = b
	return err
}
func (w *wire) Write(b []byte) (int, error) { w.reply = b; return len(b), nil }
func (w *wire) Close() error                { return nil }
func (w *wire) TsigStatus() error           { return nil }
func (w *wire) TsigTimersOnly(bool)         {}
func (w *wire) Hijack()                     {}

// serveRaw hands packet to h as miekg/dns's server does: what does not parse, or is
// not a query, never reaches the handler. The reply must fit the transport.
func serveRaw(t *testing.T, h mdns.Handler, packet []byte, tcp bool) {
	if len(packet) < 12 {
		return
	}
	be := func(i int) uint16 { return binary.BigEndian.Uint16(packet[i:]) }
	hdr := mdns.Header{Id: be(0), Bits: be(2), Qdcount: be(4), Ancount: be(6), Nscount: be(8), Arcount: be(10)}
	req := new(mdns.Msg)
	if mdns.DefaultMsgAcceptFunc(hdr) != mdns.MsgAccept || req.Unpack(packet) != nil {
		return
	}
	w := &wire{tcp: tcp}
	h.ServeDNS(w, req)
	if w.reply == nil {
		t.Fatalf("no reply to %v", req)
	}
	limit := 512
	if o := req.IsEdns0(); o != nil {
		limit = max(limit, int(o.UDPSize()))
	}
	if !tcp && len(w.reply) > limit {
		t.Fatalf("UDP reply of %d bytes to a client taking %d", len(w.reply), limit)
	}
}

// seeds are well-formed queries the fuzzers start from and mutate.
func seeds(f *testing.F) {
	for _, q := range []struct {
		name  string
		qtype uint16
		edns  uint16
	}{
		{"web.shop.svc.cluster.local.", mdns.TypeA, 0},
		{"db.shop.svc.cluster.local.", mdns.TypeA, 4096},
		{"_http._tcp.web.shop.svc.cluster.local.", mdns.TypeSRV, 1232},
		{"34.12.96.10.in-addr.arpa.", mdns.TypePTR, 0},
		{"api.example.com.", mdns.TypeA, 0},
		{"www.example.com.", mdns.TypeANY, 512},
	} {
		m := new(mdns.Msg)
		m.SetQuestion(q.name, q.qtype)
		if q.edns > 0 {
			m.SetEdns0(q.edns, true)
		}
		b, _ := m.Pack()
		f.Add(b, false)
		f.Add(b, true)
	}
}

// Any packet that reaches the cluster DNS gets a reply that fits its transport, and
// never a panic.
func FuzzServe(f *testing.F) {
	seeds(f)
	s := NewServer("cluster.local", 30)
	s.zone.Store(worked(&testing.T{}))
	f.Fuzz(func(t *testing.T, packet []byte, tcp bool) { serveRaw(t, s, packet, tcp) })
}

// The same for a lab host's authoritative server.
func FuzzAuthority(f *testing.F) {
	seeds(f)
	a, err := NewAuthority(labZones)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, packet []byte, tcp bool) { serveRaw(t, a, packet, tcp) })
}

// Garbage, truncated and oversized packets on a live server neither crash it nor
// hold it up: a good query right after them is answered at once.
func TestMalformedPacketsDoNotBlock(t *testing.T) {
	s := NewServer("cluster.local", 30)
	s.zone.Store(worked(t))
	addr := serve(t, s)
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	good := new(mdns.Msg)
	good.SetQuestion("web.shop.svc.cluster.local.", mdns.TypeA)
	packed, _ := good.Pack()
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		b := make([]byte, rnd.IntN(600))
		for j := range b {
			b[j] = byte(rnd.UintN(256))
		}
		if i%3 == 0 && len(b) > len(packed) { // a real header, broken after it
			copy(b, packed[:12])
		}
		c.Write(b)
	}
	// A TCP message longer than any DNS message may be, and one that stops half way.
	for _, n := range []int{65535, 300} {
		tc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 2+min(n, 1000))
		binary.BigEndian.PutUint16(b, uint16(n))
		tc.Write(b)
		defer tc.Close()
	}
	start := time.Now()
	for _, network := range []string{"udp", "tcp"} {
		m := query(t, addr, network, "web.shop.svc.cluster.local.", mdns.TypeA, 0)
		if len(m.Answer) != 1 {
			t.Fatalf("over %s after the garbage: %v", network, m)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("good queries after the garbage took %v", took)
	}
}
