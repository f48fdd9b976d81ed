package cluster

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/plan"
)

// ContainerWatcher reports what happens to a lab's containers behind podlab's back
// (the Docker runtime follows the engine's events): fn gets the container's network
// namespace name and the engine's action (die, kill, stop, oom, destroy, restart,
// start). Watch returns when ctx ends.
type ContainerWatcher interface {
	Watch(ctx context.Context, lab string, fn func(netnsName, action string)) error
}

// SetWatcher makes Run follow the lab's containers: those that die or restart outside
// podlab are reported, and a pod's container that comes back is wired again by kubelet.
func (s *Supervisor) SetWatcher(w ContainerWatcher) { s.watcher = w }

// Messages of a broken node, host or pod.
const (
	brokenDied      = "container %s outside podlab: its network namespace has no running container; run podlab deploy --reconfigure"
	brokenRestarted = "container restarted outside podlab: it has a fresh network namespace without the lab's links; run podlab deploy --reconfigure"
	brokenPodDied   = "container %s outside podlab: its network namespace has no running container; start it again (docker start) and kubelet wires it again, or delete the pod"
)

// brokenSet is what the watcher learnt: which objects are broken and why.
type brokenSet struct {
	mu     sync.Mutex
	byKey  map[string]string // "Node/name", "Host/name", "Pod/ns/name" -> message
	status map[string]string // netns name -> "died" or "restarted", as last reported
	keys   map[string]string // netns name -> its key in byKey, to forget a deleted pod's
}

func (b *brokenSet) get(key string) string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byKey[key]
}

// watchContainers runs the watcher until ctx ends.
func (s *Supervisor) watchContainers(ctx context.Context) {
	err := s.watcher.Watch(ctx, s.plan.Lab, func(name, action string) { s.containerEvent(ctx, name, action) })
	if err != nil && ctx.Err() == nil {
		s.log.Warn("container watch", "err", err)
		s.events.emit(events.Event{Type: events.Warning, Kind: "Lab", Name: s.plan.Lab, Message: "containers are not watched: " + err.Error()})
	}
}

// objectOf finds the node, host or pod whose namespace is name. A terminating pod is
// none: its container goes away because kubelet removes it.
func (s *Supervisor) objectOf(name string) (ev events.Event, key string, ok bool) {
	for _, n := range s.plan.Nodes {
		if n.Netns == name {
			return events.Event{Kind: "Node", Name: n.Name, Node: n.Name}, "Node/" + n.Name, true
		}
	}
	for _, h := range s.plan.Hosts {
		if h.Netns == name {
			return events.Event{Kind: "Host", Name: h.Name}, "Host/" + h.Name, true
		}
	}
	for _, o := range s.store.List("Pod", "") {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp == nil && plan.PodNetns(s.plan.Lab, p.Namespace, p.Name) == name {
			return events.Event{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Node: p.Spec.NodeName}, "Pod/" + p.Namespace + "/" + p.Name, true
		}
	}
	return events.Event{}, "", false
}

// containerEvent turns one engine event into a broken object and an event. podlab's
// own starts (a pod added) are not reported: a start counts only after a death; a
// container whose object left the plan (a pod deleted) is forgotten. A pod's container
// that comes back is not broken: kubelet wires its new namespace again, as it
// recreates a pod sandbox, and reports it.
func (s *Supervisor) containerEvent(ctx context.Context, name, action string) {
	ev, key, ok := s.objectOf(name)
	b := s.broken
	b.mu.Lock()
	if !ok {
		delete(b.status, name)
		delete(b.byKey, b.keys[name])
		delete(b.keys, name)
		b.mu.Unlock()
		return
	}
	if b.keys == nil {
		b.keys = map[string]string{}
	}
	b.keys[name] = key
	last := b.status[name]
	switch action {
	case "die", "stop", "oom", "destroy":
		if last == "died" {
			b.mu.Unlock()
			return
		}
		verb := map[string]string{"die": "died", "stop": "stopped", "oom": "killed for lack of memory", "destroy": "removed"}[action]
		msg := brokenDied
		if ev.Kind == "Pod" {
			msg = brokenPodDied
		}
		ev.Type, ev.Message = events.ContainerDied, fmt.Sprintf(msg, verb)
		b.status[name] = "died"
	case "start", "restart":
		if last == "restarted" || (last == "" && action == "start") {
			b.mu.Unlock()
			return
		}
		b.status[name] = "restarted"
		if ev.Kind == "Pod" && s.kubelet != nil {
			delete(b.byKey, key)
			b.mu.Unlock()
			s.log.Info("pod container restarted outside podlab: wiring it again", "pod", ev.Namespace+"/"+ev.Name, "action", action)
			go func() {
				if err := s.kubelet.Recreate(ctx, ev.Namespace, ev.Name); err != nil && ctx.Err() == nil {
					s.log.Warn("re-wiring a restarted pod", "pod", ev.Namespace+"/"+ev.Name, "err", err)
				}
			}()
			return
		}
		ev.Type, ev.Message = events.ContainerRestarted, brokenRestarted
	default: // kill: a signal, followed by die if it killed
		b.mu.Unlock()
		return
	}
	b.byKey[key] = ev.Message
	b.mu.Unlock()
	s.log.Warn("container changed outside podlab", "kind", ev.Kind, "name", ev.Name, "action", action)
	s.events.emit(ev)
}

// markBroken writes the broken objects into st; a broken pod is not ready.
func (s *Supervisor) markBroken(st *api.LabState) {
	for i := range st.Nodes {
		st.Nodes[i].Broken = s.broken.get("Node/" + st.Nodes[i].Name)
	}
	for i := range st.Hosts {
		st.Hosts[i].Broken = s.broken.get("Host/" + st.Hosts[i].Name)
	}
	for i := range st.Pods {
		p := &st.Pods[i]
		if p.Broken = s.broken.get("Pod/" + p.Namespace + "/" + p.Name); p.Broken != "" {
			p.Ready, p.Reason = false, p.Broken
		}
	}
}
