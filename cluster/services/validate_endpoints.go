package services

import (
	"net/netip"
	"slices"

	v1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"podlab.dev/podlab/topology"
)

// The API server's checks for user-supplied EndpointSlices and Endpoints (the objects
// that back selectorless Services), from pkg/apis/discovery/validation and
// pkg/apis/core/validation of v1.37, applied after v1 defaulting. Errors are
// topology.Errors without a position; see At and WithLabel.

var supportedAddressTypes = []string{string(discoveryv1.AddressTypeFQDN), string(discoveryv1.AddressTypeIPv4), string(discoveryv1.AddressTypeIPv6)}

const (
	maxSliceEndpoints   = 1000
	maxSlicePorts       = 20000
	maxSliceAddresses   = 100
	maxTopologyLabels   = 16
	maxHintsPerEndpoint = 8
)

// ValidateEndpointSlice checks an EndpointSlice as the API server does on create.
func ValidateEndpointSlice(in *discoveryv1.EndpointSlice) error {
	var p problems
	if in == nil {
		p.add("", "", "no EndpointSlice given")
		return p.err()
	}
	s := in.DeepCopy()
	if s.Namespace == "" {
		s.Namespace = metav1.NamespaceDefault
	}
	for i := range s.Ports { // SetDefaults_EndpointPort
		if s.Ports[i].Name == nil {
			s.Ports[i].Name = new(string)
		}
		if s.Ports[i].Protocol == nil {
			tcp := v1.ProtocolTCP
			s.Ports[i].Protocol = &tcp
		}
	}
	var errs field.ErrorList
	errs = append(errs, apivalidation.ValidateObjectMeta(&s.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	errs = append(errs, oneOf(field.NewPath("addressType"), string(s.AddressType), supportedAddressTypes)...)
	errs = append(errs, validateSlicePorts(s.Ports, field.NewPath("ports"))...)
	errs = append(errs, validateSliceEndpoints(s.Endpoints, s.AddressType, field.NewPath("endpoints"))...)
	p.field(errs)
	return p.err()
}

func validateSlicePorts(ports []discoveryv1.EndpointPort, fld *field.Path) field.ErrorList {
	if len(ports) > maxSlicePorts {
		return field.ErrorList{field.TooMany(fld, len(ports), maxSlicePorts)}
	}
	var errs field.ErrorList
	var names []string
	for i, p := range ports {
		idx := fld.Index(i)
		if *p.Name != "" {
			errs = append(errs, invalid(idx.Child("name"), *p.Name, validation.IsDNS1123Label(*p.Name))...)
		}
		if slices.Contains(names, *p.Name) {
			errs = append(errs, field.Duplicate(idx.Child("name"), *p.Name))
		} else {
			names = append(names, *p.Name)
		}
		errs = append(errs, oneOf(idx.Child("protocol"), string(*p.Protocol), supportedProtocols)...)
		if p.Port != nil {
			errs = append(errs, invalid(idx.Child("port"), *p.Port, validation.IsValidPortNum(int(*p.Port)))...)
		}
		if p.AppProtocol != nil {
			errs = append(errs, invalid(idx.Child("appProtocol"), *p.AppProtocol, validation.IsQualifiedName(*p.AppProtocol))...)
		}
	}
	return errs
}

func validateSliceEndpoints(eps []discoveryv1.Endpoint, at discoveryv1.AddressType, fld *field.Path) field.ErrorList {
	if len(eps) > maxSliceEndpoints {
		return field.ErrorList{field.TooMany(fld, len(eps), maxSliceEndpoints)}
	}
	var errs field.ErrorList
	for i, ep := range eps {
		idx := fld.Index(i)
		ap := idx.Child("addresses")
		if len(ep.Addresses) == 0 {
			errs = append(errs, field.Required(ap, "must contain at least 1 address"))
		} else if len(ep.Addresses) > maxSliceAddresses {
			errs = append(errs, field.TooMany(ap, len(ep.Addresses), maxSliceAddresses))
		}
		for j, addr := range ep.Addresses {
			switch at {
			case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
				var ipErrs field.ErrorList
				if at == discoveryv1.AddressTypeIPv4 {
					ipErrs = validation.IsValidIPForLegacyField(ap.Index(j), addr, true, nil)
				} else {
					ipErrs = validation.IsValidIP(ap.Index(j), addr)
				}
				if len(ipErrs) > 0 {
					errs = append(errs, ipErrs...)
					continue
				}
				a, _ := netip.ParseAddr(addr)
				if at == discoveryv1.AddressTypeIPv4 && !a.Is4() {
					errs = append(errs, field.Invalid(ap, addr, "must be an IPv4 address"))
				}
				if at == discoveryv1.AddressTypeIPv6 && !a.Is6() {
					errs = append(errs, field.Invalid(ap, addr, "must be an IPv6 address"))
				}
				errs = append(errs, validateEndpointIP(addr, ap.Index(j))...)
			case discoveryv1.AddressTypeFQDN:
				errs = append(errs, validation.IsFullyQualifiedDomainName(ap.Index(j), addr)...)
			}
		}
		if ep.NodeName != nil {
			errs = append(errs, invalid(idx.Child("nodeName"), *ep.NodeName, apivalidation.NameIsDNSSubdomain(*ep.NodeName, false))...)
		}
		if len(ep.DeprecatedTopology) > maxTopologyLabels {
			errs = append(errs, field.TooMany(idx.Child("deprecatedTopology"), len(ep.DeprecatedTopology), maxTopologyLabels))
		}
		errs = append(errs, metavalidation.ValidateLabels(ep.DeprecatedTopology, idx.Child("deprecatedTopology"))...)
		if ep.Hostname != nil {
			errs = append(errs, invalid(idx.Child("hostname"), *ep.Hostname, validation.IsDNS1123Label(*ep.Hostname))...)
		}
		if ep.Hints != nil {
			if n := len(ep.Hints.ForZones); n > maxHintsPerEndpoint {
				errs = append(errs, field.TooMany(idx.Child("hints", "forZones"), n, maxHintsPerEndpoint))
			}
			if n := len(ep.Hints.ForNodes); n > maxHintsPerEndpoint {
				errs = append(errs, field.TooMany(idx.Child("hints", "forNodes"), n, maxHintsPerEndpoint))
			}
		}
	}
	return errs
}

// ValidateEndpoints checks a v1 Endpoints object as the API server does on create.
func ValidateEndpoints(in *v1.Endpoints) error {
	var p problems
	if in == nil {
		p.add("", "", "no Endpoints given")
		return p.err()
	}
	ep := in.DeepCopy()
	if ep.Namespace == "" {
		ep.Namespace = metav1.NamespaceDefault
	}
	for i := range ep.Subsets { // SetDefaults_EndpointPort
		for j := range ep.Subsets[i].Ports {
			if ep.Subsets[i].Ports[j].Protocol == "" {
				ep.Subsets[i].Ports[j].Protocol = v1.ProtocolTCP
			}
		}
	}
	var errs field.ErrorList
	errs = append(errs, apivalidation.ValidateObjectMeta(&ep.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))...)
	for i := range ep.Subsets {
		ss := &ep.Subsets[i]
		idx := field.NewPath("subsets").Index(i)
		if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
			errs = append(errs, field.Required(idx, "must specify `addresses` or `notReadyAddresses`"))
		}
		for j := range ss.Addresses {
			errs = append(errs, validateEndpointAddress(&ss.Addresses[j], idx.Child("addresses").Index(j))...)
		}
		for j := range ss.NotReadyAddresses {
			errs = append(errs, validateEndpointAddress(&ss.NotReadyAddresses[j], idx.Child("notReadyAddresses").Index(j))...)
		}
		for j := range ss.Ports {
			errs = append(errs, validateEndpointPort(&ss.Ports[j], len(ss.Ports) > 1, idx.Child("ports").Index(j))...)
		}
	}
	p.field(errs)
	return p.err()
}

