package services

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// allocate takes what svc needs from the allocators (after its old holdings were given
// back), writes the values into svc, and reports problems into p. On failure it returns
// what it took so far, for the caller to release.
func (r *Registry) allocate(svc *v1.Service, k string, old allocation, p *problems) (allocation, bool) {
	a := allocation{ip: -1}
	if hasClusterIP(svc) {
		off, ok := r.allocClusterIP(svc, k, p)
		if !ok {
			return a, false
		}
		a.ip = off
	}
	if !r.allocNodePorts(svc, k, &a, p) {
		return a, false
	}
	if !r.allocLoadBalancerIP(svc, k, old, &a, p) {
		return a, false
	}
	return a, true
}

func (r *Registry) allocClusterIP(svc *v1.Service, k string, p *problems) (int, bool) {
	const fld = "spec.clusterIP"
	if r.ips == nil {
		p.add(fld, "podlab allocates ClusterIPs from an IPv4 serviceCIDR between /8 and /30", "no usable service CIDR configured (%v)", r.cfg.ServiceCIDR)
		return -1, false
	}
	cidr := r.cfg.ServiceCIDR.Masked().String()
	if svc.Spec.ClusterIP == "" {
		off, err := r.ips.next(func(i int) bool { return i == dnsOffset })
		if err != nil {
			p.add(fld, fmt.Sprintf("all %d usable addresses of %s are allocated (%s is kept for cluster DNS); delete a Service or widen serviceCIDR",
				r.ips.bits.n, cidr, r.addrAt(dnsOffset)), "Internal error: failed to allocate a serviceIP: %v", err)
			return -1, false
		}
		r.ipOwner[off] = k
		ip := r.addrAt(off).String()
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = ip, []string{ip}
		return off, true
	}
	ip := svc.Spec.ClusterIP
	addr, _ := netip.ParseAddr(ip) // validated already
	off, in := r.offsetOf(addr)
	switch {
	case !in:
		p.fieldHint(field.Invalid(field.NewPath("spec", "clusterIP"), ip, "provided IP is not in the valid range. The range of valid IPs is "+cidr),
			fmt.Sprintf("pick an address inside %s (not its network or broadcast address), or leave clusterIP out to get one", cidr))
		return -1, false
	case off == dnsOffset && k != key(DNSNamespace, DNSName):
		p.fieldHint(field.Invalid(field.NewPath("spec", "clusterIP"), ip, "provided IP is reserved for cluster DNS (Service kube-system/kube-dns)"),
			"the tenth address of the service range belongs to cluster DNS; leave clusterIP out to get a free address")
		return -1, false
	case r.ips.bits.has(off):
		p.fieldHint(field.Invalid(field.NewPath("spec", "clusterIP"), ip, "provided IP is already allocated"),
			fmt.Sprintf("Service %s has it; pick another address or leave clusterIP out to get a free one", r.ipOwner[off]))
		return -1, false
	}
	r.ips.bits.set(off)
	r.ipOwner[off] = k
	svc.Spec.ClusterIPs = []string{ip}
	return off, true
}

func (r *Registry) addrAt(off int) netip.Addr {
	b := r.ipBase.As4()
	n := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	n += uint32(off)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

func (r *Registry) offsetOf(a netip.Addr) (int, bool) {
	a = a.Unmap()
	if !a.Is4() {
		return 0, false
	}
	b, x := r.ipBase.As4(), a.As4()
	base := int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
	v := int64(x[0])<<24 | int64(x[1])<<16 | int64(x[2])<<8 | int64(x[3])
	off := v - base
	if off < 0 || off >= int64(r.ips.bits.n) {
		return 0, false
	}
	return int(off), true
}

// allocNodePorts gives each port of a NodePort or LoadBalancer Service a node port, and
// an eTP=Local LoadBalancer its health-check node port. As upstream, Service ports with
// the same number (TCP and UDP 53, say) share one node port. Requested ports are taken
// before any is picked, so a pick never steals a port the same object asks for.
func (r *Registry) allocNodePorts(svc *v1.Service, k string, a *allocation, p *problems) bool {
	byPort := map[int32]int32{}
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if sp.NodePort == 0 {
			continue
		}
		if byPort[sp.Port] == sp.NodePort {
			continue
		}
		if !r.takePort(int(sp.NodePort), k, field.NewPath("spec", "ports").Index(i).Child("nodePort"), a, p) {
			return false
		}
		if byPort[sp.Port] == 0 {
			byPort[sp.Port] = sp.NodePort
		}
	}
	hc := svc.Spec.HealthCheckNodePort
	if needsHealthCheckNodePort(svc) && hc != 0 {
		if !r.takePort(int(hc), k, field.NewPath("spec", "healthCheckNodePort"), a, p) {
			return false
		}
	}
	if needsNodePorts(svc) {
		for i := range svc.Spec.Ports {
			sp := &svc.Spec.Ports[i]
			if sp.NodePort != 0 {
				continue
			}
			if np := byPort[sp.Port]; np != 0 {
				sp.NodePort = np
				continue
			}
			np, ok := r.nextPort(k, fmt.Sprintf("spec.ports[%d].nodePort", i), a, p)
			if !ok {
				return false
			}
			sp.NodePort, byPort[sp.Port] = np, np
		}
	}
	if needsHealthCheckNodePort(svc) && hc == 0 {
		np, ok := r.nextPort(k, "spec.healthCheckNodePort", a, p)
		if !ok {
			return false
		}
		svc.Spec.HealthCheckNodePort = np
	}
	return true
}

