// Package runtime declares what podlab needs from a runtime: something that supplies
// and removes network namespaces for a lab's underlay, nodes, hosts and pods, found
// again by the lab's mark. Wiring those namespaces (links, addresses, routes, CNI) is
// done above the runtime, the same for every runtime, so a runtime stays small.
// Implementations: runtime/netns (embedded default) and runtime/docker.
//
// It may use Kubernetes' API types (a pod's securityContext) but never reads YAML or
// the lab model: the caller, kubelet-like, turns a pod spec into a Sandbox.
package runtime

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// Sandbox kinds.
const (
	KindUnderlay = "underlay"
	KindNode     = "node"
	KindHost     = "host"
	KindPod      = "pod"
)

// Sandbox is one namespace a lab needs.
type Sandbox struct {
	Lab   string
	Name  string // unique, carries the lab's mark (plan.NetnsPrefix)
	Kind  string
	Node  string // for pods: the node they run on
	Image string // for runtimes that run images; the netns runtime records it only
	// Sysctls are set inside the new namespace before anything is wired into it, e.g.
	// "net/ipv6/conf/default/disable_ipv6": "1" (keys are paths under /proc/sys).
	Sysctls map[string]string
	// Security is what a pod's container may do, from its securityContext; nil means
	// the runtime's default for a pod. Ignored for other kinds, which get what podlab
	// itself needs in them, and by runtimes that run no containers (netns).
	Security *Security
}

// Security is the part of a pod's securityContext a container runtime applies: the
// first container's securityContext merged over the pod's (SecurityFromPod).
type Security struct {
	// CapAdd and CapDrop are Linux capabilities as a pod spec writes them: NET_ADMIN
	// or CAP_NET_ADMIN, any case, or ALL. They change the runtime's default set the
	// way Kubernetes does: add ALL, then drop ALL, then each add, then each drop.
	CapAdd, CapDrop []string
	// RunAsUser and RunAsGroup are the UID and GID of the container's process; nil
	// leaves the image's.
	RunAsUser, RunAsGroup  *int64
	ReadOnlyRootFilesystem bool
	// Privileged asks for every capability and device; runtimes may refuse it.
	Privileged bool
}

// SecurityFromPod is the Security of a pod's container, as kubelet derives it: runAsUser
// and runAsGroup from the first container's securityContext, else the pod's; the rest
// (capabilities, readOnlyRootFilesystem, privileged) exists only per container. It is
// nil when neither says anything a runtime applies.
func SecurityFromPod(spec *corev1.PodSpec) *Security {
	if spec == nil {
		return nil
	}
	var s Security
	if pc := spec.SecurityContext; pc != nil {
		s.RunAsUser, s.RunAsGroup = copyID(pc.RunAsUser), copyID(pc.RunAsGroup)
	}
	if len(spec.Containers) > 0 {
		if cc := spec.Containers[0].SecurityContext; cc != nil {
			if cc.RunAsUser != nil {
				s.RunAsUser = copyID(cc.RunAsUser)
			}
			if cc.RunAsGroup != nil {
				s.RunAsGroup = copyID(cc.RunAsGroup)
			}
			if c := cc.Capabilities; c != nil {
				s.CapAdd = capabilityNames(c.Add)
				s.CapDrop = capabilityNames(c.Drop)
			}
			s.ReadOnlyRootFilesystem = cc.ReadOnlyRootFilesystem != nil && *cc.ReadOnlyRootFilesystem
			s.Privileged = cc.Privileged != nil && *cc.Privileged
		}
	}
	if s.RunAsUser == nil && s.RunAsGroup == nil && len(s.CapAdd) == 0 && len(s.CapDrop) == 0 &&
		!s.ReadOnlyRootFilesystem && !s.Privileged {
		return nil
	}
	return &s
}

// copyID keeps a Sandbox from sharing memory with the pod spec it came from.
func copyID(id *int64) *int64 {
	if id == nil {
		return nil
	}
	v := *id
	return &v
}

func capabilityNames(cs []corev1.Capability) []string {
	if len(cs) == 0 {
		return nil
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// Runtime supplies network namespaces.
type Runtime interface {
	// Create makes the sandbox and returns the path of its network namespace.
	Create(ctx context.Context, s Sandbox) (string, error)
	// Delete removes the sandbox named name; a missing one is not an error.
	Delete(ctx context.Context, name string) error
	// List returns the names of existing sandboxes whose name starts with prefix.
	List(ctx context.Context, prefix string) ([]string, error)
}
