package services

import (
	"cmp"
	"crypto/sha1"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"podlab.dev/podlab/topology"
)

// Cluster DNS owns the tenth address of the service range, by convention of every
// installer (kubeadm, kind, ...). Only this Service may have it.
const (
	DNSNamespace = "kube-system"
	DNSName      = "kube-dns"
	dnsOffset    = 9 // offset 0 is network+1, so network+10
)

// MetalLB's annotations for asking for particular LoadBalancer IPs (the older prefix is
// metallb.universe.tf). spec.loadBalancerIP, deprecated, is honoured too.
var lbIPAnnotations = []string{"metallb.io/loadBalancerIPs", "metallb.universe.tf/loadBalancerIPs"}

// Config is the cluster's Service configuration, as kube-apiserver flags and a MetalLB
// IPAddressPool would give it.
type Config struct {
	ServiceCIDR      netip.Prefix   // --service-cluster-ip-range; IPv4
	NodePortRange    [2]int         // --service-node-port-range; zero: 30000-32767
	LoadBalancerPool []netip.Prefix // MetalLB-style pool; empty: LoadBalancers stay pending
	Domain           string         // cluster domain, e.g. cluster.local
}

// Registry is the API server's Service storage: it validates, defaults and allocates,
// and keeps the stored objects. All methods are safe for concurrent use; every object
// going in or out is a copy.
type Registry struct {
	mu  sync.Mutex
	cfg Config

	// ClusterIPs: offset i is ipBase+i; nil when the service CIDR is unusable.
	ipBase  netip.Addr
	ips     *bandedRange
	ipOwner map[int]string

	// NodePorts (and health-check NodePorts): offset i is port NodePortRange[0]+i.
	ports     *bandedRange
	portOwner map[int]string

	lbOwner map[netip.Addr]string

	svcs map[string]*stored
	seq  uint64 // creation order, for handing freed LoadBalancer IPs to pending Services
	rv   uint64 // resourceVersion counter
	now  func() time.Time
}

type stored struct {
	svc   *v1.Service
	seq   uint64
	alloc allocation
}

// allocation is everything a Service holds in the registry's allocators.
type allocation struct {
	ip        int   // ClusterIP offset, -1: none
	nodePorts []int // distinct node ports, including the health-check one
	lbIP      netip.Addr
}

// NewRegistry returns an empty registry for cfg. A zero NodePortRange means the default
// 30000-32767.
func NewRegistry(cfg Config) *Registry {
	if cfg.NodePortRange == [2]int{} {
		cfg.NodePortRange = [2]int{30000, 32767}
	}
	r := &Registry{
		cfg:       cfg,
		ipOwner:   map[int]string{},
		portOwner: map[int]string{},
		lbOwner:   map[netip.Addr]string{},
		svcs:      map[string]*stored{},
		now:       time.Now,
	}
	if p := cfg.ServiceCIDR.Masked(); p.IsValid() && p.Addr().Is4() && p.Bits() >= 8 && p.Bits() <= 30 {
		size := 1<<(32-p.Bits()) - 2 // never the network nor the broadcast address
		r.ipBase = p.Addr().Next()
		r.ips = newBandedRange(size, bandOffset(size+2, 16, 256, 16))
	}
	if lo, hi := cfg.NodePortRange[0], cfg.NodePortRange[1]; lo > 0 && hi >= lo && hi <= 65535 {
		size := hi - lo + 1
		r.ports = newBandedRange(size, bandOffset(size, 16, 128, 32))
	}
	return r
}

func key(namespace, name string) string { return namespace + "/" + name }

// Get returns a copy of the stored Service.
func (r *Registry) Get(namespace, name string) (*v1.Service, bool) {
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.svcs[key(namespace, name)]
	if !ok {
		return nil, false
	}
	return s.svc.DeepCopy(), true
}

