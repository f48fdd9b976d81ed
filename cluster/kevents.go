package cluster

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/ingress"
	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/events"
)

// warningReasons are the lab's event types a cluster reports as Warning events.
var warningReasons = map[string]bool{
	events.Warning: true, events.FailedScheduling: true, events.Unhealthy: true, events.BackOff: true,
	events.ContainerDied: true, events.ContainerRestarted: true, "FailedCreate": true, "FailedDelete": true,
	services.AllocationFailed: true,
}

// kubeKinds are the kinds whose events a cluster would record.
var kubeKinds = map[string]bool{"Pod": true, "Node": true, "Service": true, "Deployment": true, "ReplicaSet": true,
	"StatefulSet": true, "DaemonSet": true, "Endpoints": true, "EndpointSlice": true, "Namespace": true, "Job": true,
	"ConfigMap": true, "NetworkPolicy": true, "Ingress": true, "IngressClass": true, "Gateway": true, "GatewayClass": true,
	"HTTPRoute": true, "ReferenceGrant": true, "Secret": true}

// kubeEvents renders the lab's events about Kubernetes objects as core/v1 Events in
// namespace (all when empty), so that `get events` lists them as kubectl does.
func (s *Supervisor) kubeEvents(namespace string) []*api.StoredObject {
	past, ch := s.events.subscribe()
	s.events.unsubscribe(ch)
	var out []*api.StoredObject
	for i, e := range past {
		if !kubeKinds[e.Kind] || e.Type == events.NetnsCreated {
			continue // podlab's own: `podlab events` shows them
		}
		ns := e.Namespace
		if ns == "" {
			ns = "default"
		}
		if namespace != "" && ns != namespace {
			continue
		}
		h := fnv.New64a()
		fmt.Fprintf(h, "%d/%s/%s", i, e.Type, e.Time)
		ev := &corev1.Event{
			TypeMeta:       metav1.TypeMeta{APIVersion: "v1", Kind: "Event"},
			ObjectMeta:     metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s.%x", e.Name, h.Sum64()), CreationTimestamp: metav1.NewTime(e.Time)},
			InvolvedObject: corev1.ObjectReference{Kind: e.Kind, Namespace: e.Namespace, Name: e.Name},
			Reason:         e.Type, Message: e.Message, Type: corev1.EventTypeNormal, Count: 1,
			FirstTimestamp: metav1.NewTime(e.Time), LastTimestamp: metav1.NewTime(e.Time),
			Source: corev1.EventSource{Component: "podlab", Host: e.Node},
		}
		if warningReasons[e.Type] || ingress.IsWarning(e.Type) {
			ev.Type = corev1.EventTypeWarning
		}
		raw, _ := json.Marshal(ev)
		out = append(out, &api.StoredObject{APIVersion: "v1", Kind: "Event", Namespace: ns, Name: ev.Name, Applied: true, Created: e.Time, Object: raw})
	}
	return out
}
