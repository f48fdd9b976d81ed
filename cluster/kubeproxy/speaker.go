package kubeproxy

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/netip"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/component"
	"podlab.dev/podlab/cluster/controllers"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/events"
)

// Announce puts a LoadBalancer IP on a node's uplink (add) or takes it off.
type Announce func(node string, ip netip.Addr, add bool) error

// Speaker answers ARP for each LoadBalancer IP from one node, as MetalLB's layer-2
// mode does: on a node with a ready local endpoint for externalTrafficPolicy Local,
// else on a node picked by a hash of the IP so the choice is stable.
type Speaker struct {
	component.Loop
	nodes    []string
	announce Announce
	emit     component.Emit

	mu  sync.Mutex
	has map[netip.Addr]string
}

// NewSpeaker returns the speaker for nodes (in the lab's order).
func NewSpeaker(nodes []string, announce Announce, emit component.Emit) *Speaker {
	s := &Speaker{nodes: nodes, announce: announce, emit: emit, has: map[netip.Addr]string{}}
	s.Interest = func(r store.Reader, c store.Change) bool {
		return c.Key.Kind == "Service" || c.Key.Kind == "Pod" && r.Count("Service") > 0
	}
	return s
}

func (s *Speaker) Name() string { return "speaker" }

func (s *Speaker) Run(ctx context.Context, r store.Reader) error {
	return s.Loop.Run(ctx, r, func(ctx context.Context, _ uint64) { s.Sync(r) })
}

// Want is where each LoadBalancer IP should be answered.
func (s *Speaker) Want(r store.Reader) map[netip.Addr]string {
	want := map[netip.Addr]string{}
	if len(s.nodes) == 0 {
		return want
	}
	var pods []services.Pod
	for _, o := range r.List("Service", "") {
		svc := o.(*corev1.Service)
		for _, in := range svc.Status.LoadBalancer.Ingress {
			ip, err := netip.ParseAddr(in.IP)
			if err != nil {
				continue
			}
			h := fnv.New32a()
			h.Write(ip.AsSlice())
			node := s.nodes[int(h.Sum32())%len(s.nodes)]
			if svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal {
				if pods == nil {
					pods = controllers.ServicePods(r)
				}
				var local []string
				for i := range pods {
					if pods[i].Ready && !pods[i].Terminating && services.Selects(svc, &pods[i]) {
						local = append(local, pods[i].Node)
					}
				}
				sort.Strings(local)
				if len(local) > 0 {
					node = local[0]
				}
			}
			want[ip] = node
		}
	}
	return want
}

// Sync moves addresses to where they should be answered.
func (s *Speaker) Sync(r store.Reader) {
	want := s.Want(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	for ip, node := range s.has {
		if want[ip] != node {
			if err := s.announce(node, ip, false); err == nil {
				delete(s.has, ip)
			}
		}
	}
	for ip, node := range want {
		if s.has[ip] == node {
			continue
		}
		if err := s.announce(node, ip, true); err != nil {
			s.event(events.Warning, node, fmt.Sprintf("announce %s: %v", ip, err))
			continue
		}
		s.has[ip] = node
		s.event(events.LoadBalancerAnnounced, node, ip.String())
	}
}

func (s *Speaker) event(typ, node, msg string) {
	if s.emit != nil {
		s.emit(events.Event{Type: typ, Kind: "Node", Name: node, Node: node, Message: msg})
	}
}
