package gateways

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"podlab.dev/podlab/cluster/ingress/refs"
)

// granted says whether a ReferenceGrant in toNS lets objects of fromKind (in the
// gateway.networking.k8s.io group) in fromNS refer to the core object toKind/toName.
// Grants are read afresh on every compile, so deleting one revokes at once.
func granted(r refs.Reader, fromKind, fromNS, toKind, toNS, toName string) bool {
	if fromNS == toNS {
		return true
	}
	for _, o := range r.List("ReferenceGrant", toNS) {
		g, ok := o.(*gatewayv1.ReferenceGrant)
		if !ok {
			continue
		}
		from := false
		for _, f := range g.Spec.From {
			if string(f.Group) == gatewayv1.GroupName && string(f.Kind) == fromKind && string(f.Namespace) == fromNS {
				from = true
				break
			}
		}
		if !from {
			continue
		}
		for _, t := range g.Spec.To {
			if t.Group == "" && string(t.Kind) == toKind && (t.Name == nil || *t.Name == "" || string(*t.Name) == toName) {
				return true
			}
		}
	}
	return false
}
