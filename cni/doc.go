// Package cni owns podlab's pod networking on a node: the podlab-bridge CNI plugin
// (a flannel-style bridge + host-local IPAM that runs in-process or exec'd) and the
// libcni invocation a container runtime would make for each pod sandbox.
//
// Everything it creates lives in a node's network namespace (bridge, host veths, IPAM
// state under the node's state dir) or in a pod's namespace (the pod interface). It must
// never create anything in the machine's root network namespace: every plugin, in-process
// or exec'd, runs with the node namespace as its current namespace.
package cni
