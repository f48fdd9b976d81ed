// Package runtime declares what podlab needs from a runtime: something that supplies
// and removes network namespaces for a lab's underlay, nodes, hosts and pods, found
// again by the lab's mark. Wiring those namespaces (links, addresses, routes, CNI) is
// done above the runtime, the same for every runtime, so a runtime stays small.
// Implementations: runtime/netns (embedded default).
package runtime

import "context"

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
