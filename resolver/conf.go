package resolver

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// glibc's limits (resolv.h): MAXNS, RES_MAXNDOTS, RES_MAXRETRANS, RES_MAXRETRY.
const (
	maxNameservers = 3
	maxNdots       = 15
	maxTimeout     = 30
	maxAttempts    = 5
)

// Config is a resolv.conf as glibc's resolver reads it.
type Config struct {
	Nameservers []netip.Addr  `json:"nameservers"`
	Search      []string      `json:"search"`
	Ndots       int           `json:"ndots"`
	Timeout     time.Duration `json:"timeout"`  // RES_TIMEOUT: the first server's wait, per attempt
	Attempts    int           `json:"attempts"` // rounds over the servers
	Rotate      bool          `json:"rotate,omitempty"`
	UseVC       bool          `json:"useVC,omitempty"` // TCP only
	EDNS0       bool          `json:"edns0,omitempty"`
	NoTLDQuery  bool          `json:"noTLDQuery,omitempty"`
	// Ignored are the lines and options read but without effect here.
	Ignored []string `json:"ignored,omitempty"`
}

// DefaultConfig is glibc's without a resolv.conf: the local server, ndots 1, 5 s, 2
// attempts.
func DefaultConfig() Config {
	return Config{Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}
}

// ParseConf reads resolv.conf text as glibc's res_init does: a keyword at the start of
// a line; `nameserver` lines accumulate up to 3 (more are ignored); the last `search`
// or `domain` line sets the search list; `options` lines accumulate, values clamped to
// glibc's maxima (ndots 15, timeout 30, attempts 5). Lines starting with # or ; are
// comments. Without a nameserver, glibc asks 127.0.0.1. Without search or domain it
// uses the domain of the host name, which a pod's (no dot) does not have.
func ParseConf(text string) (Config, error) {
	c := DefaultConfig()
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 {
				return c, fmt.Errorf("resolv.conf line %d: nameserver without an address", i+1)
			}
			a, err := netip.ParseAddr(f[1])
			if err != nil {
				return c, fmt.Errorf("resolv.conf line %d: nameserver %q: expected an IP address", i+1, f[1])
			}
			if len(c.Nameservers) < maxNameservers {
				c.Nameservers = append(c.Nameservers, a)
			} else {
				c.Ignored = append(c.Ignored, line)
			}
		case "search":
			c.Search = append([]string(nil), f[1:]...)
		case "domain":
			c.Search = append([]string(nil), f[1:2]...)
		case "options":
			for _, o := range f[1:] {
				c.option(o)
			}
		default:
			c.Ignored = append(c.Ignored, line)
		}
	}
	if len(c.Nameservers) == 0 {
		c.Nameservers = []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	}
	return c, nil
}

func (c *Config) option(o string) {
	name, v, _ := strings.Cut(o, ":")
	n, err := strconv.Atoi(v)
	numeric := err == nil && n >= 0
	switch {
	case name == "ndots" && numeric:
		c.Ndots = min(n, maxNdots)
	case name == "timeout" && numeric:
		c.Timeout = time.Duration(max(min(n, maxTimeout), 1)) * time.Second
	case name == "attempts" && numeric:
		c.Attempts = max(min(n, maxAttempts), 1)
	case name == "rotate":
		c.Rotate = true
	case name == "use-vc":
		c.UseVC = true
	case name == "edns0":
		c.EDNS0 = true
	case name == "no-tld-query":
		c.NoTLDQuery = true
	default:
		c.Ignored = append(c.Ignored, "options "+o)
	}
}

// serverTimeout is how long glibc's send_dg waits for server number ns in one
// attempt: (RES_TIMEOUT << ns) / number of servers, in whole seconds, at least 1 s
// (the first server 5 s; with three, the second 3 s and the third 6 s). Timeouts
// below a second (tests) are taken as they are.
func (c Config) serverTimeout(ns int) time.Duration {
	t := c.Timeout << ns
	if ns > 0 {
		t /= time.Duration(len(c.Nameservers))
	}
	if c.Timeout >= time.Second {
		t = max(t.Truncate(time.Second), time.Second)
	}
	return t
}
