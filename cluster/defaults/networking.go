package defaults

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

// NetworkPolicy is SetDefaults_NetworkPolicy and SetDefaults_NetworkPolicyPort: a
// policy naming no policyTypes is Ingress, plus Egress when it has egress rules; a
// port's protocol is TCP. The stored policyTypes is what the enforcement reads
// (cluster/netpol's PolicyTypes falls back to the same rule only for objects stored
// without it), so a later apply that adds egress rules to a policy that names no
// policyTypes is defaulted again, as a replace is.
func NetworkPolicy(np *networkingv1.NetworkPolicy) {
	s := &np.Spec
	if len(s.PolicyTypes) == 0 {
		s.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(s.Egress) != 0 {
			s.PolicyTypes = append(s.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	for i := range s.Ingress {
		policyPorts(s.Ingress[i].Ports)
	}
	for i := range s.Egress {
		policyPorts(s.Egress[i].Ports)
	}
}

func policyPorts(ports []networkingv1.NetworkPolicyPort) {
	for i := range ports {
		if ports[i].Protocol == nil {
			tcp := corev1.ProtocolTCP
			ports[i].Protocol = &tcp
		}
	}
}

// IngressClass is SetDefaults_IngressClass: parameters name no scope means Cluster.
// (An Ingress has no defaults: pathType is required.)
func IngressClass(c *networkingv1.IngressClass) {
	if p := c.Spec.Parameters; p != nil && p.Scope == nil {
		scope := networkingv1.IngressClassParametersReferenceScopeCluster
		p.Scope = &scope
	}
}

// EndpointSlice is discovery/v1's SetDefaults_EndpointPort: a port's name is "" (not
// absent) and its protocol TCP.
func EndpointSlice(s *discoveryv1.EndpointSlice) {
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Name == nil {
			empty := ""
			p.Name = &empty
		}
		if p.Protocol == nil {
			tcp := corev1.ProtocolTCP
			p.Protocol = &tcp
		}
	}
}
