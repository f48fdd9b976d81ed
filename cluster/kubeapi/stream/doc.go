// Package stream serves the streaming subresources kubectl uses against a pod:
// pods/exec and pods/attach (remotecommand over SPDY, protocols v2 to v4, and over
// WebSocket, v5 with its CLOSE signal and the older channel protocols) and
// pods/portforward (SPDY, and SPDY tunnelled through a WebSocket as kubectl 1.31+
// tries first). It owns the wire protocols only: running a command or opening a
// connection in a pod is the Executor's or the PortForwarder's job, and it never
// reads the object store (the caller has found the pod before routing to it).
//
// The protocol code follows the kubelet's streaming server (k8s.io/cri-streaming)
// but is built on k8s.io/apimachinery's httpstream, spdy and wsstream only: that
// module would pull gRPC and newer OpenTelemetry versions into podlab's go.mod.
package stream
