package services

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	v1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below follow pkg/apis/core/validation (validateService, validateServicePort,
// ValidateServiceClusterIPsRelatedFields, ...) of Kubernetes v1.37, on the v1 types and
// after defaulting, so the messages are the API server's own.

var (
	supportedServiceTypes     = []string{string(v1.ServiceTypeClusterIP), string(v1.ServiceTypeExternalName), string(v1.ServiceTypeLoadBalancer), string(v1.ServiceTypeNodePort)}
	supportedProtocols        = []string{string(v1.ProtocolSCTP), string(v1.ProtocolTCP), string(v1.ProtocolUDP)}
	supportedAffinities       = []string{string(v1.ServiceAffinityClientIP), string(v1.ServiceAffinityNone)}
	supportedTrafficPolicies  = []string{"Cluster", "Local"}
	supportedIPFamilies       = []string{string(v1.IPv4Protocol), string(v1.IPv6Protocol)}
	supportedIPFamilyPolicies = []string{string(v1.IPFamilyPolicyPreferDualStack), string(v1.IPFamilyPolicyRequireDualStack), string(v1.IPFamilyPolicySingleStack)}
	supportedDistributions    = []string{v1.ServiceTrafficDistributionPreferClose, v1.ServiceTrafficDistributionPreferSameZone, v1.ServiceTrafficDistributionPreferSameNode}
)

// maxClientIPTimeout is core.MaxClientIPServiceAffinitySeconds (one day).
const maxClientIPTimeout = 86400

// validateService is ValidateServiceCreate (old == nil) or ValidateServiceUpdate.
func validateService(svc, old *v1.Service) field.ErrorList {
	var errs field.ErrorList
	meta := field.NewPath("metadata")
	// RelaxedServiceNameValidation is GA (locked on) in v1.37: names are DNS-1123 labels.
	errs = append(errs, apivalidation.ValidateObjectMeta(&svc.ObjectMeta, true, apivalidation.NameIsDNSLabel, meta)...)
	if old != nil {
		errs = append(errs, validateUpdate(svc, old)...)
	}

	spec := field.NewPath("spec")
	headless := isHeadless(svc)
	if len(svc.Spec.Ports) == 0 && !headless && svc.Spec.Type != v1.ServiceTypeExternalName {
		errs = append(errs, field.Required(spec.Child("ports"), ""))
	}
	switch svc.Spec.Type {
	case v1.ServiceTypeLoadBalancer, v1.ServiceTypeNodePort:
		if headless {
			errs = append(errs, field.Invalid(spec.Child("clusterIPs").Index(0), svc.Spec.ClusterIPs[0],
				fmt.Sprintf("may not be set to 'None' for %s services", svc.Spec.Type)))
		}
	case v1.ServiceTypeExternalName:
		if len(svc.Spec.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(spec.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if len(svc.Spec.IPFamilies) > 0 {
			errs = append(errs, field.Forbidden(spec.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if svc.Spec.IPFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(spec.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		// The value (a CNAME) may have a trailing dot to denote it as fully qualified.
		if cname := strings.TrimSuffix(svc.Spec.ExternalName, "."); cname != "" {
			errs = append(errs, invalid(spec.Child("externalName"), cname, validation.IsDNS1123Subdomain(cname))...)
		} else {
			errs = append(errs, field.Required(spec.Child("externalName"), ""))
		}
	}

	names := map[string]bool{}
	for i := range svc.Spec.Ports {
		errs = append(errs, validatePort(&svc.Spec.Ports[i], len(svc.Spec.Ports) > 1, names, spec.Child("ports").Index(i))...)
	}

	if svc.Spec.Selector != nil {
		errs = append(errs, metavalidation.ValidateLabels(svc.Spec.Selector, spec.Child("selector"))...)
	}

	switch svc.Spec.SessionAffinity {
	case "":
		errs = append(errs, field.Required(spec.Child("sessionAffinity"), ""))
	case v1.ServiceAffinityClientIP:
		errs = append(errs, validateClientIPAffinity(svc.Spec.SessionAffinityConfig, spec.Child("sessionAffinityConfig"))...)
	case v1.ServiceAffinityNone:
		if svc.Spec.SessionAffinityConfig != nil {
			errs = append(errs, field.Forbidden(spec.Child("sessionAffinityConfig"), "must not be set when session affinity is None"))
		}
	default:
		errs = append(errs, field.NotSupported(spec.Child("sessionAffinity"), svc.Spec.SessionAffinity, supportedAffinities))
	}

	errs = append(errs, validateClusterIPFields(svc, old)...)

	var oldExternalIPs []string
	if old != nil {
		oldExternalIPs = old.Spec.ExternalIPs
	}
	for i, ip := range svc.Spec.ExternalIPs {
		p := spec.Child("externalIPs").Index(i)
		if e := validation.IsValidIPForLegacyField(p, ip, true, oldExternalIPs); len(e) > 0 {
			errs = append(errs, e...)
		} else {
			errs = append(errs, validateEndpointIP(ip, p)...)
		}
	}

	errs = append(errs, oneOf(spec.Child("type"), string(svc.Spec.Type), supportedServiceTypes)...)

	if svc.Spec.Type == v1.ServiceTypeClusterIP {
		for i, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				errs = append(errs, field.Forbidden(spec.Child("ports").Index(i).Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			}
		}
	}

	// Duplicate nodePorts and ports, each per protocol.
	type protoPort struct {
		proto v1.Protocol
		port  int32
	}
	nodePorts, ports := map[protoPort]bool{}, map[protoPort]bool{}
	for i, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			k := protoPort{p.Protocol, p.NodePort}
			if nodePorts[k] {
				errs = append(errs, field.Duplicate(spec.Child("ports").Index(i).Child("nodePort"), p.NodePort))
			}
			nodePorts[k] = true
		}
	}
	for i, p := range svc.Spec.Ports {
		k := protoPort{p.Protocol, p.Port}
		if ports[k] {
			errs = append(errs, field.Duplicate(spec.Child("ports").Index(i), portKey{p.Protocol, p.Port}))
		}
		ports[k] = true
	}

	if len(svc.Spec.LoadBalancerSourceRanges) > 0 {
		p := spec.Child("LoadBalancerSourceRanges") // sic: the API server's spelling
		if svc.Spec.Type != v1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'"))
		}
		for i, v := range svc.Spec.LoadBalancerSourceRanges {
			errs = append(errs, validation.IsValidCIDRForLegacyField(p.Index(i), strings.TrimSpace(v), true, nil)...)
		}
	}

	if svc.Spec.AllocateLoadBalancerNodePorts != nil && svc.Spec.Type != v1.ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(spec.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if svc.Spec.Type == v1.ServiceTypeLoadBalancer && svc.Spec.AllocateLoadBalancerNodePorts == nil {
		errs = append(errs, field.Required(field.NewPath("allocateLoadBalancerNodePorts"), ""))
	}
	if svc.Spec.LoadBalancerClass != nil {
		if svc.Spec.Type == v1.ServiceTypeLoadBalancer {
			errs = append(errs, invalid(spec.Child("loadBalancerClass"), *svc.Spec.LoadBalancerClass, validation.IsQualifiedName(*svc.Spec.LoadBalancerClass))...)
		} else {
			errs = append(errs, field.Forbidden(spec.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
		}
	}

	errs = append(errs, validateTrafficPolicies(svc)...)
	return errs
}

// portKey is how a duplicate port+protocol pair is shown: {"Protocol":"TCP","Port":80}.
type portKey struct {
	Protocol v1.Protocol
	Port     int32
}

// validatePort is validateServicePort.
func validatePort(sp *v1.ServicePort, requireName bool, names map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && sp.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else if sp.Name != "" {
		errs = append(errs, invalid(p.Child("name"), sp.Name, validation.IsDNS1123Label(sp.Name))...)
		if names[sp.Name] {
			errs = append(errs, field.Duplicate(p.Child("name"), sp.Name))
		}
		names[sp.Name] = true
	}
	errs = append(errs, invalid(p.Child("port"), sp.Port, validation.IsValidPortNum(int(sp.Port)))...)
	errs = append(errs, oneOf(p.Child("protocol"), string(sp.Protocol), supportedProtocols)...)
	errs = append(errs, validatePortNumOrName(sp.TargetPort, p.Child("targetPort"))...)
	if sp.AppProtocol != nil {
		errs = append(errs, invalid(p.Child("appProtocol"), *sp.AppProtocol, validation.IsQualifiedName(*sp.AppProtocol))...)
	}
	return errs
}

func validatePortNumOrName(port intstr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.Int {
		errs = append(errs, invalid(p, port.IntValue(), validation.IsValidPortNum(port.IntValue()))...)
	} else {
		errs = append(errs, invalid(p, port.StrVal, validation.IsValidPortName(port.StrVal))...)
	}
	return errs
}

func validateClientIPAffinity(cfg *v1.SessionAffinityConfig, p *field.Path) field.ErrorList {
	const when = "when session affinity type is ClientIP"
	switch {
	case cfg == nil:
		return field.ErrorList{field.Required(p, when)}
	case cfg.ClientIP == nil:
		return field.ErrorList{field.Required(p.Child("clientIP"), when)}
	case cfg.ClientIP.TimeoutSeconds == nil:
		return field.ErrorList{field.Required(p.Child("clientIP", "timeoutSeconds"), when)}
	}
	if t := *cfg.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPTimeout {
		return field.ErrorList{field.Invalid(p.Child("clientIP", "timeoutSeconds"), t,
			fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPTimeout))}
	}
	return nil
}

func validateTrafficPolicies(svc *v1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if !externallyAccessible(svc) {
		if svc.Spec.ExternalTrafficPolicy != "" {
			errs = append(errs, field.Invalid(spec.Child("externalTrafficPolicy"), svc.Spec.ExternalTrafficPolicy,
				"may only be set for externally-accessible services"))
		}
	} else if svc.Spec.ExternalTrafficPolicy == "" {
		errs = append(errs, field.Required(spec.Child("externalTrafficPolicy"), ""))
	} else if !slices.Contains(supportedTrafficPolicies, string(svc.Spec.ExternalTrafficPolicy)) {
		errs = append(errs, field.NotSupported(spec.Child("externalTrafficPolicy"), svc.Spec.ExternalTrafficPolicy, supportedTrafficPolicies))
	}

	if !needsHealthCheckNodePort(svc) {
		if svc.Spec.HealthCheckNodePort != 0 {
			errs = append(errs, field.Invalid(spec.Child("healthCheckNodePort"), svc.Spec.HealthCheckNodePort,
				"may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		}
	} else if svc.Spec.HealthCheckNodePort != 0 {
		errs = append(errs, invalid(spec.Child("healthCheckNodePort"), svc.Spec.HealthCheckNodePort, validation.IsValidPortNum(int(svc.Spec.HealthCheckNodePort)))...)
	}
	// (The API server also requires healthCheckNodePort here, but it validates after
	// allocating; podlab allocates after validating, so zero means "allocate one".)

	itp := svc.Spec.InternalTrafficPolicy
	if itp == nil {
		if svc.Spec.Type != v1.ServiceTypeExternalName {
			errs = append(errs, field.Required(spec.Child("internalTrafficPolicy"), ""))
		}
	} else if !slices.Contains(supportedTrafficPolicies, string(*itp)) {
		errs = append(errs, field.NotSupported(spec.Child("internalTrafficPolicy"), *itp, supportedTrafficPolicies))
	}

	if td := svc.Spec.TrafficDistribution; td != nil && !slices.Contains(supportedDistributions, *td) {
		errs = append(errs, field.NotSupported(spec.Child("trafficDistribution"), *td, supportedDistributions))
	}
	return errs
}

// validateClusterIPFields is the single-stack part of ValidateServiceClusterIPsRelatedFields.
func validateClusterIPFields(svc, old *v1.Service) field.ErrorList {
	if svc.Spec.Type == v1.ServiceTypeExternalName {
		return nil
	}
	var errs field.ErrorList
	spec := field.NewPath("spec")
	ipsPath := spec.Child("clusterIPs")
	if svc.Spec.ClusterIP != "" {
		if len(svc.Spec.ClusterIPs) == 0 {
			errs = append(errs, field.Required(ipsPath, ""))
		} else if svc.Spec.ClusterIPs[0] != svc.Spec.ClusterIP {
			errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "first value must match `clusterIP`"))
		}
	} else if len(svc.Spec.ClusterIPs) != 0 {
		errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "must be empty when `clusterIP` is not specified"))
	}

	seen := map[v1.IPFamily]bool{}
	for i, f := range svc.Spec.IPFamilies {
		if !slices.Contains(supportedIPFamilies, string(f)) {
			errs = append(errs, field.NotSupported(spec.Child("ipFamilies").Index(i), f, supportedIPFamilies))
		}
		if seen[f] {
			errs = append(errs, field.Duplicate(spec.Child("ipFamilies").Index(i), f))
		}
		seen[f] = true
	}
	if p := svc.Spec.IPFamilyPolicy; p != nil && !slices.Contains(supportedIPFamilyPolicies, string(*p)) {
		errs = append(errs, field.NotSupported(spec.Child("ipFamilyPolicy"), *p, supportedIPFamilyPolicies))
	}

	var oldIPs []string
	if old != nil {
		oldIPs = old.Spec.ClusterIPs
	}
	invalid := false
	for i, ip := range svc.Spec.ClusterIPs {
		if i == 0 && ip == v1.ClusterIPNone {
			if len(svc.Spec.ClusterIPs) > 1 {
				invalid = true
				errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "'None' must be the first and only value"))
			}
			continue
		}
		e := validation.IsValidIPForLegacyField(ipsPath.Index(i), ip, true, oldIPs)
		invalid = invalid || len(e) > 0
		errs = append(errs, e...)
	}
	if len(svc.Spec.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "may only hold up to 2 values"))
	}
	if invalid {
		return errs
	}
	if len(svc.Spec.ClusterIPs) == 2 {
		a, _ := netip.ParseAddr(svc.Spec.ClusterIPs[0])
		b, _ := netip.ParseAddr(svc.Spec.ClusterIPs[1])
		if a.Is4() == b.Is4() {
			errs = append(errs, field.Invalid(ipsPath, svc.Spec.ClusterIPs, "may specify no more than one IP for each IP family"))
		}
	}
	if !isHeadless(svc) {
		for i, ip := range svc.Spec.ClusterIPs {
			if i >= len(svc.Spec.IPFamilies) {
				break
			}
			a, _ := netip.ParseAddr(ip)
			if svc.Spec.IPFamilies[i] == v1.IPv4Protocol && a.Is6() {
				errs = append(errs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an IPv4 value as indicated by `ipFamilies[%v]`", i)))
			}
			if svc.Spec.IPFamilies[i] == v1.IPv6Protocol && !a.Is6() {
				errs = append(errs, field.Invalid(ipsPath.Index(i), ip, fmt.Sprintf("expected an IPv6 value as indicated by `ipFamilies[%v]`", i)))
			}
		}
	}
	return errs
}

// validateUpdate holds the checks that compare with the stored object.
func validateUpdate(svc, old *v1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	// ClusterIP is immutable, except across ExternalName and between two headless states.
	if needsClusterIP(old) && needsClusterIP(svc) && !(isHeadless(old) && isHeadless(svc)) &&
		svc.Spec.ClusterIP != old.Spec.ClusterIP {
		errs = append(errs, field.Invalid(spec.Child("clusterIP"), svc.Spec.ClusterIP, "field is immutable"))
	}
	if old.Spec.Type == v1.ServiceTypeLoadBalancer && svc.Spec.Type == v1.ServiceTypeLoadBalancer &&
		!equalStringPtr(old.Spec.LoadBalancerClass, svc.Spec.LoadBalancerClass) {
		errs = append(errs, field.Invalid(spec.Child("loadBalancerClass"), svc.Spec.LoadBalancerClass, "may not change once set"))
	}
	if needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && svc.Spec.HealthCheckNodePort != old.Spec.HealthCheckNodePort {
		errs = append(errs, field.Forbidden(spec.Child("healthCheckNodePort"), "field is immutable"))
	}
	return errs
}

func equalStringPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// validateEndpointIP is ValidateEndpointIP: the addresses that make no sense as a
// destination behind a Service.
func validateEndpointIP(s string, p *field.Path) field.ErrorList {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return field.ErrorList{field.Invalid(p, s, "must be a valid IP address")}
	}
	a = a.Unmap()
	var errs field.ErrorList
	if a.IsUnspecified() {
		errs = append(errs, field.Invalid(p, s, fmt.Sprintf("may not be unspecified (%v)", s)))
	}
	if a.IsLoopback() {
		errs = append(errs, field.Invalid(p, s, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if a.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(p, s, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if a.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(p, s, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

// invalid turns apimachinery's messages about one value into Invalid errors.
func invalid(p *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}

// oneOf is the Required-or-NotSupported check of an enum field.
func oneOf(p *field.Path, value string, supported []string) field.ErrorList {
	switch {
	case value == "":
		return field.ErrorList{field.Required(p, "")}
	case !slices.Contains(supported, value):
		return field.ErrorList{field.NotSupported(p, value, supported)}
	}
	return nil
}
