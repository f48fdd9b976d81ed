package topology

import (
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults of lab file v1.
var (
	DefaultPodCIDR     = netip.MustParsePrefix("10.244.0.0/16")
	DefaultServiceCIDR = netip.MustParsePrefix("10.96.0.0/12")
	DefaultUnderlay    = netip.MustParsePrefix("172.30.0.0/24")
)

const (
	DefaultNodeCIDRMaskSize = 24
	DefaultDomain           = "cluster.local"
	DefaultMTU              = 1500
	maxNodeCIDRMaskSize     = 28
)

var labNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// labBuilder turns the decoded lab file into a Lab, reporting what is wrong on the way.
type labBuilder struct {
	d       *doc
	raw     *labFile
	lab     *Lab
	man     manifestSet               // shorthand pods first, then manifests
	cidr    bool                      // the cluster's ranges are valid, so addresses can be checked
	pins    map[netip.Addr]string     // pinned underlay address -> field that pinned it
	podPins map[netip.Addr]*podSource // pinned pod address -> pod
	files   []string                  // manifest files, in the order the lab lists them
	src     []byte                    // the lab file, for positions inside block scalars
}

func (b *labBuilder) build(readFile func(string) ([]byte, error)) {
	b.header()
	b.cluster()
	b.nodes()
	b.hosts()
	b.dns()
	b.shorthandPods()
	b.loadManifests(readFile)
	b.man.checkDuplicates(b.d.e)
	b.checkPods()
	b.finish()
	b.checks(readFile)
}

func (b *labBuilder) header() {
	d, raw, lab := b.d, b.raw, b.lab
	switch {
	case !d.has("name") || raw.Name == "":
		d.add("name", "name the lab, e.g. name: basics", "required")
	case len(raw.Name) > 24 || !labNameRE.MatchString(raw.Name):
		d.add("name", "e.g. name: "+fixName(raw.Name),
			"invalid lab name %q: use 1 to 24 lowercase letters, digits and '-', starting and ending with a letter or digit", raw.Name)
	}
	lab.Name = raw.Name
	// Empty when the file does not say: the CLI fills in the configured default runtime.
	lab.Runtime = b.enumField("runtime", raw.Runtime, "", []string{RuntimeNetns, RuntimeDocker})
}

// fixName turns an invalid lab name into a valid one, for the hint.
func fixName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
			b.WriteByte('-')
		}
	}
	name := strings.Trim(b.String(), "-")
	if len(name) > 24 {
		name = strings.Trim(name[:24], "-")
	}
	if name == "" {
		name = "lab"
	}
	return name
}

// enumField checks a lab enum and returns its value or the default.
func (b *labBuilder) enumField(path, value, def string, options []string) string {
	if value == "" {
		return def
	}
	if !contains(options, value) {
		dym := didYouMean(value, options)
		if value == "master" && contains(options, RoleControlPlane) {
			dym = `; did you mean "control-plane"?` // kubeadm's old name for the role
		}
		b.d.add(path, "supported values: "+quoteList(options), "unsupported value %q%s", value, dym)
	}
	return value
}