func (r *Registry) portRange() string {
	return fmt.Sprintf("%d-%d", r.cfg.NodePortRange[0], r.cfg.NodePortRange[1])
}

func (r *Registry) takePort(port int, k string, fld *field.Path, a *allocation, p *problems) bool {
	off := port - r.cfg.NodePortRange[0]
	switch {
	case r.ports == nil || off < 0 || off >= r.ports.bits.n:
		p.fieldHint(field.Invalid(fld, port, "provided port is not in the valid range. The range of valid ports is "+r.portRange()),
			fmt.Sprintf("leave nodePort out to get one allocated, or pick one in %s", r.portRange()))
		return false
	case r.ports.bits.has(off):
		p.fieldHint(field.Invalid(fld, port, "provided port is already allocated"),
			fmt.Sprintf("Service %s uses it; pick another port or leave nodePort out to get a free one", r.portOwner[off]))
		return false
	}
	r.ports.bits.set(off)
	r.portOwner[off] = k
	a.nodePorts = append(a.nodePorts, port)
	return true
}

func (r *Registry) nextPort(k, fld string, a *allocation, p *problems) (int32, bool) {
	if r.ports == nil {
		p.add(fld, "", "Internal error: failed to allocate a nodePort: no valid node port range (%s)", r.portRange())
		return 0, false
	}
	off, err := r.ports.next(nil)
	if err != nil {
		p.add(fld, fmt.Sprintf("all %d node ports of %s are in use; delete a NodePort Service or widen nodePortRange", r.ports.bits.n, r.portRange()),
			"Internal error: failed to allocate a nodePort: %v", err)
		return 0, false
	}
	r.portOwner[off] = k
	port := r.cfg.NodePortRange[0] + off
	a.nodePorts = append(a.nodePorts, port)
	return int32(port), true
}

// allocLoadBalancerIP stands in for MetalLB's controller: a LoadBalancer Service of the
// default class gets the IP it asks for (spec.loadBalancerIP or MetalLB's annotation),
// else the one it had, else the first free address of the pool, written to
// status.loadBalancer.ingress. With no pool, or the pool exhausted, it stays pending.
func (r *Registry) allocLoadBalancerIP(svc *v1.Service, k string, old allocation, a *allocation, p *problems) bool {
	if !r.wantsPoolIP(svc) {
		return true
	}
	want, fld, ok := requestedLBIP(svc, p)
	if !ok {
		return false
	}
	if want.IsValid() {
		switch {
		case !r.inPool(want):
			p.fieldHint(field.Invalid(fld, want.String(), "is not in any LoadBalancer pool ("+r.poolString()+")"),
				"ask for an address of the lab's loadBalancerPool, or for none to get the first free one")
			return false
		case r.lbOwner[want] != "":
			p.fieldHint(field.Invalid(fld, want.String(), "provided IP is already allocated"),
				fmt.Sprintf("Service %s has it; ask for another address or for none", r.lbOwner[want]))
			return false
		}
	} else if old.lbIP.IsValid() && r.inPool(old.lbIP) && r.lbOwner[old.lbIP] == "" {
		want = old.lbIP
	} else {
		want = r.firstFreeLBIP()
	}
	if want.IsValid() {
		r.lbOwner[want] = k
		a.lbIP = want
	}
	setIngress(svc, want)
	return true
}

// Why a LoadBalancer is pending, as the Warning event's reason: MetalLB's controller
// says AllocationFailed when it cannot assign an address.
const AllocationFailed = "AllocationFailed"

// PendingReason says why an admitted LoadBalancer Service has no address yet, with
// the fix, or "" when it has one or is not podlab's to give (another type, or a
// loadBalancerClass some other controller owns).
func (r *Registry) PendingReason(svc *v1.Service) string {
	if svc.Spec.Type != v1.ServiceTypeLoadBalancer || svc.Spec.LoadBalancerClass != nil || len(svc.Status.LoadBalancer.Ingress) > 0 {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cfg.LoadBalancerPool) == 0 {
		return "no loadBalancerPool in the lab file: add cluster.loadBalancerPool (e.g. 172.30.0.240/28)"
	}
	return "every address of the loadBalancerPool (" + r.poolString() + ") is in use: delete a LoadBalancer Service or widen cluster.loadBalancerPool"
}

