package cluster

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/dns"
	"podlab.dev/podlab/plan"
)

// PodEtc is a stored pod's runtime files, for any pod (a controller's too): exec
// writes them into the pod, `podlab dns` resolves with its resolv.conf.
func (s *Supervisor) PodEtc(namespace, name string) (*api.PodEtc, error) {
	o, ok := s.store.Get("Pod", namespace, name)
	if !ok {
		return nil, fmt.Errorf("pod %s/%s: %w", namespace, name, api.ErrNotFound)
	}
	pod := o.(*corev1.Pod)
	resolv, err := s.resolvConf(pod)
	if err != nil {
		return nil, err
	}
	pp := s.planPod(pod)
	return &api.PodEtc{Namespace: namespace, Name: name, Node: pod.Spec.NodeName, Netns: pp.Netns, IP: pp.IP,
		ResolvConf: resolv, Hosts: plan.HostsFile(&pp)}, nil
}

// resolvConf is the pod's /etc/resolv.conf as kubelet writes it on the pod's node.
func (s *Supervisor) resolvConf(pod *corev1.Pod) (string, error) {
	return dns.ResolvConf(pod, s.plan.Cluster.Domain, s.plan.DNSAddr(), s.plan.NodeResolvConf())
}
