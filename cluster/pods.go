package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"podlab.dev/podlab/deploy"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/runtime/netns"
)

// ErrNotFound is returned for a pod the lab does not have.
var ErrNotFound = errors.New("not found")

// DeletePod removes a pod as kubelet tears a sandbox down: its servers stop, CNI DEL
// runs in its node, its namespace goes, and the lab's plan forgets it.
func (s *Supervisor) DeletePod(ctx context.Context, namespace, name string) error {
	s.mu.Lock()
	pod, ok := s.plan.Pod(namespace, name)
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("pod %s/%s: %w", namespace, name, ErrNotFound)
	}
	p := *pod
	s.plan.Pods = slices.DeleteFunc(s.plan.Pods, func(q plan.Pod) bool { return q.Namespace == namespace && q.Name == name })
	srv := s.servers["Pod/"+p.Key()]
	delete(s.servers, "Pod/"+p.Key())
	delete(s.ready, p.Key())
	node, _ := s.plan.Node(p.Node)
	err := s.dir.WritePlan(s.plan)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.svc.kick() // its endpoints go first, as when a pod starts terminating
	s.svc.waitSettled(ctx)
	if srv != nil {
		srv.Close()
	}
	var errs []error
	if node != nil {
		nn, err := deploy.NodeNetwork(s.plan, node, s.dir, netns.Path(node.Netns))
		if err == nil {
			err = nn.Del(ctx, deploy.Attachment(&p, netns.Path(p.Netns)))
		}
		errs = append(errs, err)
	}
	errs = append(errs, s.runtime.Delete(ctx, p.Netns))
	if err := errors.Join(errs...); err != nil {
		s.events.emit(events.Event{Type: events.Warning, Kind: "Pod", Namespace: namespace, Name: name, Node: p.Node, Message: "delete: " + err.Error()})
		return err
	}
	s.events.emit(events.Event{Type: events.PodDeleted, Kind: "Pod", Namespace: namespace, Name: name, Node: p.Node, Message: p.IP.String()})
	return nil
}

// SetLabels replaces a pod's labels.
func (s *Supervisor) SetLabels(namespace, name string, labels map[string]string) error {
	s.mu.Lock()
	pod, ok := s.plan.Pod(namespace, name)
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("pod %s/%s: %w", namespace, name, ErrNotFound)
	}
	pod.Labels = maps.Clone(labels)
	err := s.dir.WritePlan(s.plan)
	node := pod.Node
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.svc.kick()
	s.svc.waitSettled(context.Background()) // the command returns once endpoints follow
	s.events.emit(events.Event{Type: events.PodLabelsChanged, Kind: "Pod", Namespace: namespace, Name: name, Node: node, Message: labelString(labels)})
	return nil
}

func labelString(l map[string]string) string {
	keys := slices.Sorted(maps.Keys(l))
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += ","
		}
		out += k + "=" + l[k]
	}
	return out
}
