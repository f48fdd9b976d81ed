package topology

import (
	"fmt"
	"net/netip"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// A Linux bridge takes at most this many ports, so a node holds at most this many pods.
const maxBridgePorts = 1023

// shorthandPods reads the lab file's pods: list.
func (b *labBuilder) shorthandPods() {
	d := b.d
	for i, rp := range b.raw.Pods {
		path := fmt.Sprintf("pods[%d]", i)
		p := podSource{Pod: Pod{
			Namespace: rp.Namespace, Name: rp.Name, Labels: rp.Labels, Annotations: rp.Annotations,
			Node: rp.Node, NodeSelector: rp.NodeSelector, Image: rp.Image, Pos: d.at(path),
		}, refs: map[string]ref{
			"name": d.ref(path + ".name"), "node": d.ref(path + ".node"),
			"nodeSelector": d.ref(path + ".nodeSelector"), "ip": d.ref(path + ".ip"),
		}}
		ok := true
		if rp.Name == "" {
			d.add(path+".name", "", "required")
			ok = false
		} else if msgs := validation.IsDNS1123Subdomain(rp.Name); len(msgs) > 0 {
			d.add(path+".name", "", "invalid pod name %q: %s", rp.Name, strings.Join(msgs, "; "))
			ok = false
		}
		if p.Namespace == "" {
			p.Namespace = "default"
		} else if msgs := validation.IsDNS1123Label(p.Namespace); len(msgs) > 0 {
			d.add(path+".namespace", "", "invalid namespace %q: %s", p.Namespace, strings.Join(msgs, "; "))
		}
		d.checkLabels(path+".labels", rp.Labels)
		d.checkAnnotations(path+".annotations", rp.Annotations)
		d.checkLabels(path+".nodeSelector", rp.NodeSelector)
		if rp.IP != "" {
			p.IP, _ = d.parseIP(path+".ip", rp.IP)
		}
		p.Ports = parsePorts(d.file, d.idx, path+".ports", d.e)
		if ok {
			b.man.pods = append(b.man.pods, p)
		}
	}
}

// checkPods checks every pod against the nodes: its node exists, its selector matches
// a node, its pinned address is free and on its node, and the nodes have room.
func (b *labBuilder) checkPods() {
	nodes := b.lab.Nodes
	if len(nodes) == 0 {
		return
	}
	byName := map[string]int{}
	var names []string
	for i, n := range nodes {
		byName[n.Name] = i
		names = append(names, n.Name)
	}
	placed := make([]int, len(b.man.pods)) // node index, -1 = the plan package spreads it
	for i := range b.man.pods {
		p := &b.man.pods[i]
		placed[i] = -1
		if p.Node != "" {
			idx, ok := byName[p.Node]
			if !ok {
				r := p.ref("node")
				if p.manifest {
					p.pending = true
					b.warn(r, "nodes: "+strings.Join(names, ", "), "no node named %q%s: the pod is accepted and stays Pending, as on a cluster, until such a node exists", p.Node, didYouMean(p.Node, names))
					continue
				}
				b.d.e.add(r.pos, r.field, "nodes: "+strings.Join(names, ", "), "no node named %q%s", p.Node, didYouMean(p.Node, names))
				continue
			}
			placed[i] = idx
		}
		b.checkSelector(p, placed[i])
		if p.IP.IsValid() && b.cidr {
			placed[i] = b.checkPodIP(p, placed[i])
		}
	}
	if b.cidr {
		b.checkCapacity(placed)
	}
}

func (b *labBuilder) checkSelector(p *podSource, node int) {
	if len(p.NodeSelector) == 0 {
		return
	}
	sel := labels.SelectorFromSet(p.NodeSelector)
	r := p.ref("nodeSelector")
	if node >= 0 {
		if n := b.lab.Nodes[node]; !sel.Matches(labels.Set(n.Labels)) {
			if p.manifest {
				p.pending = true
				b.warn(r, fmt.Sprintf("podlab label node %s KEY=VALUE gives the node a label", n.Name), "node %s does not have the labels %s: the pod stays Pending", n.Name, formatLabels(p.NodeSelector))
				return
			}
			b.d.e.add(r.pos, r.field, "", "node %s does not have the labels %s", n.Name, formatLabels(p.NodeSelector))
		}
		return
	}
	var have []string
	for _, n := range b.lab.Nodes {
		if sel.Matches(labels.Set(n.Labels)) {
			return
		}
		have = append(have, n.Name+" "+formatLabels(userLabels(n.Labels)))
	}
	if p.manifest {
		p.pending = true
		b.warn(r, "node labels: "+strings.Join(have, ", ")+"\nonce deployed, `podlab label node NAME KEY=VALUE` lets the scheduler place it",
			"no node has the labels %s: the pod is accepted and stays Pending (0/%d nodes are available: %d node(s) didn't match Pod's node affinity/selector)",
			formatLabels(p.NodeSelector), len(b.lab.Nodes), len(b.lab.Nodes))
		return
	}
	b.d.e.add(r.pos, r.field, "node labels: "+strings.Join(have, ", "), "no node has the labels %s", formatLabels(p.NodeSelector))
}

// warn records a warning at r.
func (b *labBuilder) warn(r ref, hint, format string, args ...any) {
	b.lab.Warnings = append(b.lab.Warnings, &Error{Pos: r.pos, Field: r.field, Msg: fmt.Sprintf(format, args...), Hint: hint})
}

// checkPodIP checks a pinned pod address against the node subnets and other pins and
// returns the node whose subnet holds it (or node when it does not fit).
func (b *labBuilder) checkPodIP(p *podSource, node int) int {
	c := b.lab.Cluster
	r := p.ref("ip")
	bad := func(hint, format string, args ...any) int {
		b.d.e.add(r.pos, r.field, hint, format, args...)
		return node
	}
	if !c.PodCIDR.Contains(p.IP) {
		example := addrAt(b.lab.Nodes[max(node, 0)].PodCIDR, 10)
		return bad(fmt.Sprintf("pick an address in %s, e.g. %s", c.PodCIDR, example), "%s is outside podCIDR %s", p.IP, c.PodCIDR)
	}
	owner := int(addrIndex(c.PodCIDR, p.IP) >> (32 - c.NodeCIDRMaskSize))
	if owner >= len(b.lab.Nodes) {
		first, last := b.lab.Nodes[0].PodCIDR, b.lab.Nodes[len(b.lab.Nodes)-1].PodCIDR
		return bad("", "%s is in node subnet %s, but only %s exist, owning %s .. %s", p.IP,
			netip.PrefixFrom(p.IP, c.NodeCIDRMaskSize).Masked(), plural(len(b.lab.Nodes), "node"), first, last)
	}
	n := b.lab.Nodes[owner]
	switch {
	case node >= 0 && node != owner:
		return bad(fmt.Sprintf("pick an address in %s's subnet %s", b.lab.Nodes[node].Name, b.lab.Nodes[node].PodCIDR),
			"%s is in %s's pod subnet %s, but the pod is on %s", p.IP, n.Name, n.PodCIDR, b.lab.Nodes[node].Name)
	case p.IP == n.PodCIDR.Addr() || p.IP == lastAddr(n.PodCIDR):
		return bad(podRangeHint(n.PodCIDR), "%s is the network or broadcast address of %s's pod subnet %s", p.IP, n.Name, n.PodCIDR)
	case p.IP == addrAt(n.PodCIDR, 1):
		return bad(podRangeHint(n.PodCIDR), "%s is the gateway of %s's pod subnet %s", p.IP, n.Name, n.PodCIDR)
	}
	if b.podPins == nil {
		b.podPins = map[netip.Addr]*podSource{}
	}
	if first, dup := b.podPins[p.IP]; dup {
		return bad("", "%s is already pinned by pod %s/%s (%s)", p.IP, first.Namespace, first.Name, where(first.ref("ip").pos))
	}
	b.podPins[p.IP] = p
	return owner
}

func podRangeHint(p netip.Prefix) string {
	return fmt.Sprintf("pods get %s .. %s", addrAt(p, 2), lastAddr(p).Prev())
}

// nodeCapacity is how many pods one node holds: its subnet minus network, gateway and
// broadcast, and no more than a bridge takes.
func (b *labBuilder) nodeCapacity() int {
	return min(1<<(32-b.lab.Cluster.NodeCIDRMaskSize)-3, maxBridgePorts)
}

func (b *labBuilder) checkCapacity(placed []int) {
	capacity := b.nodeCapacity()
	count := make([]int, len(b.lab.Nodes))
	full := make([]bool, len(b.lab.Nodes))
	hint := "spread the pods over more nodes, or use larger node subnets (a smaller nodeCIDRMaskSize)"
	for i, n := range placed {
		if n < 0 {
			continue
		}
		count[n]++
		if count[n] > capacity && !full[n] {
			full[n] = true
			p := &b.man.pods[i]
			r := p.ref("node")
			if p.Node == "" {
				r = p.ref("ip")
			}
			node := b.lab.Nodes[n]
			b.d.e.add(r.pos, r.field, hint, "node %s is full: it holds at most %d pods (%s)", node.Name, capacity, b.capacityReason(node))
		}
	}
	// Pods the plan spreads: each group with the same nodeSelector must fit on the
	// nodes it may use, next to the pods already placed there.
	groups := map[string][]int{}
	var keys []string
	for i, n := range placed {
		if n >= 0 {
			continue
		}
		key := formatLabels(b.man.pods[i].NodeSelector)
		if _, ok := groups[key]; !ok {
			keys = append(keys, key)
		}
		groups[key] = append(groups[key], i)
	}
	for _, key := range keys {
		members := groups[key]
		sel := labels.SelectorFromSet(b.man.pods[members[0]].NodeSelector)
		room, eligible := 0, 0
		for n, node := range b.lab.Nodes {
			if sel.Matches(labels.Set(node.Labels)) {
				room += max(capacity-count[n], 0)
				eligible++
			}
		}
		if eligible > 0 && len(members) > room {
			p := &b.man.pods[members[room]]
			r := p.ref("name")
			b.d.e.add(r.pos, r.field, "add nodes, or use larger node subnets (a smaller nodeCIDRMaskSize)",
				"no room for pod %s/%s: %d pods to place on %s with room for %d more",
				p.Namespace, p.Name, len(members), plural(eligible, "node"), room)
		}
	}
}

func (b *labBuilder) capacityReason(n Node) string {
	if b.nodeCapacity() == maxBridgePorts {
		return "a Linux bridge takes at most 1023 ports"
	}
	return fmt.Sprintf("its /%d subnet has %s .. %s", n.PodCIDR.Bits(), addrAt(n.PodCIDR, 2), lastAddr(n.PodCIDR).Prev())
}

// finish fills what is derived from everything else.
func (b *labBuilder) finish() {
	lab := b.lab
	nss := map[string]bool{"default": true}
	for _, p := range b.man.pods {
		nss[p.Namespace] = true
		if p.pending {
			continue // the scheduler keeps it Pending; deploy builds nothing for it
		}
		lab.Pods = append(lab.Pods, p.Pod)
	}
	for _, o := range b.man.objects {
		if o.Namespace != "" {
			nss[o.Namespace] = true
		}
		if groupKind(o.APIVersion, o.Kind) == "/Namespace" {
			nss[o.Name] = true
		}
	}
	lab.Objects = b.man.objects
	lab.Namespaces = sortedKeys(nss)
}

// formatLabels renders labels as {a: x, b: y}, sorted.
func formatLabels(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+": "+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// userLabels leaves out the labels podlab adds to every node.
func userLabels(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if k != LabelHostname && k != LabelOS && k != LabelControlPlane {
			out[k] = v
		}
	}
	return out
}
