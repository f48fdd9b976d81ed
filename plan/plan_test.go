package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"podlab.dev/podlab/topology"
)

func testLab() *topology.Lab {
	return &topology.Lab{
		Name: "t", Runtime: "netns",
		Cluster: topology.Cluster{
			PodCIDR: netip.MustParsePrefix("10.244.0.0/16"), NodeCIDRMaskSize: 24,
			ServiceCIDR: netip.MustParsePrefix("10.96.0.0/12"), Domain: "cluster.local",
			Overlay: "vxlan", Underlay: netip.MustParsePrefix("172.30.0.0/24"), CNI: "podlab", MTU: 1500,
		},
		Nodes: []topology.Node{{Name: "cp", Role: "control-plane"}, {Name: "w1", Role: "worker", Labels: map[string]string{"zone": "a"}}, {Name: "w2", Role: "worker"}},
		Hosts: []topology.Host{{Name: "client"}},
		Pods: []topology.Pod{
			{Namespace: "default", Name: "a"},
			{Namespace: "default", Name: "b"},
			{Namespace: "default", Name: "c", Node: "w2"},
			{Namespace: "default", Name: "d", IP: netip.MustParseAddr("10.244.1.50")},
			{Namespace: "default", Name: "e", NodeSelector: map[string]string{"zone": "a"}},
			{Namespace: "default", Name: "f"},
		},
		Namespaces: []string{"default"},
	}
}

func TestBuildAddressesAndPlacement(t *testing.T) {
	p, err := Build(testLab())
	if err != nil {
		t.Fatal(err)
	}
	wantNodes := map[string][2]string{"cp": {"172.30.0.10/24", "10.244.0.0/24"}, "w1": {"172.30.0.11/24", "10.244.1.0/24"}, "w2": {"172.30.0.12/24", "10.244.2.0/24"}}
	for _, n := range p.Nodes {
		if got := [2]string{n.IP.String(), n.PodCIDR.String()}; got != wantNodes[n.Name] {
			t.Errorf("node %s: %v, want %v", n.Name, got, wantNodes[n.Name])
		}
		if n.PodMTU != 1450 {
			t.Errorf("node %s pod MTU %d, want 1450 (vxlan)", n.Name, n.PodMTU)
		}
	}
	if p.Hosts[0].IP.String() != "172.30.0.100/24" {
		t.Errorf("host ip %s", p.Hosts[0].IP)
	}
	// a->w1, b->w2 (spread over workers), c pinned to w2, d by its IP on w1, e by selector w1, f least loaded.
	want := map[string]string{"a": "w1/10.244.1.2", "b": "w2/10.244.2.2", "c": "w2/10.244.2.3", "d": "w1/10.244.1.50", "e": "w1/10.244.1.3", "f": "w2/10.244.2.4"}
	for _, pod := range p.Pods {
		if got := pod.Node + "/" + pod.IP.String(); got != want[pod.Name] {
			t.Errorf("pod %s: %s, want %s", pod.Name, got, want[pod.Name])
		}
	}
	// Deterministic: the same lab gives the same plan.
	p2, _ := Build(testLab())
	for i := range p.Pods {
		if p.Pods[i].IP != p2.Pods[i].IP || p.Pods[i].ContainerID != p2.Pods[i].ContainerID {
			t.Errorf("pod %s differs between builds", p.Pods[i].Name)
		}
	}
}

func TestOverlayFlannelStyle(t *testing.T) {
	p, _ := Build(testLab())
	n, _ := p.Node("w1")
	o := p.OverlayFor(n)
	if len(o.Routes) != 2 || len(o.Neighbours) != 2 || len(o.FDB) != 2 {
		t.Fatalf("vxlan overlay for w1: %+v", o)
	}
	r := o.Routes[1]
	if r.Dst.String() != "10.244.2.0/24" || r.Via.String() != "10.244.2.0" || r.Dev != "flannel.1" || !r.Onlink {
		t.Errorf("route %+v, want 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink", r)
	}
	w2, _ := p.Node("w2")
	if o.FDB[1].MAC != w2.VTEPMAC || o.FDB[1].Dst.String() != "172.30.0.12" {
		t.Errorf("fdb %+v", o.FDB[1])
	}
	lab := testLab()
	lab.Cluster.Overlay = "host-gw"
	p, _ = Build(lab)
	n, _ = p.Node("w1")
	o = p.OverlayFor(n)
	if len(o.Neighbours) != 0 || o.Routes[1].Via.String() != "172.30.0.12" || o.Routes[1].Dev != "eth0" {
		t.Errorf("host-gw overlay %+v", o)
	}
}

func TestBuildErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		mut  func(*topology.Lab)
		want string
	}{
		"pin outside node": {func(l *topology.Lab) {
			l.Pods = []topology.Pod{{Namespace: "default", Name: "x", Node: "w1", IP: netip.MustParseAddr("10.244.2.9"), Pos: topology.Pos{File: "lab.yaml", Line: 7}}}
		}, "lab.yaml:7"},
		"no node matches": {func(l *topology.Lab) {
			l.Pods = []topology.Pod{{Namespace: "default", Name: "x", NodeSelector: map[string]string{"zone": "z"}}}
		}, "0/3 nodes are available: no node matches nodeSelector {zone=z}"},
		"node full": {func(l *topology.Lab) {
			l.Cluster.NodeCIDRMaskSize = 30 // one pod address per node
			l.Pods = []topology.Pod{{Namespace: "default", Name: "x", Node: "w1"}, {Namespace: "default", Name: "y", Node: "w1"}}
		}, "node w1 is full"},
		"pin in no subnet": {func(l *topology.Lab) {
			l.Pods = []topology.Pod{{Namespace: "default", Name: "x", IP: netip.MustParseAddr("10.244.200.9")}}
		}, "pinned IP 10.244.200.9 is in no node's pod subnet"},
	} {
		t.Run(name, func(t *testing.T) {
			lab := testLab()
			tc.mut(lab)
			_, err := Build(lab)
			var terrs topology.Errors
			if !errors.As(err, &terrs) {
				t.Fatalf("error %v is not topology.Errors", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestPrint(t *testing.T) {
	p, _ := Build(testLab())
	var b bytes.Buffer
	p.Print(&b)
	for _, want := range []string{
		"namespace podlab_t_underlay",
		"link flannel.1 vxlan id 1 dstport 8472 local 172.30.0.11 dev eth0 nolearning",
		"route 10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
		"pod default/d on w1  namespace podlab_t_pod_default_d",
		"ip 10.244.1.50/24",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("plan output lacks %q:\n%s", want, b.String())
		}
	}
}

func TestPodNetnsLongNames(t *testing.T) {
	long := strings.Repeat("a", 250)
	n1, n2 := PodNetns("lab", "default", long), PodNetns("lab", "default", long+"b")
	if len(n1) > 255 || n1 == n2 {
		t.Errorf("long names: %d bytes, distinct=%v", len(n1), n1 != n2)
	}
}

// Nodes and hosts never get an address of the LoadBalancer pool.
func TestPoolSkipped(t *testing.T) {
	lab := testLab()
	lab.Cluster.LoadBalancerPool = []netip.Prefix{netip.MustParsePrefix("172.30.0.100/30"), netip.MustParsePrefix("172.30.0.11/32")}
	p, err := Build(lab)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Nodes[1].IP.String(); got != "172.30.0.12/24" {
		t.Errorf("second node got %s, want 172.30.0.12/24 (.11 is in the pool)", got)
	}
	if got := p.Hosts[0].IP.String(); got != "172.30.0.104/24" {
		t.Errorf("host got %s, want 172.30.0.104/24 (.100-.103 are the pool)", got)
	}
}

// Place adds a pod the way deploy placed the others.

// A manifest pod's securityContext (the pod's and its first container's) reaches its
// planned pod, so deploy gives the runtime what kubelet would; plan.json says nothing
// of it for pods without one, as plans written before it did.
func TestSecurityContextPlanned(t *testing.T) {
	lab := `name: sec
nodes: [{name: w1}]
pods: [{name: plain, node: w1}]
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          securityContext: {runAsUser: 1000}
          containers:
            - name: web
              image: podlab/pod
              securityContext: {capabilities: {add: [NET_ADMIN]}, readOnlyRootFilesystem: true}
            - {name: side, image: podlab/pod, securityContext: {runAsUser: 7}}
`
	l, err := topology.Parse("lab.yaml", []byte(lab), func(string) ([]byte, error) { return nil, errors.New("no files") })
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(l)
	if err != nil {
		t.Fatal(err)
	}
	web := 0
	for _, pod := range p.Pods {
		b, err := json.Marshal(pod)
		if err != nil {
			t.Fatal(err)
		}
		if pod.Name == "plain" {
			if pod.SecurityContext != nil || pod.ContainerSecurity != nil || bytes.Contains(b, []byte("ecurityContext")) {
				t.Errorf("pod without a securityContext: %s", b)
			}
			continue
		}
		web++
		sc, cs := pod.SecurityContext, pod.ContainerSecurity
		if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 1000 {
			t.Errorf("%s: pod securityContext %+v, want runAsUser 1000", pod.Name, sc)
		}
		if cs == nil || cs.Capabilities == nil || len(cs.Capabilities.Add) != 1 || cs.Capabilities.Add[0] != "NET_ADMIN" ||
			cs.ReadOnlyRootFilesystem == nil || !*cs.ReadOnlyRootFilesystem || cs.RunAsUser != nil {
			t.Errorf("%s: container securityContext %+v, want the first container's", pod.Name, cs)
		}
		var back Pod
		if err := json.Unmarshal(b, &back); err != nil || back.ContainerSecurity == nil || back.SecurityContext == nil {
			t.Errorf("%s does not round-trip through plan.json: %s (%v)", pod.Name, b, err)
		}
	}
	if web != 2 {
		t.Errorf("%d web replicas planned, want 2", web)
	}
}

// cluster.networkPolicy reaches the plan the supervisor reads back from plan.json; a lab
// without it writes plans exactly as before the setting existed.
func TestNetworkPolicySettingPlanned(t *testing.T) {
	lab := testLab()
	lab.Cluster.NetworkPolicy.EnforceEstablished = true
	p, err := Build(lab)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(p)
	var back Plan
	if err := json.Unmarshal(data, &back); err != nil || !back.Cluster.NetworkPolicy.EnforceEstablished {
		t.Errorf("plan.json lost enforceEstablished (%v): %s", err, data)
	}
	var b bytes.Buffer
	p.Print(&b)
	if want := "networkPolicy enforceEstablished"; !strings.Contains(b.String(), want) {
		t.Errorf("plan output lacks %q:\n%s", want, b.String())
	}

	off, _ := Build(testLab())
	data, _ = json.Marshal(off)
	if strings.Contains(string(data), "networkPolicy") {
		t.Errorf("plan.json names networkPolicy when it is off: %s", data)
	}
	b.Reset()
	off.Print(&b)
	if strings.Contains(b.String(), "enforceEstablished") {
		t.Errorf("plan output names enforceEstablished when it is off:\n%s", b.String())
	}
}
