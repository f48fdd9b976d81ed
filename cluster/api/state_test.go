package api

import (
	"net/netip"
	"podlab.dev/podlab/cluster/internal/labtest"
	"reflect"
	"testing"

	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/topology"
)

// testPlan is a small lab: three nodes (pods on two), a host with ports, three pods
// and two objects, one of which this version does not apply.
func testPlan(lab string) *plan.Plan {
	p := labtest.Plan(lab)
	p.Objects = []topology.Object{
		{APIVersion: "v1", Kind: "Pod", Namespace: "default", Name: "web-1", Applied: true},
		{APIVersion: "v1", Kind: "Service", Namespace: "default", Name: "web", Applied: false},
	}
	return p
}

func TestStateFromPlan(t *testing.T) {
	p := testPlan("lab1")
	tests := []struct {
		name       string
		ready      map[string]Readiness
		sup        SupervisorState
		wantReady  map[string]bool
		wantReason map[string]string
	}{
		{
			name:       "no supervisor",
			sup:        SupervisorState{PID: 42, Running: false, Message: "gone"},
			wantReady:  map[string]bool{"default/web-1": false, "default/web-2": false, "shop/api": false},
			wantReason: map[string]string{"default/web-1": "supervisor not running", "default/web-2": "supervisor not running", "shop/api": "supervisor not running"},
		},
		{
			name: "running, some checked",
			ready: map[string]Readiness{
				"default/web-1": {Ready: true},
				"default/web-2": {Reason: "tcp 10.244.2.2:8080: refused"},
			},
			sup:        SupervisorState{PID: 7, Running: true},
			wantReady:  map[string]bool{"default/web-1": true, "default/web-2": false, "shop/api": false},
			wantReason: map[string]string{"default/web-1": "", "default/web-2": "tcp 10.244.2.2:8080: refused", "shop/api": "not checked yet"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := StateFromPlan(p, tt.ready, tt.sup)
			if s.Lab != "lab1" || s.File != p.File || s.Runtime != "netns" || s.Overlay != "vxlan" || s.CNI != "podlab" ||
				s.PodCIDR != p.Cluster.PodCIDR || s.ServiceCIDR != p.Cluster.ServiceCIDR || s.Underlay != p.Cluster.Underlay || s.Domain != "cluster.local" {
				t.Errorf("lab fields: %+v", s)
			}
			if s.Supervisor != tt.sup {
				t.Errorf("supervisor %+v, want %+v", s.Supervisor, tt.sup)
			}
			gotReady, gotReason := map[string]bool{}, map[string]string{}
			wantReadyCount := 0
			for _, pod := range s.Pods {
				key := pod.Namespace + "/" + pod.Name
				gotReady[key], gotReason[key] = pod.Ready, pod.Reason
				if pod.Ready {
					wantReadyCount++
				}
			}
			if !reflect.DeepEqual(gotReady, tt.wantReady) || !reflect.DeepEqual(gotReason, tt.wantReason) {
				t.Errorf("ready %v reasons %q\nwant %v %q", gotReady, gotReason, tt.wantReady, tt.wantReason)
			}
			if n := s.ReadyCount(); n != wantReadyCount {
				t.Errorf("ReadyCount = %d, want %d", n, wantReadyCount)
			}

			pods := map[string]int{}
			for _, n := range s.Nodes {
				pods[n.Name] = n.Pods
			}
			if want := map[string]int{"cp": 0, "w1": 2, "w2": 1}; !reflect.DeepEqual(pods, want) {
				t.Errorf("pods per node %v, want %v", pods, want)
			}
			if n := s.Nodes[1]; n.IP != netip.MustParseAddr("172.30.0.11") || n.Role != "worker" || n.PodCIDR != p.Nodes[1].PodCIDR || n.Netns != p.Nodes[1].Netns {
				t.Errorf("node w1 %+v", n)
			}
			if p0 := s.Pods[0]; p0.Ports != "80,81/udp" || p0.IP != netip.MustParseAddr("10.244.1.2") || p0.Node != "w1" || p0.Netns != p.Pods[0].Netns || p0.Labels["app"] != "web-1" {
				t.Errorf("pod web-1 %+v", p0)
			}
			if got := s.Pods[1].Ports; got != "http:8080" {
				t.Errorf("web-2 ports %q, want http:8080", got)
			}
			if len(s.Hosts) != 1 || s.Hosts[0].Ports != "8080,53/udp" || s.Hosts[0].IP != netip.MustParseAddr("172.30.0.100") {
				t.Errorf("hosts %+v", s.Hosts)
			}
			wantObjects := []ObjectState{
				{APIVersion: "v1", Kind: "Pod", Namespace: "default", Name: "web-1", Applied: true},
				{APIVersion: "v1", Kind: "Service", Namespace: "default", Name: "web", Applied: false},
			}
			if !reflect.DeepEqual(s.Objects, wantObjects) {
				t.Errorf("objects %+v, want %+v", s.Objects, wantObjects)
			}
		})
	}
}

// An empty lab still renders empty lists, not nulls, in the API.
func TestStateFromPlanEmpty(t *testing.T) {
	s := StateFromPlan(&plan.Plan{Lab: "empty"}, nil, SupervisorState{})
	if s.Nodes == nil || s.Hosts == nil || s.Pods == nil || s.Objects == nil {
		t.Errorf("nil lists in %+v", s)
	}
	if s.ReadyCount() != 0 {
		t.Error("ReadyCount of an empty lab")
	}
}
