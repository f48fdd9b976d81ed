package ingresses

import (
	"strconv"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
)

const nginxPrefix = "nginx.ingress.kubernetes.io/"

// annotations are the ingress-nginx annotations podlab honours, read once per Ingress.
type annotations struct {
	useRegex, forceSSLRedirect bool
	sslRedirect                bool // default true: redirect when the host has TLS
	rewrite                    string
	hasRewrite                 bool
	backendProtocol            string // "HTTP" | "HTTPS"
}

func (a annotations) regex() bool                   { return a.useRegex || a.hasRewrite }
func (a annotations) rewriteTarget() (string, bool) { return a.rewrite, a.hasRewrite }
func (a annotations) protocol() string              { return a.backendProtocol }
func (a annotations) redirect(hostHasTLS bool) bool {
	return a.forceSSLRedirect || (hostHasTLS && a.sslRedirect)
}

func (c *compiler) annotations(ing *networkingv1.Ingress) annotations {
	a := annotations{sslRedirect: true, backendProtocol: "HTTP"}
	boolean := func(name string, def bool) bool {
		v, ok := ing.Annotations[nginxPrefix+name]
		if !ok {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			c.problem(ing, "InvalidAnnotation", "annotation %s%s: %q is not \"true\" or \"false\"; using %v", nginxPrefix, name, v, def)
			return def
		}
		return b
	}
	a.useRegex = boolean("use-regex", false)
	a.sslRedirect = boolean("ssl-redirect", true)
	a.forceSSLRedirect = boolean("force-ssl-redirect", false)
	a.rewrite, a.hasRewrite = ing.Annotations[nginxPrefix+"rewrite-target"]
	if a.hasRewrite && a.rewrite == "" {
		a.hasRewrite = false
	}
	if v, ok := ing.Annotations[nginxPrefix+"backend-protocol"]; ok {
		switch p := strings.ToUpper(v); p {
		case "HTTP", "HTTPS":
			a.backendProtocol = p
		case "GRPC", "GRPCS", "FCGI", "AUTO_HTTP":
			c.problem(ing, "UnsupportedAnnotation", "annotation %sbackend-protocol: %s is not supported by podlab; served as HTTP (use HTTP or HTTPS)", nginxPrefix, p)
		default:
			c.problem(ing, "InvalidAnnotation", "annotation %sbackend-protocol: %q is not one of HTTP, HTTPS, GRPC, GRPCS, AUTO_HTTP, FCGI; served as HTTP", nginxPrefix, v)
		}
	}
	return a
}
