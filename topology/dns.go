package topology

import (
	"fmt"
	"net/netip"
	"strings"

	"go.yaml.in/yaml/v3"
)

const zonesExample = "dns:\n  zones:\n    example.com: |\n      api A 172.30.0.100"

// dns reads the hosts' zones and the cluster DNS upstream, which names one of them.
func (b *labBuilder) dns() {
	for i, rh := range b.raw.Hosts {
		if i < len(b.lab.Hosts) {
			b.zones(fmt.Sprintf("hosts[%d]", i), rh.DNS.Zones, &b.lab.Hosts[i])
		}
	}
	b.upstream()
}

// zones checks a host's zones: names, records and that port 53 is the DNS server's.
func (b *labBuilder) zones(path string, zones zoneTexts, h *Host) {
	d := b.d
	domain := strings.ToLower(b.lab.Cluster.Domain)
	for _, key := range sortedKeys(zones) {
		zp := path + ".dns.zones[" + key + "]"
		name, err := ZoneName(key)
		switch {
		case err != nil:
			d.add(zp, "name a zone by its domain, e.g. example.com", "invalid zone name: %v", err)
			continue
		case name == domain || strings.HasSuffix(name, "."+domain):
			d.add(zp, "pick a zone outside the cluster domain, e.g. example.com",
				"zone %s is inside the cluster domain %s, which the cluster DNS answers itself: pods would never see it", name, domain)
			continue
		}
		if _, dup := h.Zones[name]; dup {
			d.add(zp, "", "zone %s is written twice", name)
			continue
		}
		_, zerrs := ParseZone(name, zones[key])
		for _, ze := range zerrs {
			d.e.add(b.zonePos(zp, ze), field(d.label, zp), ze.Hint, "%s", b.zoneMsg(zp, ze))
		}
		if h.Zones == nil {
			h.Zones = map[string]string{}
		}
		h.Zones[name] = zones[key]
	}
	if len(h.Zones) == 0 {
		return
	}
	for i, p := range h.Ports {
		if p.Port == 53 && (p.Protocol == "UDP" || p.Protocol == "TCP") {
			d.add(fmt.Sprintf("%s.ports[%d]", path, i), "remove the port: the DNS server answers on 53/udp and 53/tcp",
				"port 53/%s is the host's DNS server's (dns.zones)", p.Protocol)
		}
	}
}

// zonePos is the lab file position of a zone error: the record's own line when the
// zone is a literal block (|), whose lines are the file's; else the zone's.
func (b *labBuilder) zonePos(zp string, ze ZoneError) Pos {
	n := b.d.idx[zp]
	if n == nil || n.Style&yaml.LiteralStyle == 0 || ze.Line == 0 {
		return b.d.at(zp)
	}
	p := Pos{File: b.d.file, Line: n.Line + ze.Line, Col: ze.Col}
	lines := strings.Split(string(b.src), "\n")
	text := strings.Split(n.Value, "\n")
	if p.Line <= len(lines) && ze.Line <= len(text) {
		// The block's indentation is what YAML removed from each line.
		p.Col += len(strings.TrimSuffix(lines[p.Line-1], "\r")) - len(text[ze.Line-1])
	}
	return p
}

// zoneMsg says which line of the zone is meant when the position cannot.
func (b *labBuilder) zoneMsg(zp string, ze ZoneError) string {
	if n := b.d.idx[zp]; ze.Line > 0 && (n == nil || n.Style&yaml.LiteralStyle == 0) {
		return fmt.Sprintf("line %d of the zone: %s", ze.Line, ze.Msg)
	}
	return ze.Msg
}

// upstream resolves cluster.dns.upstream: a host with zones, or an underlay address.
func (b *labBuilder) upstream() {
	const path = "cluster.dns.upstream"
	d, c := b.d, &b.lab.Cluster
	s := b.raw.Cluster.DNS.Upstream
	if s == "" {
		return
	}
	c.DNS.Pos = d.at(path)
	if ap, err := netip.ParseAddrPort(s); err == nil {
		b.upstreamAddr(path, ap)
		return
	}
	if ip, err := netip.ParseAddr(s); err == nil {
		b.upstreamAddr(path, netip.AddrPortFrom(ip, 53))
		return
	}
	var serving, all []string
	for _, h := range b.lab.Hosts {
		all = append(all, h.Name)
		if len(h.Zones) > 0 {
			serving = append(serving, h.Name)
		}
	}
	servingHint := "give a host DNS zones and name it here, e.g. under hosts:\n  - name: dns-server\n" + indent(zonesExample, "    ")
	if len(serving) > 0 {
		servingHint = "hosts with a DNS server: " + strings.Join(serving, ", ")
	}
	name, port, hasPort := strings.Cut(s, ":")
	if hasPort && !isAddr(name) {
		d.add(path, "write the host's name alone: "+name, "%q: a host's DNS server answers on port 53, not %s", s, port)
		return
	}
	for i, h := range b.lab.Hosts {
		if h.Name != s {
			continue
		}
		if len(h.Zones) == 0 {
			d.add(path, fmt.Sprintf("add to hosts[%d] (%s):\n%s", i, where(h.Pos), zonesExample),
				"host %q serves no DNS: it has no dns.zones", s)
			return
		}
		c.DNS.UpstreamHost = s
		return
	}
	for _, n := range b.lab.Nodes {
		if n.Name == s {
			d.add(path, servingHint, "%q is a node: the upstream is a host that serves DNS zones", s)
			return
		}
	}
	d.add(path, servingHint+"\nor write an address inside the underlay, e.g. 172.30.0.100 or 172.30.0.100:5353",
		"no host named %q%s", s, didYouMean(s, all))
}

func (b *labBuilder) upstreamAddr(path string, ap netip.AddrPort) {
	ip, u := ap.Addr(), b.lab.Cluster.Underlay
	switch {
	case !ip.Is4():
		b.d.add(path, "use an IPv4 address", "IPv6 is not supported yet: %s", ip)
	case ap.Port() == 0:
		b.d.add(path, "leave the port out for 53", "port 0 is not a port")
	case !b.cidr:
		// the underlay is wrong, which is reported; nothing to check the address against
	case !u.Contains(ip):
		b.d.add(path, fmt.Sprintf("the cluster DNS reaches only the lab: name a host that serves DNS zones, or an address in %s", u),
			"%s is outside the underlay %s", ip, u)
	case ip == u.Addr() || ip == lastAddr(u) || ip == addrAt(u, 1):
		b.d.add(path, "", "%s is the underlay's network, gateway or broadcast address: nothing answers DNS there", ip)
	default:
		b.lab.Cluster.DNS.UpstreamAddr = ap
	}
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
