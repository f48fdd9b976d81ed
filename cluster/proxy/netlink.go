package proxy

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
	"sigs.k8s.io/knftables"
)

// The nft binary lists the table's chains, sets and objects back from the kernel
// before every transaction it runs (its cache), whatever the transaction: with
// 10,000 Services that is 10,000 chains, 10,000 anonymous maps and 30,000 counters,
// 150-230 ms of one core before a one-Service change of 5 ms (see README.md). A
// partial sync needs none of it: the proxier knows what the table holds. So
// Netlink sends the transactions of partial syncs to the kernel itself, as the one
// netlink batch nft would have sent (the same messages, attributes and userdata,
// so `nft list table` shows the same ruleset), and leaves the rest to nft.

// maxNetlinkOps is the size above which a transaction goes to nft; a full sync of
// 10,000 Services is about 110,000 operations, 20 MB of netlink.
const maxNetlinkOps = 400000

// netlinkBuffer is the socket's send buffer to start with (2 MB is a sync of about
// 1,000 Services); send makes room for a larger batch as nft does.
const netlinkBuffer = 4 << 20

// netlinkNFT is a knftables.Interface whose Run sends what it can encode through
// netlink; everything else is nft's.
type netlinkNFT struct {
	knftables.Interface
	mu     sync.Mutex
	fd     int
	sndbuf int // the socket's send buffer, as asked for
	sent   int // batches sent through netlink, for tests
}

// Netlink wraps nft, bound to family ip and table kube-proxy in one network
// namespace: the socket is opened inside inNS (a function running its argument in
// that namespace; nil: the current one). Transactions made only of the operations a
// partial sync uses (chains added, flushed and deleted; counters; elements of the
// table's sets and maps; dnat rules with or without a numgen map, the external
// chains' mark and goto rules) and of at most maxNetlinkOps operations are sent as
// one netlink batch; any other goes to nft, and so does every List. The socket lives
// as long as the process (it holds the namespace until then); Close releases it.
func Netlink(nft knftables.Interface, inNS func(func() error) error) (knftables.Interface, error) {
	n := &netlinkNFT{Interface: nft, fd: -1}
	open := func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		if err != nil {
			return err
		}
		// A batch is one message: room for a part of a full sync (commitIfLarge), as
		// nft makes room for its batches.
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, netlinkBuffer) == nil {
			n.sndbuf = netlinkBuffer
		}
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			unix.Close(fd)
			return err
		}
		n.fd = fd
		return nil
	}
	var err error
	if inNS != nil {
		err = inNS(open)
	} else {
		err = open()
	}
	if err != nil {
		return nil, fmt.Errorf("proxy: netfilter netlink socket: %w", err)
	}
	return n, nil
}

// Close releases the socket.
func (n *netlinkNFT) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fd < 0 {
		return nil
	}
	err := unix.Close(n.fd)
	n.fd = -1
	return err
}