// List returns copies of every Service, sorted by namespace/name.
func (r *Registry) List() []*v1.Service {
	r.mu.Lock()
	out := make([]*v1.Service, 0, len(r.svcs))
	for _, s := range r.svcs {
		out = append(out, s.svc.DeepCopy())
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *v1.Service) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Delete removes a Service and frees its ClusterIP, NodePorts and LoadBalancer IP. A
// freed LoadBalancer IP goes at once to the oldest pending LoadBalancer Service, as
// MetalLB's controller would do: callers should re-read the other Services (their
// resourceVersion changes).
func (r *Registry) Delete(namespace, name string) (*v1.Service, error) {
	if namespace == "" {
		namespace = metav1.NamespaceDefault
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := key(namespace, name)
	s, ok := r.svcs[k]
	if !ok {
		return nil, fmt.Errorf("service %s: %w", k, ErrNotFound)
	}
	r.release(s.alloc)
	delete(r.svcs, k)
	if s.alloc.lbIP.IsValid() {
		r.assignPending()
	}
	return s.svc.DeepCopy(), nil
}

// Apply creates or replaces a Service as the API server does: defaulting, validation,
// then allocation of its ClusterIP, NodePorts, health-check NodePort and (standing in
// for MetalLB) LoadBalancer IP. It returns the stored object. On error nothing changes
// and the error is a topology.Errors whose entries carry pos.
func (r *Registry) Apply(in *v1.Service, pos topology.Pos) (*v1.Service, error) {
	p := problems{pos: pos}
	if in == nil {
		p.add("", "", "no Service given")
		return nil, p.err()
	}
	svc := in.DeepCopy()
	if svc.Namespace == "" {
		svc.Namespace = metav1.NamespaceDefault
	}
	svc.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Service"}
	svc.Status = v1.ServiceStatus{} // status is the controllers' to write, never the client's

	r.mu.Lock()
	defer r.mu.Unlock()
	k := key(svc.Namespace, svc.Name)
	prev := r.svcs[k]
	var old *v1.Service
	if prev != nil {
		old = prev.svc
	}

	setDefaults(svc)
	normalizeClusterIPs(svc, old)
	if old != nil {
		patchAllocatedValues(svc, old)
	}
	if p.field(validateService(svc, old)); p.err() != nil {
		return nil, p.err()
	}
	if p.field(r.initIPFamilies(svc, old)); p.err() != nil {
		return nil, p.err()
	}
	if svc.Spec.Type == v1.ServiceTypeExternalName || svc.Spec.Type == v1.ServiceTypeClusterIP {
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = 0
		}
	}

	// Allocate as one transaction: give back what the old object held, take what the
	// new one needs, and on failure restore the old holdings (they are still free:
	// the lock is held throughout).
	oldAlloc := allocation{ip: -1}
	if prev != nil {
		oldAlloc = prev.alloc
		r.release(oldAlloc)
	}
	a, ok := r.allocate(svc, k, oldAlloc, &p)
	if !ok {
		r.release(a)
		if prev != nil {
			r.hold(oldAlloc, k)
		}
		return nil, p.err()
	}

	if prev != nil {
		svc.UID, svc.CreationTimestamp = old.UID, old.CreationTimestamp
	} else {
		r.seq++
		svc.UID = uid(k, r.seq)
		svc.CreationTimestamp = metav1.NewTime(r.now().UTC().Truncate(time.Second))
		prev = &stored{seq: r.seq}
	}
	svc.ManagedFields, svc.Generation = nil, 0
	r.rv++
	svc.ResourceVersion = strconv.FormatUint(r.rv, 10)
	prev.svc, prev.alloc = svc, a
	r.svcs[k] = prev
	if oldAlloc.lbIP.IsValid() && oldAlloc.lbIP != a.lbIP {
		r.assignPending()
	}
	return svc.DeepCopy(), nil
}

// uid derives a stable, UUID-shaped UID from the object's key and creation order.
func uid(k string, seq uint64) types.UID {
	h := sha1.Sum([]byte(k + "#" + strconv.FormatUint(seq, 10)))
	h[6] = h[6]&0x0f | 0x50 // version 5 (name-based, SHA-1)
	h[8] = h[8]&0x3f | 0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16]))
}

// initIPFamilies is the single-stack part of the registry's initIPFamilyFields: podlab
// clusters are IPv4 single-stack.
func (r *Registry) initIPFamilies(svc, old *v1.Service) field.ErrorList {
	if svc.Spec.Type == v1.ServiceTypeExternalName {
		return nil
	}
	spec := &svc.Spec
	if spec.IPFamilyPolicy == nil {
		var p v1.IPFamilyPolicy
		switch {
		case old != nil && old.Spec.IPFamilyPolicy != nil:
			p = *old.Spec.IPFamilyPolicy
		case spec.ClusterIP == v1.ClusterIPNone && len(spec.Selector) == 0:
			p = v1.IPFamilyPolicyRequireDualStack // headless + selectorless defaults to dual
		default:
			p = v1.IPFamilyPolicySingleStack
		}
		spec.IPFamilyPolicy = &p
	}
	policy := *spec.IPFamilyPolicy
	var errs field.ErrorList
	if policy == v1.IPFamilyPolicySingleStack {
		if len(spec.ClusterIPs) == 2 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), policy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple cluster IPs are specified"))
		}
		if len(spec.IPFamilies) == 2 {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), policy, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
		}
	}
	for i, ip := range spec.ClusterIPs {
		if ip == v1.ClusterIPNone {
			break
		}
		if i < len(spec.IPFamilies) {
			continue
		}
		if a, _ := netip.ParseAddr(ip); a.Is4() {
			spec.IPFamilies = append(spec.IPFamilies, v1.IPv4Protocol)
		} else {
			errs = append(errs, field.Invalid(field.NewPath("spec", "clusterIPs").Index(i), spec.ClusterIPs, "IPv6 is not configured on this cluster"))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	if spec.ClusterIP == v1.ClusterIPNone && len(spec.Selector) == 0 {
		if len(spec.IPFamilies) == 0 {
			spec.IPFamilies = []v1.IPFamily{v1.IPv4Protocol}
		}
		if len(spec.IPFamilies) < 2 && policy != v1.IPFamilyPolicySingleStack {
			if spec.IPFamilies[0] == v1.IPv4Protocol {
				spec.IPFamilies = append(spec.IPFamilies, v1.IPv6Protocol)
			} else {
				spec.IPFamilies = append(spec.IPFamilies, v1.IPv4Protocol)
			}
		}
		return nil
	}
	if policy == v1.IPFamilyPolicyRequireDualStack {
		errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), policy, "this cluster is not configured for dual-stack services"))
	}
	for i, f := range spec.IPFamilies {
		if f != v1.IPv4Protocol {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilies").Index(i), f, "not configured on this cluster"))
		}
	}
	if len(spec.IPFamilies) == 0 {
		spec.IPFamilies = []v1.IPFamily{v1.IPv4Protocol}
	}
	return errs
}