func (b *labBuilder) cluster() {
	d, raw, c := b.d, b.raw.Cluster, &b.lab.Cluster
	var ok [3]bool
	c.PodCIDR, ok[0] = b.prefix("cluster.podCIDR", raw.PodCIDR, DefaultPodCIDR)
	c.ServiceCIDR, ok[1] = b.prefix("cluster.serviceCIDR", raw.ServiceCIDR, DefaultServiceCIDR)
	c.Underlay, ok[2] = b.prefix("cluster.underlay", raw.Underlay, DefaultUnderlay)
	c.Overlay = b.enumField("cluster.overlay", raw.Overlay, OverlayVXLAN, []string{OverlayVXLAN, OverlayHostGW})
	c.CNI = b.enumField("cluster.cni", raw.CNI, CNIPodlab, []string{CNIPodlab, CNIBridge})
	c.Domain = raw.Domain
	if c.Domain == "" {
		c.Domain = DefaultDomain
	} else if msgs := validation.IsDNS1123Subdomain(c.Domain); len(msgs) > 0 {
		d.add("cluster.domain", "", "invalid domain %q: %s", c.Domain, strings.Join(msgs, "; "))
	}
	c.MTU = DefaultMTU
	if raw.MTU != nil {
		c.MTU = *raw.MTU
		if c.MTU < 1280 || c.MTU > 9000 {
			d.add("cluster.mtu", "", "mtu %d is out of range 1280..9000", c.MTU)
		}
	}
	c.NetworkPolicy.EnforceEstablished = raw.NetworkPolicy.EnforceEstablished
	c.Ingress.Controller = raw.Ingress.Controller
	c.NodeCIDRMaskSize = DefaultNodeCIDRMaskSize
	if raw.NodeCIDRMaskSize != nil {
		c.NodeCIDRMaskSize = *raw.NodeCIDRMaskSize
	}
	maskOK := true
	if ok[0] && (c.NodeCIDRMaskSize <= c.PodCIDR.Bits() || c.NodeCIDRMaskSize > maxNodeCIDRMaskSize) {
		maskOK = false
		what := ""
		if raw.NodeCIDRMaskSize == nil {
			what = " (the default)"
		}
		d.add("cluster.nodeCIDRMaskSize", fmt.Sprintf("node subnets must be smaller than the podCIDR and hold at least a few pods: pick %d..%d", c.PodCIDR.Bits()+1, maxNodeCIDRMaskSize),
			"%d%s must be larger than podCIDR's prefix length %d and at most %d", c.NodeCIDRMaskSize, what, c.PodCIDR.Bits(), maxNodeCIDRMaskSize)
	}
	names := [3]string{"podCIDR", "serviceCIDR", "underlay"}
	given := [3]string{raw.PodCIDR, raw.ServiceCIDR, raw.Underlay}
	ranges := [3]netip.Prefix{c.PodCIDR, c.ServiceCIDR, c.Underlay}
	overlapFree := true
	for i := 0; i < 3; i++ {
		for j := i + 1; j < 3; j++ {
			if !ok[i] || !ok[j] || !ranges[i].Overlaps(ranges[j]) {
				continue
			}
			overlapFree = false
			at, other := j, i // report at a range the user wrote
			if given[j] == "" {
				at, other = i, j
			}
			d.add("cluster."+names[at], "pod, service and underlay ranges must not overlap; the defaults are podCIDR 10.244.0.0/16, serviceCIDR 10.96.0.0/12 and underlay 172.30.0.0/24",
				"%s overlaps cluster.%s %s", ranges[at], names[other], ranges[other])
		}
	}
	b.cidr = ok[0] && ok[2] && maskOK && overlapFree
	for i, r := range raw.LoadBalancerPool {
		path := fmt.Sprintf("cluster.loadBalancerPool[%d]", i)
		if !strings.Contains(r, "/") {
			r += "/32" // a single address
		}
		p, good := b.prefix(path, r, netip.MustParsePrefix("172.30.0.240/28"))
		if !good {
			continue
		}
		if ok[2] && (!c.Underlay.Contains(p.Addr()) || p.Bits() < c.Underlay.Bits()) {
			d.add(path, fmt.Sprintf("LoadBalancer IPs are answered on the underlay: pick a range inside %s, e.g. its top addresses", c.Underlay),
				"%s is not inside cluster.underlay %s", p, c.Underlay)
			continue
		}
		c.LoadBalancerPool = append(c.LoadBalancerPool, p)
	}
}

// prefix parses an IPv4 CIDR; def is used when s is empty.
func (b *labBuilder) prefix(path, s string, def netip.Prefix) (netip.Prefix, bool) {
	if s == "" {
		return def, true
	}
	d := b.d
	addrS, bitsS, hasBits := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(addrS)
	switch {
	case err != nil:
		d.add(path, "write an IPv4 range such as "+def.String(), "invalid CIDR %q: %q is not an IP address", s, addrS)
	case addr.Is6():
		d.add(path, "use an IPv4 range such as "+def.String(), "IPv6 is not supported yet: %q", s)
	case !hasBits:
		d.add(path, "write address/length, e.g. "+def.String(), "invalid CIDR %q: missing prefix length", s)
	default:
		bits, err := strconv.Atoi(bitsS)
		if err != nil || bits < 0 || bits > 32 {
			d.add(path, "the prefix length of an IPv4 range is 0..32, e.g. "+def.String(), "invalid CIDR %q: prefix length %q is out of range", s, bitsS)
			break
		}
		p := netip.PrefixFrom(addr, bits)
		if p.Masked() != p {
			d.add(path, "did you mean "+p.Masked().String()+"?", "%q has host bits set", s)
			break
		}
		if bits < 8 {
			d.add(path, "use a range of at most /8", "%s is too large", s)
			break
		}
		return p, true
	}
	return def, false
}

// lastAddr is the broadcast address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// addrAt is p's address number i (0 = network address).
func addrAt(p netip.Prefix, i uint64) netip.Addr {
	a := p.Addr().As4()
	v := uint64(a[0])<<24 | uint64(a[1])<<16 | uint64(a[2])<<8 | uint64(a[3])
	v += i
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func addrIndex(p netip.Prefix, ip netip.Addr) uint64 {
	a, b := p.Addr().As4(), ip.As4()
	u := func(x [4]byte) uint64 { return uint64(x[0])<<24 | uint64(x[1])<<16 | uint64(x[2])<<8 | uint64(x[3]) }
	return u(b) - u(a)
}
