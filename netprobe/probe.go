// Package netprobe sends real packets from inside a pod to learn what the dataplane
// does with them: one connection per probe (a TCP connect, then GET /hostname; a UDP
// "hostname" datagram, or a DNS query to port 53), a verdict per probe, and reachability matrices printed as the
// upstream e2e netpol suite prints its truth tables. It owns its probes' sockets and
// nothing else: it never reads the store or a lab's state and never programs the
// kernel. The caller resolves pods, Services and names and hands it a Dial that opens
// sockets in the source pod's network namespace.
package netprobe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// Verdict is what became of one probe.
type Verdict string

const (
	// Allowed: the connection was made (TCP) or the server answered (UDP).
	Allowed Verdict = "allowed"
	// TimedOut: nothing came back before the deadline, on every try. This is how a
	// NetworkPolicy drop looks (conformant CNIs drop silently): the probe's "blocked".
	TimedOut Verdict = "timed out"
	// Refused: a TCP reset or an ICMP port unreachable came back: the packet arrived
	// and nothing listens there (or kube-proxy rejected a Service without endpoints).
	// Not a policy verdict.
	Refused Verdict = "refused"
	// Unsupported: the protocol cannot be probed here (SCTP on a kernel without it).
	Unsupported Verdict = "unsupported"
	// Failed: the probe could not be sent (no such namespace, no route...).
	Failed Verdict = "error"
)

// Connected is the truth table's value: only an allowed probe is a connection.
func (v Verdict) Connected() bool { return v == Allowed }

// Known says whether the verdict says anything about reachability: an unsupported
// or failed probe must not be shown as blocked.
func (v Verdict) Known() bool { return v == Allowed || v == TimedOut || v == Refused }

// Dial opens a connection; the caller's opens it inside the source pod's namespace.
type Dial func(ctx context.Context, network, address string) (net.Conn, error)

// DefaultTimeout is each try's deadline: a dropped SYN gets no answer, so the deadline
// is the verdict, and a 9x9 matrix with one retry stays well under a second. Inside a
// lab an answer takes well under a millisecond.
const DefaultTimeout = 300 * time.Millisecond

// Probe is one flow to try.
type Probe struct {
	Dial     Dial // nil: the caller's own namespace
	Addr     netip.AddrPort
	Protocol string        // TCP, UDP or SCTP
	Timeout  time.Duration // per try; 0 is DefaultTimeout
	// Tries is how many times a timed-out probe is sent (0 is 2): a first packet lost
	// on its way must not read as blocked. A retry is skipped when ctx's deadline
	// leaves less than Timeout.
	Tries int
}

// Result is one probe's outcome.
type Result struct {
	Verdict Verdict `json:"verdict"`
	// Answer is who answered: the server's hostname (a pod's name) from /hostname or
	// the UDP echo, or what else it said ("HTTP 200, Server: nginx").
	Answer string        `json:"answer,omitempty"`
	Tries  int           `json:"tries"`
	Took   time.Duration `json:"took"`
	Error  string        `json:"error,omitempty"`
}

// Run sends p until it is answered, refused or out of tries.
func Run(ctx context.Context, p Probe) Result {
	timeout, tries := p.Timeout, p.Tries
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if tries <= 0 {
		tries = 2
	}
	start := time.Now()
	var res Result
	for res.Tries < tries {
		if res.Tries > 0 {
			if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
				break
			}
		}
		res.Tries++
		res.Verdict, res.Answer, res.Error = try(ctx, p, timeout)
		if res.Verdict != TimedOut || ctx.Err() != nil {
			break
		}
	}
	res.Took = time.Since(start)
	return res
}

func try(ctx context.Context, p Probe, timeout time.Duration) (Verdict, string, string) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := p.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	switch strings.ToUpper(p.Protocol) {
	case "TCP":
		c, err := dial(ctx, "tcp", p.Addr.String())
		if err != nil {
			return failure(err)
		}
		defer c.Close()
		// Connected: the flow is allowed whatever the server says next; the answer
		// gets its own deadline so a slow server does not turn into "timed out".
		c.SetDeadline(time.Now().Add(timeout))
		return Allowed, tcpAnswer(c, p.Addr), ""
	case "UDP":
		c, err := dial(ctx, "udp", p.Addr.String())
		if err != nil {
			return failure(err)
		}
		defer c.Close()
		dl, _ := ctx.Deadline()
		c.SetDeadline(dl)
		if _, err := c.Write(udpPayload(p.Addr.Port())); err != nil {
			return failure(err)
		}
		buf := make([]byte, 1500)
		n, err := c.Read(buf)
		if err != nil {
			return failure(err)
		}
		return Allowed, udpAnswer(p.Addr.Port(), buf[:n]), ""
	case "SCTP":
		return Unsupported, "", SCTPUnsupported().Error()
	}
	return Failed, "", fmt.Sprintf("protocol %q: expected TCP, UDP or SCTP", p.Protocol)
}

// failure classifies a dial, write or read error.
func failure(err error) (Verdict, string, string) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Refused, "", ""
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return TimedOut, "", ""
	}
	return Failed, "", err.Error()
}

// tcpAnswer asks an HTTP server for /hostname and returns who answered; a server that
// speaks first (agnhost serve-hostname --tcp) is read as it is. An empty answer is
// still a connection.
func tcpAnswer(c net.Conn, addr netip.AddrPort) string {
	fmt.Fprintf(c, "GET /hostname HTTP/1.1\r\nHost: %s\r\nUser-Agent: podlab-probe\r\nConnection: close\r\n\r\n", addr)
	r := bufio.NewReader(c)
	head, err := r.Peek(5)
	if string(head) != "HTTP/" {
		if len(head) == 0 && err != nil {
			return ""
		}
		line, _ := r.ReadString('\n')
		return strings.TrimSpace(line)
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	text := strings.TrimSpace(string(body))
	if resp.StatusCode == http.StatusOK && text != "" && len(text) <= 253 && !strings.ContainsAny(text, "<\n ") {
		return text
	}
	s := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if srv := resp.Header.Get("Server"); srv != "" {
		s += ", Server: " + srv
	}
	return s
}

// SCTPUnsupported says why this kernel cannot send SCTP: it asks for a socket, as a
// probe would. With SCTP in the kernel it still says that podlab's probes do not speak
// it, so an SCTP probe is never shown as a verdict.
func SCTPUnsupported() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_SCTP)
	if err != nil {
		return fmt.Errorf("SCTP: unsupported on this kernel (socket: %w)", err)
	}
	syscall.Close(fd)
	return errors.New("SCTP: podlab's probes do not speak SCTP yet")
}

// udpPayload is what a UDP probe sends: a DNS query to port 53 (a DNS server drops a
// datagram that is not one, which would read as a policy's drop), else podlab's
// "hostname" echo request.
func udpPayload(port uint16) []byte {
	if port == 53 {
		m := new(mdns.Msg)
		m.SetQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA)
		if b, err := m.Pack(); err == nil {
			return b
		}
	}
	return []byte("hostname")
}

// udpAnswer says who answered: a DNS server's rcode, else the echo's text.
func udpAnswer(port uint16, b []byte) string {
	if port == 53 {
		m := new(mdns.Msg)
		if m.Unpack(b) == nil {
			return "DNS " + mdns.RcodeToString[m.Rcode]
		}
	}
	return strings.TrimSpace(string(b))
}