func (r *Registry) wantsPoolIP(svc *v1.Service) bool {
	return svc.Spec.Type == v1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil && len(r.cfg.LoadBalancerPool) > 0
}

func setIngress(svc *v1.Service, ip netip.Addr) {
	svc.Status.LoadBalancer = v1.LoadBalancerStatus{}
	if ip.IsValid() {
		vip := v1.LoadBalancerIPModeVIP
		svc.Status.LoadBalancer.Ingress = []v1.LoadBalancerIngress{{IP: ip.String(), IPMode: &vip}}
	}
}

// requestedLBIP reads the address a Service asks for, if any.
func requestedLBIP(svc *v1.Service, p *problems) (netip.Addr, *field.Path, bool) {
	fld := field.NewPath("spec", "loadBalancerIP")
	val := svc.Spec.LoadBalancerIP
	for _, ann := range lbIPAnnotations {
		if v, ok := svc.Annotations[ann]; ok && val == "" {
			fld, val = field.NewPath("metadata", "annotations").Key(ann), v
		}
	}
	if val == "" {
		return netip.Addr{}, fld, true
	}
	for _, s := range strings.Split(val, ",") {
		s = strings.TrimSpace(s)
		a, err := netip.ParseAddr(s)
		if err != nil {
			if p != nil {
				p.fieldHint(field.Invalid(fld, s, "must be a valid IP address"), "")
			}
			return netip.Addr{}, fld, false
		}
		if a.Is4() {
			return a, fld, true
		}
	}
	return netip.Addr{}, fld, true // IPv6 only: nothing this IPv4 pool can give
}

func (r *Registry) inPool(a netip.Addr) bool {
	return slices.ContainsFunc(r.cfg.LoadBalancerPool, func(p netip.Prefix) bool { return p.Masked().Contains(a) })
}

func (r *Registry) poolString() string {
	s := make([]string, len(r.cfg.LoadBalancerPool))
	for i, p := range r.cfg.LoadBalancerPool {
		s[i] = p.Masked().String()
	}
	return strings.Join(s, ", ")
}

// firstFreeLBIP walks the pool in order. MetalLB hands out every address of a CIDR,
// network and broadcast included (unless avoidBuggyIPs), and so does podlab.
func (r *Registry) firstFreeLBIP() netip.Addr {
	for _, p := range r.cfg.LoadBalancerPool {
		p = p.Masked()
		for a := p.Addr(); a.IsValid() && p.Contains(a); a = a.Next() {
			if r.lbOwner[a] == "" {
				return a
			}
		}
	}
	return netip.Addr{}
}

// assignPending gives freed pool addresses to pending LoadBalancer Services, oldest first.
func (r *Registry) assignPending() {
	pending := make([]*stored, 0)
	for _, s := range r.svcs {
		if r.wantsPoolIP(s.svc) && !s.alloc.lbIP.IsValid() {
			pending = append(pending, s)
		}
	}
	slices.SortFunc(pending, func(a, b *stored) int { return compareUint(a.seq, b.seq) })
	for _, s := range pending {
		k := key(s.svc.Namespace, s.svc.Name)
		want, _, _ := requestedLBIP(s.svc, nil)
		if want.IsValid() {
			if !r.inPool(want) || r.lbOwner[want] != "" {
				continue
			}
		} else if want = r.firstFreeLBIP(); !want.IsValid() {
			continue
		}
		r.lbOwner[want] = k
		s.alloc.lbIP = want
		s.svc = s.svc.DeepCopy()
		setIngress(s.svc, want)
		r.rv++
		s.svc.ResourceVersion = fmt.Sprint(r.rv)
	}
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// release gives back everything a holds.
func (r *Registry) release(a allocation) {
	if a.ip >= 0 && r.ips != nil {
		r.ips.bits.clear(a.ip)
		delete(r.ipOwner, a.ip)
	}
	for _, port := range a.nodePorts {
		off := port - r.cfg.NodePortRange[0]
		r.ports.bits.clear(off)
		delete(r.portOwner, off)
	}
	if a.lbIP.IsValid() {
		delete(r.lbOwner, a.lbIP)
	}
}

// hold takes a's holdings again for k (after a failed replace).
func (r *Registry) hold(a allocation, k string) {
	if a.ip >= 0 && r.ips != nil {
		r.ips.bits.set(a.ip)
		r.ipOwner[a.ip] = k
	}
	for _, port := range a.nodePorts {
		off := port - r.cfg.NodePortRange[0]
		r.ports.bits.set(off)
		r.portOwner[off] = k
	}
	if a.lbIP.IsValid() {
		r.lbOwner[a.lbIP] = k
	}
}