func validateEndpointAddress(a *v1.EndpointAddress, fld *field.Path) field.ErrorList {
	errs := validation.IsValidIPForLegacyField(fld.Child("ip"), a.IP, true, nil)
	if a.Hostname != "" {
		errs = append(errs, invalid(fld.Child("hostname"), a.Hostname, validation.IsDNS1123Label(a.Hostname))...)
	}
	if a.NodeName != nil {
		errs = append(errs, invalid(fld.Child("nodeName"), *a.NodeName, apivalidation.NameIsDNSSubdomain(*a.NodeName, false))...)
	}
	return append(errs, validateEndpointIP(a.IP, fld.Child("ip"))...)
}

func validateEndpointPort(p *v1.EndpointPort, requireName bool, fld *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && p.Name == "" {
		errs = append(errs, field.Required(fld.Child("name"), ""))
	} else if p.Name != "" {
		errs = append(errs, invalid(fld.Child("name"), p.Name, validation.IsDNS1123Label(p.Name))...)
	}
	errs = append(errs, invalid(fld.Child("port"), p.Port, validation.IsValidPortNum(int(p.Port)))...)
	errs = append(errs, oneOf(fld.Child("protocol"), string(p.Protocol), supportedProtocols)...)
	if p.AppProtocol != nil {
		errs = append(errs, invalid(fld.Child("appProtocol"), *p.AppProtocol, validation.IsQualifiedName(*p.AppProtocol))...)
	}
	return errs
}

// At gives every error in err without a position the position pos (for objects read
// from a file after validation). Errors of other kinds come back unchanged.
func At(err error, pos topology.Pos) error {
	es, ok := err.(topology.Errors)
	if !ok {
		return err
	}
	out := make(topology.Errors, len(es))
	for i, e := range es {
		c := *e
		if c.Pos == (topology.Pos{}) {
			c.Pos = pos
		}
		out[i] = &c
	}
	return out
}
