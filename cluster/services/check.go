package services

import (
	"encoding/json"
	"errors"
	"fmt"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"podlab.dev/podlab/plan"
	"podlab.dev/podlab/topology"
)

// CheckObjects runs the lab file's Services, Endpoints and EndpointSlices through the
// API server's checks (validation and allocation, in file order) without a lab, so
// that validate and deploy report a bad Service with its file and line before
// anything is created.
func CheckObjects(p *plan.Plan) error {
	reg := NewRegistry(RegistryConfig(p))
	var all topology.Errors
	for _, o := range p.Objects {
		err := Admit(reg, o)
		var es topology.Errors
		switch {
		case err == nil:
		case errors.As(err, &es):
			all = append(all, es...)
		default:
			all = append(all, &topology.Error{Pos: o.Pos, Field: label(o), Msg: err.Error()})
		}
	}
	if len(all) > 0 {
		return all
	}
	return nil
}

// RegistryConfig is the lab's Service configuration.
func RegistryConfig(p *plan.Plan) Config {
	c := p.Cluster
	return Config{ServiceCIDR: c.ServiceCIDR, LoadBalancerPool: c.LoadBalancerPool, Domain: c.Domain}
}

func label(o topology.Object) string {
	return fmt.Sprintf("(%s %s/%s)", o.Kind, o.Namespace, o.Name)
}

// Admit checks one object as the API server would, storing a Service in reg.
func Admit(reg *Registry, o topology.Object) error {
	switch o.Kind {
	case "Service":
		var svc v1.Service
		if err := json.Unmarshal(o.Raw, &svc); err != nil {
			return err
		}
		svc.Namespace = o.Namespace
		_, err := reg.Apply(&svc, o.Pos)
		return WithLabel(err, label(o))
	case "EndpointSlice":
		var sl discoveryv1.EndpointSlice
		if err := json.Unmarshal(o.Raw, &sl); err != nil {
			return err
		}
		sl.Namespace = o.Namespace
		return WithLabel(At(ValidateEndpointSlice(&sl), o.Pos), label(o))
	case "Endpoints":
		var eps v1.Endpoints
		if err := json.Unmarshal(o.Raw, &eps); err != nil {
			return err
		}
		eps.Namespace = o.Namespace
		return WithLabel(At(ValidateEndpoints(&eps), o.Pos), label(o))
	}
	return nil
}
