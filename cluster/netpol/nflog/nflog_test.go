package nflog

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// packetMsg crafts one NFULNL_MSG_PACKET message with the given attributes.
func packetMsg(attrs ...[]byte) []byte {
	body := []byte{unix.AF_INET, unix.NFNETLINK_V0, 0, 7} // nfgenmsg, group 7
	for _, a := range attrs {
		body = append(body, a...)
	}
	msg := binary.NativeEndian.AppendUint32(nil, uint32(unix.SizeofNlMsghdr+len(body)))
	msg = binary.NativeEndian.AppendUint16(msg, unix.NFNL_SUBSYS_ULOG<<8|msgPacket)
	msg = binary.NativeEndian.AppendUint16(msg, 0)
	msg = binary.NativeEndian.AppendUint64(msg, 0)
	return append(msg, body...)
}

// ipv4 is an IPv4 header (ihl words) and the first 4 bytes of its payload.
func ipv4(proto uint8, ihl int, src, dst string, sport, dport uint16, fragOff uint16) []byte {
	h := make([]byte, ihl*4)
	h[0] = 0x40 | byte(ihl)
	binary.BigEndian.PutUint16(h[6:], fragOff)
	h[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	h = binary.BigEndian.AppendUint16(h, sport)
	return binary.BigEndian.AppendUint16(h, dport)
}

func TestParse(t *testing.T) {
	now := time.Unix(1000, 0)
	ts := binary.BigEndian.AppendUint64(nil, 1700000000)
	ts = binary.BigEndian.AppendUint64(ts, 250000)
	two := append(packetMsg(
		attr(attrPrefix, []byte("podlab-netpol drop ingress ABCDEFGH x/a\x00")),
		attr(attrTimestamp|0x4000, ts),                                                              // NLA_F_NET_BYTEORDER set, as some kernels do
		attr(attrPayload, ipv4(unix.IPPROTO_TCP, 5, "10.244.2.3", "10.244.1.2", 40000, 80, 0x4000)), // DF only
	), packetMsg(
		attr(attrPrefix, []byte("p\x00")),
		attr(attrPayload, ipv4(unix.IPPROTO_UDP, 6, "10.0.0.1", "10.0.0.2", 53, 5353, 0)), // with options
	)...)
	recs, err := Parse(two, now)
	if err != nil || len(recs) != 2 {
		t.Fatalf("Parse = %v, %v", recs, err)
	}
	r := recs[0]
	if r.Prefix != "podlab-netpol drop ingress ABCDEFGH x/a" || !r.Time.Equal(time.Unix(1700000000, 250000000)) ||
		r.Tuple() != "TCP 10.244.2.3:40000 -> 10.244.1.2:80" {
		t.Errorf("record 0 = %+v (%s)", r, r.Tuple())
	}
	if r := recs[1]; r.Prefix != "p" || !r.Time.Equal(now) || r.Tuple() != "UDP 10.0.0.1:53 -> 10.0.0.2:5353" {
		t.Errorf("record 1 = %+v (%s)", r, r.Tuple())
	}

	cases := []struct {
		name, want string
		payload    []byte
	}{
		{"sctp", "SCTP 1.1.1.1:1 -> 2.2.2.2:2", ipv4(unix.IPPROTO_SCTP, 5, "1.1.1.1", "2.2.2.2", 1, 2, 0)},
		{"icmp has no ports", "ICMP 1.1.1.1 -> 2.2.2.2", ipv4(unix.IPPROTO_ICMP, 5, "1.1.1.1", "2.2.2.2", 0x0800, 0, 0)},
		{"later fragment has no ports", "UDP 1.1.1.1 -> 2.2.2.2", ipv4(unix.IPPROTO_UDP, 5, "1.1.1.1", "2.2.2.2", 1, 2, 100)},
		{"cut before the ports", "TCP 1.1.1.1 -> 2.2.2.2", ipv4(unix.IPPROTO_TCP, 5, "1.1.1.1", "2.2.2.2", 1, 2, 0)[:20]},
		{"other protocol", "47 1.1.1.1 -> 2.2.2.2", ipv4(47, 5, "1.1.1.1", "2.2.2.2", 1, 2, 0)},
		{"not IPv4", "? invalid IP -> invalid IP", append([]byte{0x60}, make([]byte, 39)...)},
		{"too short", "? invalid IP -> invalid IP", []byte{0x45, 0}},
	}
	for _, c := range cases {
		recs, err := Parse(packetMsg(attr(attrPayload, c.payload)), now)
		if err != nil || len(recs) != 1 || recs[0].Tuple() != c.want {
			t.Errorf("%s: Parse = %+v, %v; want %s", c.name, recs, err, c.want)
		}
	}

	// Not packets (an ack) are skipped; a cut message is an error, with what came before.
	ack := binary.NativeEndian.AppendUint32(nil, unix.SizeofNlMsghdr+4)
	ack = binary.NativeEndian.AppendUint16(ack, unix.NLMSG_ERROR)
	ack = append(ack, make([]byte, 10+4)...)
	good := packetMsg(attr(attrPrefix, []byte("a\x00")))
	recs, err = Parse(append(append(ack, good...), good[:10]...), now)
	if err == nil || len(recs) != 1 || recs[0].Prefix != "a" {
		t.Errorf("ack + packet + cut: %+v, %v", recs, err)
	}
	// A bad attribute length stops the attributes, not the parse.
	bad := packetMsg(attr(attrPrefix, []byte("a\x00")), []byte{2, 0, attrPrefix, 0})
	if recs, err := Parse(bad, now); err != nil || len(recs) != 1 || recs[0].Prefix != "a" {
		t.Errorf("bad attribute: %+v, %v", recs, err)
	}
}
