package topology

import (
	"fmt"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	fieldpath "k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// ingress checks an Ingress as the API server does
// (k8s.io/kubernetes/pkg/apis/networking/validation ValidateIngressSpec for v1), with
// its messages; pathType values are checked with the other enums.
func (d *doc) ingress(obj any) {
	ing := obj.(*networkingv1.Ingress)
	errs := validateIngressSpec(&ing.Spec, fieldpath.NewPath("spec"))
	// ValidateIngressCreate: the deprecated class annotation may stay beside the field
	// only when they agree.
	if v, ok := ing.Annotations[classAnnotation]; ok && ing.Spec.IngressClassName != nil && v != *ing.Spec.IngressClassName {
		errs = append(errs, fieldpath.Invalid(fieldpath.NewPath("metadata", "annotations").Key(classAnnotation), v,
			"must match `ingressClassName` when both are specified"))
	}
	d.report(errs, ingressHint)
}

// classAnnotation is the Ingress class before spec.ingressClassName (deprecated).
const classAnnotation = "kubernetes.io/ingress.class"

// ingressClass checks an IngressClass's controller as the API server does.
func (d *doc) ingressClass(obj any) {
	ic := obj.(*networkingv1.IngressClass)
	errs := validation.IsDomainPrefixedPath(fieldpath.NewPath("spec", "controller"), ic.Spec.Controller)
	d.report(errs, func(*fieldpath.Error) string {
		return "controller names the ingress controller as a domain-prefixed path, e.g. k8s.io/ingress-nginx"
	})
}

// report adds the API server's field errors at the line of the field each names,
// with the hint hint gives (may be "").
func (d *doc) report(errs fieldpath.ErrorList, hint func(*fieldpath.Error) string) {
	for _, e := range errs {
		d.e.add(d.at(e.Field), field(d.label, e.Field), hint(e), "%s", e.ErrorBody())
	}
}

var (
	invalidIngressPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidIngressPathSuffixes  = []string{"/..", "/."}
)

func validateIngressSpec(spec *networkingv1.IngressSpec, path *fieldpath.Path) fieldpath.ErrorList {
	var errs fieldpath.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		errs = append(errs, fieldpath.Invalid(path, spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(spec.DefaultBackend, path.Child("defaultBackend"))...)
	}
	for i, r := range spec.Rules {
		p := path.Child("rules").Index(i)
		if r.Host != "" {
			errs = append(errs, validateIngressHost(r.Host, p.Child("host"), true)...)
		}
		if r.HTTP == nil {
			continue
		}
		if len(r.HTTP.Paths) == 0 {
			errs = append(errs, fieldpath.Required(p.Child("http", "paths"), ""))
		}
		for j := range r.HTTP.Paths {
			errs = append(errs, validateIngressPath(&r.HTTP.Paths[j], p.Child("http", "paths").Index(j))...)
		}
	}
	for i, tls := range spec.TLS {
		p := path.Child("tls").Index(i)
		for j, h := range tls.Hosts {
			errs = append(errs, validateIngressHost(h, p.Child("hosts").Index(j), false)...)
		}
		if tls.SecretName != "" {
			for _, msg := range validation.IsDNS1123Subdomain(tls.SecretName) {
				errs = append(errs, fieldpath.Invalid(p.Child("secretName"), tls.SecretName, msg))
			}
		}
	}
	if spec.IngressClassName != nil {
		for _, msg := range validation.IsDNS1123Subdomain(*spec.IngressClassName) {
			errs = append(errs, fieldpath.Invalid(path.Child("ingressClassName"), *spec.IngressClassName, msg))
		}
	}
	return errs
}

// validateIngressHost is a rule's (rule) or a TLS entry's host: a lower-case DNS
// name, "*" only as the whole first label; a rule's host may not be an IP.
func validateIngressHost(host string, path *fieldpath.Path, rule bool) fieldpath.ErrorList {
	var errs fieldpath.ErrorList
	if rule && netutils.ParseIPSloppy(host) != nil {
		errs = append(errs, fieldpath.Invalid(path, host, "must be a DNS name, not an IP address"))
	}
	check := validation.IsDNS1123Subdomain
	if strings.Contains(host, "*") {
		check = validation.IsWildcardDNS1123Subdomain
	}
	for _, msg := range check(host) {
		errs = append(errs, fieldpath.Invalid(path, host, msg))
	}
	return errs
}

func validateIngressPath(p *networkingv1.HTTPIngressPath, path *fieldpath.Path) fieldpath.ErrorList {
	var errs fieldpath.ErrorList
	if p.PathType == nil {
		return append(errs, fieldpath.Required(path.Child("pathType"), "pathType must be specified"))
	}
	switch *p.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, fieldpath.Invalid(path.Child("path"), p.Path, "must be an absolute path"))
		}
		for _, seq := range invalidIngressPathSequences {
			if strings.Contains(p.Path, seq) {
				errs = append(errs, fieldpath.Invalid(path.Child("path"), p.Path, fmt.Sprintf("must not contain '%s'", seq)))
			}
		}
		for _, suffix := range invalidIngressPathSuffixes {
			if strings.HasSuffix(p.Path, suffix) {
				errs = append(errs, fieldpath.Invalid(path.Child("path"), p.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if p.Path != "" && !strings.HasPrefix(p.Path, "/") {
			errs = append(errs, fieldpath.Invalid(path.Child("path"), p.Path, "must be an absolute path"))
		}
	}
	return append(errs, validateIngressBackend(&p.Backend, path.Child("backend"))...)
}

func validateIngressBackend(b *networkingv1.IngressBackend, path *fieldpath.Path) fieldpath.ErrorList {
	var errs fieldpath.ErrorList
	switch {
	case b.Resource != nil && b.Service != nil:
		errs = append(errs, fieldpath.Invalid(path, "", "cannot set both resource and service backends"))
	case b.Resource != nil:
		r := b.Resource
		if r.APIGroup != nil {
			for _, msg := range validation.IsDNS1123Subdomain(*r.APIGroup) {
				errs = append(errs, fieldpath.Invalid(path.Child("resource", "apiGroup"), *r.APIGroup, msg))
			}
		}
		if r.Kind == "" {
			errs = append(errs, fieldpath.Required(path.Child("resource", "kind"), "kind is required"))
		}
		if r.Name == "" {
			errs = append(errs, fieldpath.Required(path.Child("resource", "name"), "name is required"))
		}
	case b.Service != nil:
		s := b.Service
		if s.Name == "" {
			errs = append(errs, fieldpath.Required(path.Child("service", "name"), ""))
		} else {
			for _, msg := range validation.IsDNS1035Label(s.Name) {
				errs = append(errs, fieldpath.Invalid(path.Child("service", "name"), s.Name, msg))
			}
		}
		hasName, hasNumber := s.Port.Name != "", s.Port.Number != 0
		switch {
		case hasName && hasNumber:
			errs = append(errs, fieldpath.Invalid(path, "", "cannot set both port name & port number"))
		case hasName:
			for _, msg := range validation.IsValidPortName(s.Port.Name) {
				errs = append(errs, fieldpath.Invalid(path.Child("service", "port", "name"), s.Port.Name, msg))
			}
		case hasNumber:
			for _, msg := range validation.IsValidPortNum(int(s.Port.Number)) {
				errs = append(errs, fieldpath.Invalid(path.Child("service", "port", "number"), s.Port.Number, msg))
			}
		default:
			errs = append(errs, fieldpath.Required(path, "port name or number is required"))
		}
	default:
		errs = append(errs, fieldpath.Invalid(path, "", "resource or service backend is required"))
	}
	return errs
}

// ingressHint says how to fix what the API server's message names.
func ingressHint(e *fieldpath.Error) string {
	leaf := e.Field[strings.LastIndexAny(e.Field, ".]")+1:]
	switch {
	case e.Detail == "pathType must be specified":
		return "networking.k8s.io/v1 has no default: add pathType: Prefix (/foo matches /foo and /foo/bar)\nor pathType: Exact (only /foo)"
	case e.Detail == "must be an absolute path":
		return "start the path with /, e.g. path: /api"
	case strings.HasPrefix(e.Detail, "must not contain") || strings.HasPrefix(e.Detail, "cannot end with"):
		return "write the path as a request would carry it after normalization, e.g. /api/v1"
	case e.Detail == "must be a DNS name, not an IP address":
		return "Ingress matches host names: leave host out to match every host,\nor use a name (curl --resolve app.example.com:80:ADDRESS http://app.example.com/)"
	case leaf == "host" || strings.Contains(e.Field, ".hosts["):
		return "a host is a lower-case DNS name without scheme, port or path, e.g. app.example.com,\nor *.example.com (\"*\" alone as the first label)"
	case strings.Contains(e.Detail, "either `defaultBackend` or `rules`"):
		return "add rules (host and paths to Services) or a defaultBackend that answers every request"
	case strings.Contains(e.Detail, "port name & port number"):
		return "give the Service's port as number: 80 or as name: http, not both"
	case e.Detail == "port name or number is required":
		return "add the Service's port (not the targetPort):\n  service:\n    name: web\n    port:\n      number: 80"
	case strings.Contains(e.Detail, "backend"):
		return "a backend is a Service:\n  backend:\n    service:\n      name: web\n      port:\n        number: 80\nor a resource (apiGroup, kind, name), not both"
	case strings.Contains(e.Detail, "must match `ingressClassName`"):
		return "the kubernetes.io/ingress.class annotation is deprecated: drop it and keep spec.ingressClassName"
	case leaf == "ingressClassName":
		return "ingressClassName names an IngressClass (podlab get ingressclass), e.g. nginx"
	case leaf == "controller":
		return "controller names the ingress controller as a domain-prefixed path, e.g. k8s.io/ingress-nginx"
	}
	return ""
}
