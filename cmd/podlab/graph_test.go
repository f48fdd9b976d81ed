package main

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/api"
)

// graph draws nodes and hosts on the underlay, pods grouped by node, the overlay and
// Services with edges to their endpoints' pods, in dot and in Mermaid.
func TestGraph(t *testing.T) {
	g := labGraph{
		State: &api.LabState{Lab: "g", Overlay: "vxlan", Underlay: netip.MustParsePrefix("172.30.0.0/24"),
			PodCIDR: netip.MustParsePrefix("10.244.0.0/16"), ServiceCIDR: netip.MustParsePrefix("10.96.0.0/16"),
			Nodes: []api.NodeState{{Name: "n1", Role: "control-plane", IP: netip.MustParseAddr("172.30.0.2"), PodCIDR: netip.MustParsePrefix("10.244.0.0/24")},
				{Name: "n2", Role: "worker", IP: netip.MustParseAddr("172.30.0.3"), PodCIDR: netip.MustParsePrefix("10.244.1.0/24")}},
			Hosts: []api.HostState{{Name: "db", IP: netip.MustParseAddr("172.30.0.10")}},
			Pods: []api.PodState{{Namespace: "default", Name: "web-1", Node: "n1", IP: netip.MustParseAddr("10.244.0.5")},
				{Namespace: "default", Name: "web-2", Node: "n2", IP: netip.MustParseAddr("10.244.1.5")}}},
		Services: []corev1.Service{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.10"}}},
		Endpoints: []corev1.Endpoints{{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: "10.244.0.5"}, {IP: "10.244.1.5", TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-2"}}},
			Ports:     []corev1.EndpointPort{{Port: 8080}}}}}},
	}
	dot := g.dot()
	for _, want := range []string{
		`graph "g" {`, "subgraph cluster_underlay {", `label="underlay 172.30.0.0/24";`,
		`node_n1 [label="node n1\ncontrol-plane 172.30.0.2"];`, `host_db [label="host db\n172.30.0.10"];`,
		"subgraph cluster_pods_n2 {", `pod_default_web_2 [label="default/web-2\n10.244.1.5"];`,
		`node_n2 -- overlay_net [label="10.244.1.0/24"];`, `pod_default_web_1 -- node_n1;`,
		`svc_default_web [label="svc default/web\nClusterIP 10.96.0.10"];`,
		`svc_default_web -- pod_default_web_1 [label="8080", style=dashed];`,
		`svc_default_web -- pod_default_web_2 [label="8080", style=dashed];`,
	} {
		if !strings.Contains(dot, want) {
			t.Errorf("dot lacks %s:\n%s", want, dot)
		}
	}
	if strings.Count(dot, "{") != strings.Count(dot, "}") {
		t.Errorf("unbalanced braces:\n%s", dot)
	}
	mm := g.mermaid()
	for _, want := range []string{
		"flowchart TB\n", `subgraph pods_n1 ["pods on n1"]`, `node_n1["node n1<br/>control-plane 172.30.0.2"]`,
		`node_n1 ---|"172.30.0.2"| underlay_net`, `svc_default_web -. "8080" .- pod_default_web_2`,
	} {
		if !strings.Contains(mm, want) {
			t.Errorf("mermaid lacks %s:\n%s", want, mm)
		}
	}
	if strings.Count(mm, "subgraph") != strings.Count(mm, "\tend\n") {
		t.Errorf("unbalanced subgraphs:\n%s", mm)
	}
	if code := run([]string{"graph", "-o", "png"}); code != exitInvalid {
		t.Errorf("graph -o png: exit %d, want 2", code)
	}
}
