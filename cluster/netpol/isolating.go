package netpol

import corev1 "k8s.io/api/core/v1"

// Isolating names the policies (namespace/name, sorted) that isolate pod namespace/name
// for the direction ("ingress" or "egress"): the policies whose default deny a drop
// counter of that pod counts. Nil when the store has no such pod or nothing isolates it.
func (c Cluster) Isolating(namespace, name, direction string) []string {
	ix := c.index()
	for _, p := range c.Pods {
		if p.Namespace != namespace || p.Name != name {
			continue
		}
		var out []string
		for _, pol := range ix.selecting(p, direction == "egress") {
			out = append(out, pol.Namespace+"/"+pol.Name)
		}
		return out
	}
	return nil
}

// Isolation is one pod isolated in one direction, with the policies isolating it.
type Isolation struct {
	Pod       *corev1.Pod
	Direction string   // "ingress" or "egress"
	Policies  []string // namespace/name, sorted
}

// Isolations lists every pod policies isolate, by direction, in the store's order
// (ingress before egress for a pod).
func (c Cluster) Isolations() []Isolation {
	ix := c.index()
	var out []Isolation
	for _, p := range c.Pods {
		for _, dir := range []string{"ingress", "egress"} {
			var names []string
			for _, pol := range ix.selecting(p, dir == "egress") {
				names = append(names, pol.Namespace+"/"+pol.Name)
			}
			if len(names) > 0 {
				out = append(out, Isolation{Pod: p, Direction: dir, Policies: names})
			}
		}
	}
	return out
}