func (n *netlinkNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	if tx.NumOperations() > maxNetlinkOps {
		return n.Interface.Run(ctx, tx)
	}
	text := tx.String()
	b, lines, err := encodeBatch(text)
	if err != nil { // an operation we do not encode: nft does it all
		return n.Interface.Run(ctx, tx)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fd < 0 {
		return n.Interface.Run(ctx, tx)
	}
	if err := n.send(b, lines); err != nil {
		if errors.Is(err, errTooLarge) {
			return n.Interface.Run(ctx, tx)
		}
		return err
	}
	n.sent++
	return nil
}

// send writes the batch and reads the kernel's answers. As nft does, it asks for no
// acknowledgements: the kernel handles the whole batch inside sendto and queues an
// error for each message it refused before sendto returns, so whatever is queued
// afterwards is the outcome.
func (n *netlinkNFT) send(b []byte, lines []string) error {
	buf := make([]byte, 1<<16)
	for { // drop anything left from an earlier batch
		if _, _, err := unix.Recvfrom(n.fd, buf, unix.MSG_DONTWAIT); err != nil {
			break
		}
	}
	if len(b) > n.sndbuf { // as nft does, room for the whole batch (the kernel doubles it)
		if err := unix.SetsockoptInt(n.fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, len(b)+4096); err == nil {
			n.sndbuf = len(b) + 4096
		}
	}
	if err := unix.Sendto(n.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		if errors.Is(err, unix.EMSGSIZE) || errors.Is(err, unix.ENOBUFS) {
			return errTooLarge // nothing was sent
		}
		return fmt.Errorf("netlink batch: %w", err)
	}
	var errs []error
	for {
		m, _, err := unix.Recvfrom(n.fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EWOULDBLOCK) {
				break
			}
			return fmt.Errorf("netlink batch: %w", err)
		}
		for off := 0; off+16 <= m; {
			l := int(binary.NativeEndian.Uint32(buf[off:]))
			typ := binary.NativeEndian.Uint16(buf[off+4:])
			seq := int(binary.NativeEndian.Uint32(buf[off+8:]))
			if l < 16 || off+l > m {
				break
			}
			if typ == unix.NLMSG_ERROR && l >= 20 {
				if code := int32(binary.NativeEndian.Uint32(buf[off+16:])); code != 0 {
					line := ""
					if seq >= 1 && seq <= len(lines) {
						line = lines[seq-1]
					}
					errs = append(errs, fmt.Errorf("%q: %w", line, unix.Errno(-code)))
				}
			}
			off += (l + 3) &^ 3
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("netlink batch: %w", errors.Join(errs...))
	}
	return nil
}

// Message types and attributes of nf_tables (include/uapi/linux/netfilter/nf_tables.h).
const (
	nfnlSubsysNFTables = 10
	msgNewChain        = 3
	msgDelChain        = 5
	msgNewRule         = 6
	msgDelRule         = 8
	msgNewSet          = 9
	msgNewSetElem      = 12
	msgDelSetElem      = 14
	msgNewObj          = 18
	msgDelObj          = 20

	nlaNested   = 0x8000
	objCounter  = 1
	verdictGoto = 0xfffffffc // NFT_GOTO (-4)
	verdictJump = 0xfffffffd // NFT_JUMP (-3)
)

// fieldKind is the type of one field of a set's key.
type fieldKind int

const (
	fieldIPv4 fieldKind = iota
	fieldProto
	fieldPort
)

// setKeys are the key types of the table's sets and maps (setup.go, counters.go).
var setKeys = map[string][]fieldKind{
	clusterIPsSet:          {fieldIPv4},
	nodePortIPsSet:         {fieldIPv4},
	hairpinConnectionsSet:  {fieldIPv4, fieldIPv4, fieldProto, fieldPort},
	serviceIPsMap:          {fieldIPv4, fieldProto, fieldPort},
	noEndpointServicesMap:  {fieldIPv4, fieldProto, fieldPort},
	firewallIPsMap:         {fieldIPv4, fieldProto, fieldPort},
	noEndpointNodePortsMap: {fieldProto, fieldPort},
	serviceNodePortsMap:    {fieldProto, fieldPort},
	endpointCountersMap:    {fieldIPv4, fieldProto, fieldPort, fieldIPv4, fieldPort},
}

var protocols = map[string]byte{"tcp": unix.IPPROTO_TCP, "udp": unix.IPPROTO_UDP, "sctp": unix.IPPROTO_SCTP}

var (
	errUnsupported = errors.New("not encoded through netlink")
	errTooLarge    = errors.New("batch larger than the socket's send buffer")
	prefix         = "ip " + tableName + " "
	pickRe         = regexp.MustCompile(`^numgen random mod (\d+) 0 ((?:goto|jump) \S+)$`)
	commentRe      = regexp.MustCompile(`^(.*) comment ("(?:[^"\\]|\\.)*")$`)
	dnatMapRe      = regexp.MustCompile(`^meta l4proto (tcp|udp|sctp) dnat ip addr \. port to numgen random mod (\d+) map \{ (.*) \}$`)
)

// batch builds one nfnetlink batch.
type batch struct {
	b     []byte
	seq   uint32
	setID uint32
}

func (bt *batch) msg(typ uint16, flags uint16, family byte, resID uint16, attrs []byte) {
	l := 16 + 4 + len(attrs)
	b := binary.NativeEndian.AppendUint32(bt.b, uint32(l))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, bt.seq)
	b = append(b, 0, 0, 0, 0, family, 0) // pid, nfgenmsg's family and version
	b = binary.BigEndian.AppendUint16(b, resID)
	bt.b = append(b, attrs...)
	bt.seq++
}

func (bt *batch) op(msgType uint16, flags uint16, attrs []byte) {
	bt.msg(nfnlSubsysNFTables<<8|msgType, unix.NLM_F_REQUEST|flags, unix.AF_INET, 0, attrs)
}

