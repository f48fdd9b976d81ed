package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"podlab.dev/podlab/deploy"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/plan"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
	"podlab.dev/podlab/topology"
	"podlab.dev/podlab/workload"
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

// AddPod starts a pod in the running lab as kubelet would: placed like deploy places
// pods, a namespace from the runtime, CNI ADD in its node, its built-in servers, then
// readiness checks; endpoints follow once it is ready.
func (s *Supervisor) AddPod(ctx context.Context, tp topology.Pod) error {
	s.mu.Lock()
	p, err := s.plan.Place(tp)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	s.plan.Pods = append(s.plan.Pods, p) // reserves its address
	node, _ := s.plan.Node(p.Node)
	n := *node
	s.mu.Unlock()
	undo := func(cause error) error {
		s.mu.Lock()
		s.plan.Pods = slices.DeleteFunc(s.plan.Pods, func(q plan.Pod) bool { return q.Key() == p.Key() })
		s.mu.Unlock()
		s.runtime.Delete(context.WithoutCancel(ctx), p.Netns)
		return fmt.Errorf("pod %s: %w", p.Key(), cause)
	}
	path, err := s.runtime.Create(ctx, podruntime.Sandbox{Lab: s.plan.Lab, Name: p.Netns, Kind: podruntime.KindPod, Node: p.Node, Image: p.Image, Sysctls: plan.Sysctls()})
	if err != nil {
		return undo(err)
	}
	s.events.emit(events.Event{Type: events.NetnsCreated, Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Node: p.Node})
	nn, err := deploy.NodeNetwork(s.plan, &n, s.dir, netns.Path(n.Netns))
	if err != nil {
		return undo(err)
	}
	res, err := nn.Add(ctx, deploy.Attachment(&p, path))
	if err != nil {
		return undo(fmt.Errorf("CNI ADD: %w", err))
	}
	s.events.emit(events.Event{Type: events.PodNetworkReady, Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Node: p.Node, Message: res.IP.String() + " on " + plan.PodInterface})
	if len(p.Ports) > 0 && !s.plan.RunsOwnImage(&p) {
		srv, err := workload.Start(path, p.Name, toWorkloadPorts(&p))
		if err != nil {
			s.events.emit(events.Event{Type: events.Warning, Kind: "Pod", Namespace: p.Namespace, Name: p.Name, Message: err.Error()})
		}
		if srv != nil {
			s.mu.Lock()
			s.servers["Pod/"+p.Key()] = srv
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	err = s.dir.WritePlan(s.plan)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	// Probe at once so that the pod's endpoints follow within milliseconds.
	for i := 0; i < 50 && ctx.Err() == nil; i++ {
		if s.probeOne(ctx, &p) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}
