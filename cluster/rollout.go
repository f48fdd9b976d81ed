package cluster

import (
	"context"
	"fmt"
	corev1 "k8s.io/api/core/v1"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/controllers"
	"podlab.dev/podlab/cluster/store"
)

// Scale sets the replicas of a Deployment, ReplicaSet or StatefulSet (`kubectl scale`).
func (s *Supervisor) Scale(ctx context.Context, req api.ScaleRequest) (api.ApplyResult, error) {
	r := api.ApplyResult{Kind: req.Kind, Namespace: req.Namespace, Name: req.Name}
	if req.Replicas < 0 {
		return r, fmt.Errorf("--replicas=%d: must be greater than or equal to 0", req.Replicas)
	}
	o, ok := s.store.Get(req.Kind, req.Namespace, req.Name)
	if !ok {
		return r, fmt.Errorf("%s %q: %w", strings.ToLower(req.Kind), req.Name, api.ErrNotFound)
	}
	n := o.DeepCopyObject().(store.Object)
	n.SetResourceVersion("")
	v := req.Replicas
	switch x := n.(type) {
	case *appsv1.Deployment:
		x.Spec.Replicas = &v
	case *appsv1.ReplicaSet:
		x.Spec.Replicas = &v
	case *appsv1.StatefulSet:
		x.Spec.Replicas = &v
	default:
		return r, fmt.Errorf("%s %q cannot be scaled: expected a deployment, replicaset or statefulset", strings.ToLower(req.Kind), req.Name)
	}
	if _, err := s.store.Update(n); err != nil {
		return r, err
	}
	r.Action = "scaled"
	s.settle(ctx, s.store.Generation())
	return r, nil
}

// Rollout runs `kubectl rollout` actions on a Deployment.
func (s *Supervisor) Rollout(ctx context.Context, req api.RolloutRequest) (*api.RolloutReply, error) {
	if req.Kind == "StatefulSet" || req.Kind == "DaemonSet" {
		return s.rolloutSet(ctx, req)
	}
	if req.Kind != "Deployment" {
		return nil, fmt.Errorf("rollout %s: no rollout for %s: expected a deployment, statefulset or daemonset", req.Action, strings.ToLower(req.Kind))
	}
	o, ok := s.store.Get("Deployment", req.Namespace, req.Name)
	if !ok {
		return nil, fmt.Errorf(`deployments.apps %q: %w`, req.Name, api.ErrNotFound)
	}
	d := o.(*appsv1.Deployment)
	name := "deployment.apps/" + d.Name
	switch req.Action {
	case "status":
		msg, done := rolloutStatus(d)
		return &api.RolloutReply{Message: msg, Done: done}, nil
	case "history":
		return &api.RolloutReply{Message: name, History: s.history(d)}, nil
	case "restart", "pause", "resume", "undo":
	default:
		return nil, fmt.Errorf("rollout %q: expected status, history, restart, undo, pause or resume", req.Action)
	}
	n := d.DeepCopy()
	n.ResourceVersion = ""
	msg := name
	switch req.Action {
	case "restart":
		if n.Spec.Template.Annotations == nil {
			n.Spec.Template.Annotations = map[string]string{}
		}
		n.Spec.Template.Annotations[controllers.AnnotationRestartedAt] = time.Now().Format(time.RFC3339)
		msg += " restarted"
	case "pause":
		n.Spec.Paused = true
		msg += " paused"
	case "resume":
		n.Spec.Paused = false
		msg += " resumed"
	case "undo":
		rs, err := s.revision(d, req.ToRevision)
		if err != nil {
			return nil, err
		}
		rs.Spec.Template.DeepCopyInto(&n.Spec.Template)
		delete(n.Spec.Template.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		msg += " rolled back"
	}
	if _, err := s.store.Update(n); err != nil {
		return nil, err
	}
	s.settle(ctx, s.store.Generation())
	return &api.RolloutReply{Message: msg}, nil
}

// rolloutStatus is kubectl rollout status's message for d.
func rolloutStatus(d *appsv1.Deployment) (string, bool) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	st := d.Status
	name := fmt.Sprintf("deployment %q", d.Name)
	switch {
	case d.Generation > st.ObservedGeneration:
		return "Waiting for deployment spec update to be observed...", false
	case st.UpdatedReplicas < want:
		return fmt.Sprintf("Waiting for %s rollout to finish: %d out of %d new replicas have been updated...", name, st.UpdatedReplicas, want), false
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for %s rollout to finish: %d old replicas are pending termination...", name, st.Replicas-st.UpdatedReplicas), false
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("Waiting for %s rollout to finish: %d of %d updated replicas are available...", name, st.AvailableReplicas, st.UpdatedReplicas), false
	}
	return name + " successfully rolled out", true
}

func (s *Supervisor) ownedReplicaSets(d *appsv1.Deployment) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, o := range s.store.List("ReplicaSet", d.Namespace) {
		rs := o.(*appsv1.ReplicaSet)
		for _, ref := range rs.OwnerReferences {
			if ref.UID == d.UID {
				out = append(out, rs)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return rsRevision(out[i]) < rsRevision(out[j]) })
	return out
}