// attr appends one netlink attribute, padded to 4 bytes.
func attr(b []byte, typ uint16, v []byte) []byte {
	n := 4 + len(v)
	padded := (n + 3) &^ 3
	if cap(b)-len(b) < padded {
		// Room for the attributes that usually follow: messages are built by
		// appending small attributes one by one, and growing by the minimum
		// made this the costliest part of a full sync's encoding.
		nb := make([]byte, len(b), 2*len(b)+padded+64)
		copy(nb, b)
		b = nb
	}
	b = binary.NativeEndian.AppendUint16(b, uint16(n))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func nest(b []byte, typ uint16, v []byte) []byte { return attr(b, typ|nlaNested, v) }
func str(s string) []byte                        { return append([]byte(s), 0) }
func be32(v uint32) []byte                       { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte                       { return binary.BigEndian.AppendUint64(nil, v) }

// encodeBatch turns a transaction's nft text into a netlink batch; lines are its
// operations, by sequence number - 1.
func encodeBatch(text string) ([]byte, []string, error) {
	bt := &batch{b: make([]byte, 0, 2*len(text))} // about 1.5 bytes of netlink per byte of text
	bt.msg(unix.NFNL_MSG_BATCH_BEGIN, unix.NLM_F_REQUEST, unix.AF_UNSPEC, nfnlSubsysNFTables, nil)
	bt.seq = 1
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	seqLines := make([]string, 0, len(lines)+len(lines)/4)
	for _, line := range lines {
		verb, rest, _ := strings.Cut(line, " ")
		kind, rest, _ := strings.Cut(rest, " ")
		if !strings.HasPrefix(rest, prefix) {
			return nil, nil, errUnsupported
		}
		rest = strings.TrimPrefix(rest, prefix)
		before := bt.seq
		if err := bt.encode(verb, kind, rest); err != nil {
			return nil, nil, err
		}
		for range bt.seq - before {
			seqLines = append(seqLines, line)
		}
	}
	bt.msg(unix.NFNL_MSG_BATCH_END, unix.NLM_F_REQUEST, unix.AF_UNSPEC, nfnlSubsysNFTables, nil)
	return bt.b, seqLines, nil
}

func table() []byte { return attr(nil, 1, str(tableName)) }

func (bt *batch) encode(verb, kind, rest string) error {
	switch verb + " " + kind {
	case "add chain":
		if strings.ContainsAny(rest, " {") {
			return errUnsupported // base chains and comments: nft's
		}
		bt.op(msgNewChain, unix.NLM_F_CREATE, attr(table(), 3, str(rest)))
	case "flush chain":
		bt.op(msgDelRule, 0, attr(table(), 2, str(rest)))
	case "delete chain":
		bt.op(msgDelChain, 0, attr(table(), 3, str(rest)))
	case "add counter", "delete counter":
		if strings.ContainsAny(rest, " {") {
			return errUnsupported
		}
		a := attr(attr(table(), 2, str(rest)), 3, be32(objCounter))
		if verb == "add" {
			a = nest(a, 4, attr(attr(nil, 1, be64(0)), 2, be64(0)))
			bt.op(msgNewObj, unix.NLM_F_CREATE, a)
		} else {
			bt.op(msgDelObj, 0, a)
		}
	case "add element", "delete element":
		return bt.element(verb == "add", rest)
	case "add rule":
		return bt.rule(rest)
	default:
		return errUnsupported
	}
	return nil
}

// element encodes `SET { KEY [comment "C"] [: VALUE] }` of one of setKeys.
func (bt *batch) element(add bool, rest string) error {
	m := parseElement(rest)
	if m == nil {
		return errUnsupported
	}
	fields, ok := setKeys[m[1]]
	if !ok {
		return errUnsupported
	}
	key, err := encodeKey(fields, strings.Split(m[2], " . "))
	if err != nil {
		return err
	}
	e := nest(nil, 1, attr(nil, 1, key)) // NFTA_SET_ELEM_KEY { NFTA_DATA_VALUE }
	if add {
		switch v := m[4]; {
		case v == "":
		case strings.HasPrefix(v, `"`): // a counter's name, in endpoint-port-counters
			name, err := strconv.Unquote(v)
			if err != nil {
				return errUnsupported
			}
			e = attr(e, 9, str(name)) // NFTA_SET_ELEM_OBJREF
		default:
			verdict, err := encodeVerdict(v)
			if err != nil {
				return err
			}
			e = nest(e, 2, nest(nil, 2, verdict)) // NFTA_SET_ELEM_DATA { NFTA_DATA_VERDICT }
		}
		if m[3] != "" {
			c, err := strconv.Unquote(m[3])
			if err != nil || len(c) > 254 {
				return errUnsupported
			}
			// libnftnl's userdata: NFTNL_UDATA_SET_ELEM_COMMENT, length, the string and its NUL.
			e = attr(e, 6, append([]byte{0, byte(len(c) + 1)}, str(c)...))
		}
	}
	list := nest(nil, 1, e)
	a := nest(attr(table(), 2, str(m[1])), 3, list)
	if add {
		bt.op(msgNewSetElem, unix.NLM_F_CREATE, a)
	} else {
		bt.op(msgDelSetElem, 0, a)
	}
	return nil
}

// parseElement splits `SET { KEY [comment "C"] [: VALUE] }` as
// [_, SET, KEY, "C" (quoted) or "", VALUE or ""], or returns nil. (A regular
// expression did the same at five times the cost, a tenth of a full sync.)
func parseElement(rest string) []string {
	set, inner, ok := strings.Cut(rest, " { ")
	if !ok || strings.Contains(set, " ") || !strings.HasSuffix(inner, " }") {
		return nil
	}
	inner = strings.TrimSuffix(inner, " }")
	var key, comment, value string
	if i := strings.Index(inner, ` comment "`); i >= 0 {
		key = inner[:i]
		q, err := strconv.QuotedPrefix(inner[i+len(" comment "):])
		if err != nil {
			return nil
		}
		comment = q
		after := inner[i+len(" comment ")+len(q):]
		if after != "" {
			if !strings.HasPrefix(after, " : ") {
				return nil
			}
			value = after[len(" : "):]
		}
	} else {
		key, value, _ = strings.Cut(inner, " : ")
	}
	if key == "" || strings.ContainsAny(key, `":`) || (value == "" && strings.Contains(inner, " : ")) {
		return nil
	}
	return []string{rest, set, key, comment, value}
}

// encodeKey lays the fields out as nft does: each in its own 32-bit register.
func encodeKey(kinds []fieldKind, fields []string) ([]byte, error) {
	if len(kinds) != len(fields) {
		return nil, errUnsupported
	}
	var key []byte
	for i, f := range fields {
		switch kinds[i] {
		case fieldIPv4:
			ip, err := netip.ParseAddr(f)
			if err != nil || !ip.Is4() {
				return nil, errUnsupported
			}
			a := ip.As4()
			key = append(key, a[:]...)
		case fieldProto:
			p, ok := protocols[f]
			if !ok {
				return nil, errUnsupported
			}
			key = append(key, p, 0, 0, 0)
		case fieldPort:
			p, err := strconv.ParseUint(f, 10, 16)
			if err != nil {
				return nil, errUnsupported
			}
			key = append(binary.BigEndian.AppendUint16(key, uint16(p)), 0, 0)
		}
	}
	return key, nil
}

// encodeVerdict encodes "drop", "accept", "goto C" or "jump C" (NFTA_VERDICT_*).
func encodeVerdict(v string) ([]byte, error) {
	word, chain, _ := strings.Cut(v, " ")
	switch word {
	case "drop":
		return attr(nil, 1, be32(0)), nil
	case "accept":
		return attr(nil, 1, be32(1)), nil
	case "goto", "jump":
		if chain == "" || strings.Contains(chain, " ") {
			return nil, errUnsupported
		}
		code := uint32(verdictGoto)
		if word == "jump" {
			code = verdictJump
		}
		return attr(attr(nil, 1, be32(code)), 2, str(chain)), nil
	}
	return nil, errUnsupported
}

// expr appends one expression (NFTA_LIST_ELEM { NFTA_EXPR_NAME, NFTA_EXPR_DATA }).
func expr(b []byte, name string, data []byte) []byte {
	return nest(b, 1, nest(attr(nil, 1, str(name)), 2, data))
}

// splitComment is commentRe's match without its cost (a rule's comment comes last):
// [_, the rule before it, the quoted comment], or nil.
func splitComment(body string) []string {
	i := strings.LastIndex(body, ` comment "`)
	if i < 0 {
		return nil
	}
	q := body[i+len(" comment "):]
	if _, err := strconv.Unquote(q); err == nil {
		return []string{body, body[:i], q}
	}
	return commentRe.FindStringSubmatch(body) // a comment that holds ` comment "`
}

// splitDNAT matches `meta l4proto P [numgen random mod N 0 ]dnat to IP:PORT` by hand
// (the tens of thousands of dnat rules of a full sync; the test holds the regular
// expression it agrees with): [_, protocol, the numgen modulus or "", IP, port], or nil.
func splitDNAT(body string) []string {
	rest, ok := strings.CutPrefix(body, "meta l4proto ")
	if !ok {
		return nil
	}
	proto, rest, _ := strings.Cut(rest, " ")
	if _, ok := protocols[proto]; !ok {
		return nil
	}
	mod := ""
	if r, ok := strings.CutPrefix(rest, "numgen random mod "); ok {
		mod, rest, _ = strings.Cut(r, " ")
		if rest, ok = strings.CutPrefix(rest, "0 "); !ok || mod == "" || strings.Trim(mod, "0123456789") != "" {
			return nil
		}
	}
	target, ok := strings.CutPrefix(rest, "dnat to ")
	if !ok {
		return nil
	}
	ip, port, ok := strings.Cut(target, ":")
	if !ok || ip == "" || port == "" || strings.Trim(ip, "0123456789.") != "" || strings.Trim(port, "0123456789") != "" {
		return nil
	}
	return []string{body, proto, mod, ip, port}
}

// rule encodes `CHAIN meta l4proto P dnat to IP:PORT` and `CHAIN meta l4proto P
// dnat ip addr . port to numgen random mod N map { I : IP . PORT , ... }` (a
// Service chain without session affinity), `mark set mark or 0x4000` and `goto C`
// (an external chain), the large table's `numgen random mod N 0 ` before a dnat or
// a goto (pickByRules), with or without a comment, in the expressions nft 1.0.6
// makes of them (service.go).
func (bt *batch) rule(rest string) error {
	chain, body, ok := strings.Cut(rest, " ")
	if !ok {
		return errUnsupported
	}
	var udata []byte
	if m := splitComment(body); m != nil {
		c, err := strconv.Unquote(m[2])
		if err != nil || len(c) > 254 {
			return errUnsupported
		}
		body = m[1]
		// libnftnl's userdata: NFTNL_UDATA_RULE_COMMENT, length, the string and its NUL.
		udata = append([]byte{0, byte(len(c) + 1)}, str(c)...)
	}
	var exprs []byte
	// pick appends `numgen random mod N 0`: numgen's number, in host byte order, is 0.
	pick := func(n string) bool {
		mod, err := strconv.ParseUint(n, 10, 32)
		if err != nil || mod < 2 {
			return false
		}
		exprs = expr(exprs, "numgen", attr(attr(attr(attr(nil, 1, be32(1)), 2, be32(uint32(mod))), 3, be32(unix.NFT_NG_RANDOM)), 4, be32(0)))
		exprs = expr(exprs, "cmp", nest(attr(attr(nil, 1, be32(1)), 2, be32(unix.NFT_CMP_EQ)), 3, attr(nil, 1, binary.NativeEndian.AppendUint32(nil, 0))))
		return true
	}
	add := func() {
		a := nest(attr(table(), 2, str(chain)), 4, exprs)
		if udata != nil {
			a = attr(a, 7, udata)
		}
		bt.op(msgNewRule, unix.NLM_F_CREATE|unix.NLM_F_APPEND, a)
	}
	switch {
	case body == "mark set mark or "+masqueradeMark:
		mark, err := strconv.ParseUint(strings.TrimPrefix(masqueradeMark, "0x"), 16, 32)
		if err != nil {
			return errUnsupported
		}
		exprs = expr(exprs, "meta", attr(attr(nil, 2, be32(unix.NFT_META_MARK)), 1, be32(1)))
		exprs = expr(exprs, "bitwise", nest(nest(attr(attr(attr(attr(nil, 1, be32(1)), 2, be32(1)), 6, be32(0)), 3, be32(4)),
			4, attr(nil, 1, binary.NativeEndian.AppendUint32(nil, ^uint32(mark)))), 5, attr(nil, 1, binary.NativeEndian.AppendUint32(nil, uint32(mark)))))
		exprs = expr(exprs, "meta", attr(attr(nil, 2, be32(unix.NFT_META_MARK)), 3, be32(1)))
		add()
		return nil
	case strings.HasPrefix(body, "goto ") || strings.HasPrefix(body, "jump ") || strings.HasPrefix(body, "numgen "):
		if m := pickRe.FindStringSubmatch(body); m != nil {
			if !pick(m[1]) {
				return errUnsupported
			}
			body = m[2]
		}
		verdict, err := encodeVerdict(body)
		if err != nil {
			return err
		}
		exprs = expr(exprs, "immediate", nest(attr(nil, 1, be32(0)), 2, nest(nil, 2, verdict)))
		add()
		return nil
	}
	l4proto := func(p string) {
		exprs = expr(exprs, "meta", attr(attr(nil, 2, be32(unix.NFT_META_L4PROTO)), 1, be32(1)))
		exprs = expr(exprs, "cmp", nest(attr(attr(nil, 1, be32(1)), 2, be32(unix.NFT_CMP_EQ)), 3, attr(nil, 1, []byte{protocols[p]})))
	}
	if m := splitDNAT(body); m != nil {
		ip, err := netip.ParseAddr(m[3])
		port, err2 := strconv.ParseUint(m[4], 10, 16)
		if err != nil || err2 != nil {
			return errUnsupported
		}
		a := ip.As4()
		l4proto(m[1])
		if m[2] != "" && !pick(m[2]) {
			return errUnsupported
		}
		exprs = expr(exprs, "immediate", nest(attr(nil, 1, be32(1)), 2, attr(nil, 1, a[:])))
		exprs = expr(exprs, "immediate", nest(attr(nil, 1, be32(2)), 2, attr(nil, 1, binary.BigEndian.AppendUint16(nil, uint16(port)))))
		exprs = expr(exprs, "nat", attr(attr(attr(attr(attr(nil, 1, be32(unix.NFT_NAT_DNAT)), 2, be32(unix.NFPROTO_IPV4)),
			3, be32(1)), 5, be32(2)), 7, be32(unix.NF_NAT_RANGE_PROTO_SPECIFIED)))
		add()
		return nil
	}
	m := dnatMapRe.FindStringSubmatch(body)
	if m == nil {
		return errUnsupported
	}
	mod, err := strconv.ParseUint(m[2], 10, 32)
	if err != nil {
		return errUnsupported
	}
	var elems []byte
	count := 0
	for _, e := range strings.Split(m[3], " , ") {
		k, v, ok := strings.Cut(e, " : ")
		i, err := strconv.ParseUint(k, 10, 32)
		if !ok || err != nil {
			return errUnsupported
		}
		data, err := encodeKey([]fieldKind{fieldIPv4, fieldPort}, strings.Split(v, " . "))
		if err != nil {
			return err
		}
		// numgen writes its number in host byte order.
		elems = nest(elems, 1, nest(nest(nil, 1, attr(nil, 1, binary.NativeEndian.AppendUint32(nil, uint32(i)))), 2, attr(nil, 1, data)))
		count++
	}
	bt.setID++
	const anon = "__map%d" // the kernel picks the number
	// NFT_SET_ANONYMOUS|NFT_SET_CONSTANT|NFT_SET_MAP; key: integer (4) of 4 bytes;
	// data: ipv4_addr . inet_service (7<<6|13) of 8 bytes; libnftnl userdata: key
	// in host byte order, data byte order unset, no element merging.
	set := attr(table(), 2, str(anon))
	set = attr(set, 3, be32(unix.NFT_SET_ANONYMOUS|unix.NFT_SET_CONSTANT|unix.NFT_SET_MAP))
	set = attr(attr(set, 4, be32(4)), 5, be32(4))
	set = attr(attr(set, 6, be32(7<<6|13)), 7, be32(8))
	set = attr(set, 10, be32(bt.setID))
	set = nest(set, 9, attr(nil, 1, be32(uint32(count))))
	setUdata := binary.NativeEndian.AppendUint32([]byte{0, 4}, 1)
	setUdata = append(setUdata, 1, 4, 0, 0, 0, 0, 6, 4, 0, 0, 0, 0)
	set = attr(set, 13, setUdata)
	bt.op(msgNewSet, unix.NLM_F_CREATE, set)
	bt.op(msgNewSetElem, unix.NLM_F_CREATE, nest(attr(attr(table(), 2, str(anon)), 4, be32(bt.setID)), 3, elems))

	l4proto(m[1])
	exprs = expr(exprs, "numgen", attr(attr(attr(attr(nil, 1, be32(1)), 2, be32(uint32(mod))), 3, be32(unix.NFT_NG_RANDOM)), 4, be32(0)))
	exprs = expr(exprs, "lookup", attr(attr(attr(attr(nil, 2, be32(1)), 3, be32(1)), 1, str(anon)), 4, be32(bt.setID)))
	exprs = expr(exprs, "nat", attr(attr(attr(attr(nil, 1, be32(unix.NFT_NAT_DNAT)), 2, be32(unix.NFPROTO_IPV4)), 3, be32(1)), 5, be32(9)))
	add()
	return nil
}
