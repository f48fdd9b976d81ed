// Package nflog reads the packets an nftables `log group N` statement sends to one
// nflog group of one network namespace (nfnetlink_log instances are per namespace):
// the rule's prefix, the time, and the first bytes of the packet parsed as IPv4 with
// the ports of TCP, UDP and SCTP. It uses only raw NETLINK_NETFILTER sockets.
package nflog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"podlab.dev/podlab/nsutil"
)

// nfnetlink_log's message types and attributes (linux/netfilter/nfnetlink_log.h);
// golang.org/x/sys/unix has only the subsystem number.
const (
	msgPacket = 0
	msgConfig = 1

	attrCfgCmd     = 1 // NFULA_CFG_CMD: struct { u8 command }
	attrCfgMode    = 2 // NFULA_CFG_MODE: struct { be32 copy_range; u8 mode; u8 pad }
	attrCfgQthresh = 5 // NFULA_CFG_QTHRESH: be32

	cmdBind     = 1 // NFULNL_CFG_CMD_BIND
	cmdPfBind   = 3 // NFULNL_CFG_CMD_PF_BIND
	cmdPfUnbind = 4 // NFULNL_CFG_CMD_PF_UNBIND

	copyPacket = 2 // NFULNL_COPY_PACKET

	attrTimestamp = 3  // NFULA_TIMESTAMP: struct { be64 sec; be64 usec }
	attrPayload   = 9  // NFULA_PAYLOAD: the packet from its network header
	attrPrefix    = 10 // NFULA_PREFIX: the rule's prefix, NUL-terminated

	nlaTypeMask = 0x3fff // without NLA_F_NESTED and NLA_F_NET_BYTEORDER
)

// CopyRange is how many bytes of each packet the kernel copies: an IPv4 header with
// options (up to 60 bytes) is rare in a lab; 64 holds a plain header and the ports.
const CopyRange = 64

// Record is one logged packet.
type Record struct {
	Time     time.Time      // the packet's timestamp, else when it was read
	Prefix   string         // the log statement's prefix, as written
	Protocol string         // "TCP", "UDP", "SCTP", "ICMP" or the number
	Src, Dst netip.AddrPort // ports 0 for protocols without them
}

// Tuple is "TCP 10.244.1.3:40000 -> 10.244.1.2:80".
func (r Record) Tuple() string {
	if r.Src.Port() == 0 && r.Dst.Port() == 0 {
		return fmt.Sprintf("%s %s -> %s", r.Protocol, r.Src.Addr(), r.Dst.Addr())
	}
	return fmt.Sprintf("%s %s -> %s", r.Protocol, r.Src, r.Dst)
}

// Reader is a socket bound to one group of one namespace.
type Reader struct {
	f     *os.File
	group uint16
	buf   []byte
	// Lost counts the times the socket's buffer overflowed (ENOBUFS): records dropped
	// by the kernel, not by the reader.
	Lost int
}

