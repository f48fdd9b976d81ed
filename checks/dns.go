package checks

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"

	"podlab.dev/podlab/resolver"
	"podlab.dev/podlab/topology"
)

// dns resolves the name with the pod's resolv.conf, as `podlab dns` does, and
// compares the answer.
func (r *Runner) dns(ctx context.Context, v *view, c *topology.Check) (bool, string) {
	res, err := r.resolve(ctx, v, c.From, c.Resolve, mdns.StringToType[c.Type])
	if err != nil {
		return false, err.Error()
	}
	seen := seenDNS(res)
	x := c.DNS
	if x.Rcode != "" {
		want := map[string]string{"NXDOMAIN": resolver.HostNotFound, "NODATA": resolver.NoData}[x.Rcode]
		if !res.Resolved && res.Herrno == want {
			return true, seen
		}
		return false, seen + "; expected " + x.Rcode
	}
	if !res.Resolved {
		return false, seen + "; expected " + expectedDNS(x)
	}
	var addrs []string
	var data []string
	var cnames []string
	for _, rr := range res.Answer {
		f := strings.SplitN(rr, "\t", 5)
		if len(f) != 5 {
			continue
		}
		switch f[3] {
		case "CNAME":
			cnames = append(cnames, strings.ToLower(strings.TrimSuffix(f[4], ".")))
		case "A", "AAAA":
			if ip, err := netip.ParseAddr(f[4]); err == nil {
				addrs = append(addrs, ip.String())
			}
		}
		if f[3] == c.Type {
			data = append(data, strings.Join(strings.Fields(f[4]), " "))
		}
	}
	ok := true
	if x.CNAME != "" && !slices.Contains(cnames, strings.ToLower(x.CNAME)) {
		ok = false
	}
	if len(x.Addresses) > 0 {
		var want []string
		for _, a := range x.Addresses {
			want = append(want, a.String())
		}
		ok = ok && sameSet(addrs, want)
	}
	if len(x.Answers) > 0 {
		var want []string
		for _, a := range x.Answers {
			want = append(want, strings.Join(strings.Fields(a), " "))
		}
		ok = ok && sameSet(data, want)
	}
	if !ok {
		return false, seen + "; expected " + expectedDNS(x)
	}
	return true, seen
}

// seenDNS says what the search answered, short: the name that answered and the records.
func seenDNS(res *resolver.Result) string {
	n := len(res.Attempts)
	q := fmt.Sprintf("%d queries", n)
	if n == 1 {
		q = "1 query"
	}
	switch {
	case res.Resolved:
		var rrs []string
		for _, rr := range res.Answer {
			if f := strings.SplitN(rr, "\t", 5); len(f) == 5 {
				rrs = append(rrs, f[3]+" "+f[4])
			}
		}
		return fmt.Sprintf("%s: %s (%s)", strings.TrimSuffix(res.Answered, "."), strings.Join(rrs, ", "), q)
	case res.Herrno == resolver.HostNotFound:
		return fmt.Sprintf("%s %s: NXDOMAIN (%s)", res.Name, res.Type, q)
	case res.Herrno == resolver.NoData:
		return fmt.Sprintf("%s %s: NODATA (%s)", res.Name, res.Type, q)
	}
	return fmt.Sprintf("%s %s: %s", res.Name, res.Type, herrno(res))
}

// herrno says why a search failed: the resolver's h_errno and the last rcode.
func herrno(res *resolver.Result) string {
	if len(res.Attempts) == 0 {
		return "no query sent"
	}
	last := res.Attempts[len(res.Attempts)-1]
	return fmt.Sprintf("%s, last reply %s from %s", res.Herrno, last.Rcode, last.Server)
}

func expectedDNS(x *topology.DNSExpect) string {
	var parts []string
	if x.CNAME != "" {
		parts = append(parts, "CNAME "+x.CNAME)
	}
	if len(x.Addresses) > 0 {
		var s []string
		for _, a := range x.Addresses {
			s = append(s, a.String())
		}
		parts = append(parts, strings.Join(s, ", "))
	}
	if len(x.Answers) > 0 {
		parts = append(parts, strings.Join(x.Answers, ", "))
	}
	return strings.Join(parts, " and ")
}

// sameSet compares as sets: the order of records is the server's choice.
func sameSet(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(slices.Compact(g), slices.Compact(w))
}
