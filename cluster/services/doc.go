// Package services is podlab's Service control plane, as pure data: the part of the API
// server that validates, defaults and allocates v1 Services (ClusterIPs, NodePorts,
// health-check NodePorts, and LoadBalancer IPs from a MetalLB-style pool), and the
// endpoints controller logic that turns a Service and the lab's pods into
// EndpointSlices and legacy v1 Endpoints.
//
// It owns the Service registry and its allocations and nothing else: it never touches a
// kernel object, a socket or a file, and it keeps no pods. The supervisor feeds it pods
// and hands its output to the components that program the dataplane (cluster/proxy) and
// DNS. Everything is deterministic: the same sequence of calls gives the same addresses,
// ports and slice names, so lessons can quote them.
package services
