package cluster

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/nodelease"
)

// TestKubeAPIServesNodeLeases: the nodes' Leases are what kubectl describe node reads
// (coordination.k8s.io/v1, kube-node-lease, named as the node).
func TestKubeAPIServesNodeLeases(t *testing.T) {
	s := newSupervisor(t)
	var nodes []string
	for _, n := range s.plan.Nodes {
		nodes = append(nodes, n.Name)
	}
	if errs := nodelease.New(nodes, s.store, nil).Renew(s.store); len(errs) != 0 {
		t.Fatal(errs)
	}
	cs := kubeClient(t, s)
	l, err := cs.CoordinationV1().Leases("kube-node-lease").Get(context.Background(), nodes[0], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != nodes[0] || l.Spec.RenewTime == nil {
		t.Errorf("Lease of %s: %+v", nodes[0], l.Spec)
	}
	list, err := cs.CoordinationV1().Leases("kube-node-lease").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(list.Items) != len(nodes) {
		t.Errorf("%d Leases listed (%v), want %d", len(list.Items), err, len(nodes))
	}
}
