// Command netpolcompile times the NetworkPolicy model's Compile on the cluster
// scripts/bench/netpol.sh builds (NODES x PODS_PER_NODE pods in 10 namespaces, one
// policy per pod allowing TCP 80 from a team of its namespace or from role=client pods
// of namespace "clients"), without a lab: the share of an apply that is pure Go, which
// the netpol component pays on every change before any node's nft runs.
//
//	netpolcompile [NODES] [PODS_PER_NODE] [RUNS]
//
// Prints one JSON line: the median and the fastest Compile, and the rules compiled.
package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"podlab.dev/podlab/cluster/netpol"
)

func main() {
	arg := func(i, def int) int {
		if len(os.Args) > i {
			if n, err := strconv.Atoi(os.Args[i]); err == nil {
				return n
			}
		}
		return def
	}
	nodes, per, runs := arg(1, 10), arg(2, 100), arg(3, 10)
	c := cluster(nodes, per)
	var times []time.Duration
	rules := 0
	for range runs {
		start := time.Now()
		out := c.Compile(func(*corev1.Pod) string { return "" })
		times = append(times, time.Since(start))
		rules = 0
		for _, pr := range out {
			rules += len(pr.Ingress) + len(pr.Egress)
		}
	}
	slices.Sort(times)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res, _ := json.Marshal(map[string]any{"pods": len(c.Pods), "policies": len(c.Policies), "rules": rules,
		"compileMedianMs": ms(times[len(times)/2]), "compileMinMs": ms(times[0]), "runs": runs})
	fmt.Println(string(res))
}

func cluster(nodes, per int) netpol.Cluster {
	var c netpol.Cluster
	pod := func(ns, name, node string, ip netip.Addr, l map[string]string) {
		c.Pods = append(c.Pods, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l},
			Spec:       corev1.PodSpec{NodeName: node},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip.String()},
		})
	}
	for _, ns := range []string{"clients", "ns-0", "ns-1", "ns-2", "ns-3", "ns-4", "ns-5", "ns-6", "ns-7", "ns-8", "ns-9"} {
		c.Namespaces = append(c.Namespaces, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	pod("clients", "client", "worker-1", netip.AddrFrom4([4]byte{10, 244, 0, 250}), map[string]string{"role": "client"})
	pod("clients", "other", "worker-1", netip.AddrFrom4([4]byte{10, 244, 0, 251}), map[string]string{"role": "other"})
	tcp, port := corev1.ProtocolTCP, intstr.FromInt32(80)
	i := 0
	for n := 1; n <= nodes; n++ {
		for k := 1; k <= per; k++ {
			name, ns := fmt.Sprintf("p-%d-%d", n, k), fmt.Sprintf("ns-%d", i%10)
			pod(ns, name, fmt.Sprintf("worker-%d", n), netip.AddrFrom4([4]byte{10, 244, byte(n), byte(k + 1)}),
				map[string]string{"app": name, "team": fmt.Sprintf("t%d", i%7)})
			c.Policies = append(c.Policies, &networkingv1.NetworkPolicy{
				ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "allow-" + name},
				Spec: networkingv1.NetworkPolicySpec{
					PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
					PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
					Ingress: []networkingv1.NetworkPolicyIngressRule{{
						From: []networkingv1.NetworkPolicyPeer{
							{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": fmt.Sprintf("t%d", (i+1)%7)}}},
							{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "clients"}},
								PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "client"}}},
						},
						Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}},
					}},
				},
			})
			i++
		}
	}
	return c
}