// Open binds group in the network namespace at nsPath ("" = the caller's) for AF_INET
// packets, copying CopyRange bytes of each. Only one socket can bind a group in a
// namespace: a second Open of it fails with EBUSY until the first is closed.
func Open(nsPath string, group uint16) (*Reader, error) {
	var fd int
	open := func() error {
		var err error
		fd, err = unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_NETFILTER)
		return err
	}
	var err error
	if nsPath == "" {
		err = open()
	} else {
		err = nsutil.Do(nsPath, open)
	}
	if err != nil {
		return nil, fmt.Errorf("nflog: netlink socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("nflog: bind: %w", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20)
	r := &Reader{group: group, buf: make([]byte, 1<<16)}
	steps := []struct {
		what   string
		family uint8
		res    uint16
		attrs  []byte
	}{
		// PF_UNBIND then PF_BIND: older kernels need the family bound to nfnetlink_log
		// (newer ones ignore both); an error here is not fatal.
		{"pf unbind", unix.AF_INET, 0, attr(attrCfgCmd, []byte{cmdPfUnbind})},
		{"pf bind", unix.AF_INET, 0, attr(attrCfgCmd, []byte{cmdPfBind})},
		{"bind group", unix.AF_UNSPEC, group, attr(attrCfgCmd, []byte{cmdBind})},
		{"copy mode", unix.AF_UNSPEC, group, attr(attrCfgMode, binary.BigEndian.AppendUint32(nil, CopyRange), copyPacket, 0)},
		// One packet per message: the log is read as it happens, not batched for 1 s.
		{"queue threshold", unix.AF_UNSPEC, group, attr(attrCfgQthresh, binary.BigEndian.AppendUint32(nil, 1))},
	}
	for i, s := range steps {
		err := request(fd, uint32(i+1), s.family, s.res, s.attrs)
		if err != nil && i >= 2 {
			unix.Close(fd)
			return nil, fmt.Errorf("nflog: %s %d: %w", s.what, group, err)
		}
	}
	r.f = os.NewFile(uintptr(fd), "nflog")
	return r, nil
}

// attr encodes one netlink attribute, padded to 4 bytes.
func attr(typ uint16, parts ...any) []byte {
	var v []byte
	for _, p := range parts {
		switch p := p.(type) {
		case []byte:
			v = append(v, p...)
		case int:
			v = append(v, byte(p))
		}
	}
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// request sends one config message and waits for its ack (the socket is
// non-blocking: it polls, for at most 2 s).
func request(fd int, seq uint32, family uint8, res uint16, attrs []byte) error {
	msg := binary.NativeEndian.AppendUint32(nil, uint32(unix.SizeofNlMsghdr+4+len(attrs)))
	msg = binary.NativeEndian.AppendUint16(msg, unix.NFNL_SUBSYS_ULOG<<8|msgConfig)
	msg = binary.NativeEndian.AppendUint16(msg, unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	msg = binary.NativeEndian.AppendUint32(msg, seq)
	msg = binary.NativeEndian.AppendUint32(msg, 0)
	msg = append(msg, family, unix.NFNETLINK_V0)
	msg = binary.BigEndian.AppendUint16(msg, res)
	msg = append(msg, attrs...)
	if err := unix.Sendto(fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 4096)
	deadline := time.Now().Add(2 * time.Second)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err == unix.EAGAIN || err == unix.EINTR {
			if time.Now().After(deadline) {
				return errors.New("no answer from the kernel")
			}
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			_, _ = unix.Poll(pfd, 100)
			continue
		}
		if err != nil {
			return err
		}
		msgs, err := syscallParse(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if m.Header.Type == unix.NLMSG_ERROR && m.Header.Seq == seq && len(m.Data) >= 4 {
				if errno := int32(binary.NativeEndian.Uint32(m.Data)); errno != 0 {
					return unix.Errno(-errno)
				}
				return nil
			}
		}
	}
}

func syscallParse(b []byte) ([]message, error) {
	var out []message
	for len(b) >= unix.SizeofNlMsghdr {
		l := int(binary.NativeEndian.Uint32(b))
		if l < unix.SizeofNlMsghdr || l > len(b) {
			return out, fmt.Errorf("nflog: truncated netlink message (%d of %d bytes)", len(b), l)
		}
		out = append(out, message{Header: unix.NlMsghdr{
			Len: uint32(l), Type: binary.NativeEndian.Uint16(b[4:]), Flags: binary.NativeEndian.Uint16(b[6:]),
			Seq: binary.NativeEndian.Uint32(b[8:]), Pid: binary.NativeEndian.Uint32(b[12:])}, Data: b[unix.SizeofNlMsghdr:l]})
		al := (l + 3) &^ 3
		if al > len(b) {
			break
		}
		b = b[al:]
	}
	if len(b) > 0 && len(b) < unix.SizeofNlMsghdr {
		return out, fmt.Errorf("nflog: truncated netlink header (%d bytes)", len(b))
	}
	return out, nil
}

type message struct {
	Header unix.NlMsghdr
	Data   []byte
}

// Read blocks until the kernel sends records and returns them (several when it
// batched them); after Close it returns os.ErrClosed.
func (r *Reader) Read() ([]Record, error) {
	rc, err := r.f.SyscallConn()
	if err != nil {
		return nil, err
	}
	for {
		var n int
		var rerr error
		err = rc.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), r.buf, 0)
			return rerr != unix.EAGAIN
		})
		if err != nil {
			return nil, err
		}
		if rerr == unix.ENOBUFS {
			r.Lost++
			continue
		}
		if rerr != nil {
			return nil, fmt.Errorf("nflog: read: %w", rerr)
		}
		recs, err := Parse(r.buf[:n], time.Now())
		if len(recs) > 0 || err != nil {
			return recs, err
		}
	}
}

// Close closes the socket (the group is unbound with it) and ends a blocked Read.
func (r *Reader) Close() error { return r.f.Close() }

// Parse decodes the nflog packet messages in one netlink read; now is their time
// when they carry no timestamp. Messages of other kinds are skipped.
func Parse(b []byte, now time.Time) ([]Record, error) {
	msgs, err := syscallParse(b)
	var out []Record
	for _, m := range msgs {
		if m.Header.Type != unix.NFNL_SUBSYS_ULOG<<8|msgPacket || len(m.Data) < 4 {
			continue
		}
		rec := Record{Time: now, Protocol: "?"}
		for a := m.Data[4:]; len(a) >= 4; {
			l := int(binary.NativeEndian.Uint16(a))
			typ := binary.NativeEndian.Uint16(a[2:]) & nlaTypeMask
			if l < 4 || l > len(a) {
				break
			}
			v := a[4:l]
			switch typ {
			case attrPrefix:
				rec.Prefix = strings.TrimRight(string(v), "\x00")
			case attrTimestamp:
				if len(v) >= 16 {
					sec, usec := binary.BigEndian.Uint64(v), binary.BigEndian.Uint64(v[8:])
					rec.Time = time.Unix(int64(sec), int64(usec)*1000)
				}
			case attrPayload:
				parseIPv4(v, &rec)
			}
			al := (l + 3) &^ 3
			if al > len(a) {
				break
			}
			a = a[al:]
		}
		out = append(out, rec)
	}
	return out, err
}

// parseIPv4 reads protocol, addresses and (for TCP, UDP and SCTP, whose first four
// bytes are the ports; only the first fragment has them) the ports.
func parseIPv4(p []byte, rec *Record) {
	if len(p) < 20 || p[0]>>4 != 4 {
		return
	}
	ihl := int(p[0]&0x0f) * 4
	proto := p[9]
	src, dst := netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
	var sport, dport uint16
	fragOff := binary.BigEndian.Uint16(p[6:]) & 0x1fff
	switch proto {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP, unix.IPPROTO_SCTP:
		if fragOff == 0 && ihl >= 20 && len(p) >= ihl+4 {
			sport, dport = binary.BigEndian.Uint16(p[ihl:]), binary.BigEndian.Uint16(p[ihl+2:])
		}
	}
	rec.Protocol = ProtocolName(proto)
	rec.Src, rec.Dst = netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
}

// ProtocolName: "TCP", "UDP", "SCTP", "ICMP", else the number.
func ProtocolName(p uint8) string {
	switch p {
	case unix.IPPROTO_TCP:
		return "TCP"
	case unix.IPPROTO_UDP:
		return "UDP"
	case unix.IPPROTO_SCTP:
		return "SCTP"
	case unix.IPPROTO_ICMP:
		return "ICMP"
	}
	return fmt.Sprint(p)
}
