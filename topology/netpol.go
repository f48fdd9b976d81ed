package topology

import (
	"fmt"
	"net"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	fieldpath "k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// networkPolicy checks a NetworkPolicy as the API server does
// (k8s.io/kubernetes/pkg/apis/networking/validation), with its messages, and adds a
// hint for each. policyTypes and protocol values are checked with the other enums.
func (d *doc) networkPolicy(obj any) {
	np := obj.(*networkingv1.NetworkPolicy)
	for _, e := range validateNetworkPolicySpec(&np.Spec, fieldpath.NewPath("spec")) {
		d.e.add(d.at(labelPath(d, e)), field(d.label, e.Field), netpolHint(e), "%s", e.ErrorBody())
	}
}

// labelPath points an error about matchLabels (the API server names only the map) at
// the entry whose key or value it quotes.
func labelPath(d *doc, e *fieldpath.Error) string {
	if !strings.HasSuffix(e.Field, ".matchLabels") {
		return e.Field
	}
	bad := fmt.Sprint(e.BadValue)
	if d.has(e.Field + "[" + bad + "]") {
		return e.Field + "[" + bad + "]"
	}
	for _, p := range sortedKeys(d.idx) {
		if strings.HasPrefix(p, e.Field+"[") && d.idx[p].Value == bad {
			return p
		}
	}
	return e.Field
}

// validateNetworkPolicySpec is the API server's ValidateNetworkPolicySpec for the v1
// types, without the checks of policyTypes' and protocols' values (enums.go).
func validateNetworkPolicySpec(spec *networkingv1.NetworkPolicySpec, path *fieldpath.Path) fieldpath.ErrorList {
	var errs fieldpath.ErrorList
	errs = append(errs, validateSelector(&spec.PodSelector, path.Child("podSelector"))...)
	for i, r := range spec.Ingress {
		p := path.Child("ingress").Index(i)
		errs = append(errs, validatePolicyPorts(r.Ports, p.Child("ports"))...)
		for j := range r.From {
			errs = append(errs, validatePeer(&r.From[j], p.Child("from").Index(j))...)
		}
	}
	for i, r := range spec.Egress {
		p := path.Child("egress").Index(i)
		errs = append(errs, validatePolicyPorts(r.Ports, p.Child("ports"))...)
		for j := range r.To {
			errs = append(errs, validatePeer(&r.To[j], p.Child("to").Index(j))...)
		}
	}
	if len(spec.PolicyTypes) > 2 {
		errs = append(errs, fieldpath.Invalid(path.Child("policyTypes"), spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	return errs
}

func validateSelector(s *metav1.LabelSelector, path *fieldpath.Path) fieldpath.ErrorList {
	return metav1validation.ValidateLabelSelector(s, metav1validation.LabelSelectorValidationOptions{}, path)
}

func validatePolicyPorts(ports []networkingv1.NetworkPolicyPort, path *fieldpath.Path) fieldpath.ErrorList {
	var errs fieldpath.ErrorList
	for i, port := range ports {
		p := path.Index(i)
		switch {
		case port.Port == nil:
			if port.EndPort != nil {
				errs = append(errs, fieldpath.Invalid(p.Child("endPort"), *port.EndPort, "may not be specified when `port` is not specified"))
			}
		case port.Port.Type == intstr.Int:
			for _, msg := range validation.IsValidPortNum(int(port.Port.IntVal)) {
				errs = append(errs, fieldpath.Invalid(p.Child("port"), port.Port.IntVal, msg))
			}
			if port.EndPort != nil {
				if *port.EndPort < port.Port.IntVal {
					errs = append(errs, fieldpath.Invalid(p.Child("endPort"), *port.EndPort, "must be greater than or equal to `port`"))
				}
				for _, msg := range validation.IsValidPortNum(int(*port.EndPort)) {
					errs = append(errs, fieldpath.Invalid(p.Child("endPort"), *port.EndPort, msg))
				}
			}
		default:
			if port.EndPort != nil {
				errs = append(errs, fieldpath.Invalid(p.Child("endPort"), *port.EndPort, "may not be specified when `port` is non-numeric"))
			}
			for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
				errs = append(errs, fieldpath.Invalid(p.Child("port"), port.Port.StrVal, msg))
			}
		}
	}
	return errs
}

func validatePeer(peer *networkingv1.NetworkPolicyPeer, path *fieldpath.Path) fieldpath.ErrorList {
	var errs fieldpath.ErrorList
	n := 0
	if peer.PodSelector != nil {
		n++
		errs = append(errs, validateSelector(peer.PodSelector, path.Child("podSelector"))...)
	}
	if peer.NamespaceSelector != nil {
		n++
		errs = append(errs, validateSelector(peer.NamespaceSelector, path.Child("namespaceSelector"))...)
	}
	if peer.IPBlock != nil {
		n++
		errs = append(errs, validateIPBlock(peer.IPBlock, path.Child("ipBlock"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, fieldpath.Required(path, "must specify a peer"))
	case n > 1 && peer.IPBlock != nil:
		errs = append(errs, fieldpath.Forbidden(path, "may not specify both ipBlock and another peer"))
	}
	return errs
}

// validateIPBlock accepts what the API server accepts without the
// StrictIPCIDRValidation gate (off by default): host bits and leading zeros.
func validateIPBlock(b *networkingv1.IPBlock, path *fieldpath.Path) fieldpath.ErrorList {
	if b.CIDR == "" {
		return fieldpath.ErrorList{fieldpath.Required(path.Child("cidr"), "")}
	}
	errs := validation.IsValidCIDRForLegacyField(path.Child("cidr"), b.CIDR, false, nil)
	_, cidr, err := netutils.ParseCIDRSloppy(b.CIDR)
	if err != nil {
		return errs
	}
	for i, s := range b.Except {
		p := path.Child("except").Index(i)
		errs = append(errs, validation.IsValidCIDRForLegacyField(p, s, false, nil)...)
		_, except, err := netutils.ParseCIDRSloppy(s)
		if err != nil {
			continue
		}
		if !strictlyInside(except, cidr) {
			errs = append(errs, fieldpath.Invalid(p, s, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

func strictlyInside(inner, outer *net.IPNet) bool {
	outerBits, _ := outer.Mask.Size()
	innerBits, _ := inner.Mask.Size()
	return outer.Contains(inner.IP) && outerBits < innerBits
}

// netpolHint says how to fix what the API server's message names.
func netpolHint(e *fieldpath.Error) string {
	leaf := e.Field[strings.LastIndexAny(e.Field, ".]")+1:]
	switch {
	case e.Detail == "must specify a peer":
		return "a peer is a podSelector, a namespaceSelector (both in one entry: pods of those namespaces) or an ipBlock;\nto allow every peer, leave out from/to"
	case strings.HasPrefix(e.Detail, "may not specify both ipBlock"):
		return "ipBlock cannot be combined with selectors: write it as its own list item\n  - ipBlock: {cidr: 10.0.0.0/8}\n  - podSelector: {matchLabels: {app: web}}"
	case strings.HasPrefix(e.Detail, "must be a strict subset"):
		return "an except block must be smaller than cidr and inside it, e.g. cidr: 10.0.0.0/16, except: [10.0.1.0/24]"
	case strings.HasPrefix(e.Detail, "must be a valid CIDR"), leaf == "cidr" && e.Type == fieldpath.ErrorTypeRequired:
		return "write an address block with its prefix length, e.g. 10.244.0.0/16, or 10.244.1.5/32 for one address"
	case strings.Contains(e.Detail, "`port` is not specified"):
		return "endPort ends a range that starts at port: port: 32000, endPort: 32768"
	case strings.Contains(e.Detail, "`port` is non-numeric"):
		return "a range needs numbers: write the first port number instead of the name, or drop endPort"
	case strings.Contains(e.Detail, "greater than or equal to `port`"):
		return "endPort is the last port of the range that starts at port: swap them, or set endPort to at least port"
	case leaf == "operator":
		return "operator is one of In, NotIn, Exists, DoesNotExist"
	case leaf == "values" && e.Type == fieldpath.ErrorTypeRequired:
		return "In and NotIn need values: [a, b]"
	case leaf == "values" && e.Type == fieldpath.ErrorTypeForbidden:
		return "Exists and DoesNotExist take no values: drop values"
	case e.Detail == "may not specify more than two policyTypes":
		return "policyTypes lists Ingress, Egress or both, once each"
	}
	return ""
}
