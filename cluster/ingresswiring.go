package cluster

import (
	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/services"
	"podlab.dev/podlab/events"
	"podlab.dev/podlab/topology"
)

// serviceWriter admits the ingress controller's Services through the lab's Service
// registry, as a user's are: ClusterIP, node ports and a LoadBalancer address.
type serviceWriter struct{ s *Supervisor }

func (w serviceWriter) ApplyService(svc *corev1.Service) error {
	s := w.s
	s.regMu.Lock()
	admitted, err := s.reg.Apply(svc, topology.Pos{})
	s.regMu.Unlock()
	if err != nil {
		return err
	}
	if why := s.reg.PendingReason(admitted); why != "" {
		s.events.emit(events.Event{Type: services.AllocationFailed, Kind: "Service", Namespace: svc.Namespace, Name: svc.Name,
			Message: "Failed to allocate IP for \"" + svc.Namespace + "/" + svc.Name + "\": " + why})
	}
	if old, ok := s.store.Get("Service", svc.Namespace, svc.Name); ok {
		admitted.SetResourceVersion("")
		admitted.SetUID(old.GetUID())
		_, err = s.store.Update(admitted)
		return err
	}
	_, err = s.store.Create(admitted)
	return err
}

func (w serviceWriter) DeleteService(namespace, name string) error {
	s := w.s
	s.regMu.Lock()
	s.reg.Delete(namespace, name)
	s.regMu.Unlock()
	_, err := s.store.Delete("Service", namespace, name)
	return err
}