func rsRevision(rs *appsv1.ReplicaSet) int64 {
	v, _ := strconv.ParseInt(rs.Annotations[controllers.AnnotationRevision], 10, 64)
	return v
}

func (s *Supervisor) history(d *appsv1.Deployment) []api.RolloutRevision {
	var out []api.RolloutRevision
	for _, rs := range s.ownedReplicaSets(d) {
		r := api.RolloutRevision{Revision: rsRevision(rs), ReplicaSet: rs.Name, ChangeCause: rs.Annotations[controllers.AnnotationChangeCause]}
		if cs := rs.Spec.Template.Spec.Containers; len(cs) > 0 {
			r.Image = cs[0].Image
		}
		out = append(out, r)
	}
	return out
}

// revision finds the ReplicaSet of revision rev (0: the one before the current).
func (s *Supervisor) revision(d *appsv1.Deployment, rev int64) (*appsv1.ReplicaSet, error) {
	rss := s.ownedReplicaSets(d)
	if rev == 0 {
		if len(rss) < 2 {
			return nil, fmt.Errorf("no rollout history found for deployment %q", d.Name)
		}
		return rss[len(rss)-2], nil
	}
	for _, rs := range rss {
		if rsRevision(rs) == rev {
			return rs, nil
		}
	}
	return nil, fmt.Errorf("unable to find specified revision %d in history", rev)
}

// rolloutSet runs rollout status and restart on a StatefulSet or DaemonSet, as kubectl
// does (their history and undo are not kept by podlab).
func (s *Supervisor) rolloutSet(ctx context.Context, req api.RolloutRequest) (*api.RolloutReply, error) {
	o, ok := s.store.Get(req.Kind, req.Namespace, req.Name)
	if !ok {
		return nil, fmt.Errorf(`%ss.apps %q: %w`, strings.ToLower(req.Kind), req.Name, api.ErrNotFound)
	}
	switch req.Action {
	case "status":
		var msg string
		var done bool
		switch x := o.(type) {
		case *appsv1.StatefulSet:
			msg, done = statefulSetStatus(x)
		case *appsv1.DaemonSet:
			msg, done = daemonSetStatus(x)
		}
		return &api.RolloutReply{Message: msg, Done: done}, nil
	case "restart":
		n := o.DeepCopyObject().(store.Object)
		n.SetResourceVersion("")
		var tmpl *corev1.PodTemplateSpec
		switch x := n.(type) {
		case *appsv1.StatefulSet:
			tmpl = &x.Spec.Template
		case *appsv1.DaemonSet:
			tmpl = &x.Spec.Template
		}
		if tmpl.Annotations == nil {
			tmpl.Annotations = map[string]string{}
		}
		tmpl.Annotations[controllers.AnnotationRestartedAt] = time.Now().Format(time.RFC3339)
		if _, err := s.store.Update(n); err != nil {
			return nil, err
		}
		s.settle(ctx, s.store.Generation())
		return &api.RolloutReply{Message: strings.ToLower(req.Kind) + ".apps/" + req.Name + " restarted"}, nil
	}
	return nil, fmt.Errorf("rollout %s: podlab keeps no rollout history for %s; status and restart work", req.Action, strings.ToLower(req.Kind))
}

// statefulSetStatus is kubectl rollout status's message for a StatefulSet.
func statefulSetStatus(sts *appsv1.StatefulSet) (string, bool) {
	want := int32(1)
	if sts.Spec.Replicas != nil {
		want = *sts.Spec.Replicas
	}
	st := sts.Status
	switch {
	case sts.Generation > st.ObservedGeneration:
		return "Waiting for statefulset spec update to be observed...", false
	case st.ReadyReplicas < want:
		return fmt.Sprintf("Waiting for %d pods to be ready...", want-st.ReadyReplicas), false
	case sts.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType || sts.Spec.UpdateStrategy.Type == "":
		if p := sts.Spec.UpdateStrategy.RollingUpdate; p != nil && p.Partition != nil && *p.Partition > 0 {
			if st.UpdatedReplicas < want-*p.Partition {
				return fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", st.UpdatedReplicas, want-*p.Partition), false
			}
			return fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...", st.UpdatedReplicas), true
		}
		if st.UpdateRevision != st.CurrentRevision {
			return fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s...", st.UpdatedReplicas, st.UpdateRevision), false
		}
	}
	return fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", st.CurrentReplicas, st.CurrentRevision), true
}

// daemonSetStatus is kubectl rollout status's message for a DaemonSet.
func daemonSetStatus(ds *appsv1.DaemonSet) (string, bool) {
	st := ds.Status
	name := fmt.Sprintf("daemon set %q", ds.Name)
	switch {
	case ds.Generation > st.ObservedGeneration:
		return "Waiting for daemon set spec update to be observed...", false
	case st.UpdatedNumberScheduled < st.DesiredNumberScheduled:
		return fmt.Sprintf("Waiting for %s rollout to finish: %d out of %d new pods have been updated...", name, st.UpdatedNumberScheduled, st.DesiredNumberScheduled), false
	case st.NumberAvailable < st.DesiredNumberScheduled:
		return fmt.Sprintf("Waiting for %s rollout to finish: %d of %d updated pods are available...", name, st.NumberAvailable, st.DesiredNumberScheduled), false
	}
	return name + " successfully rolled out", true
}
