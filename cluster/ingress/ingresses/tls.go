package ingresses

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sort"
	"strings"

	"podlab.dev/podlab/cluster/ingress/refs"
	"podlab.dev/podlab/cluster/ingress/table"
	"podlab.dev/podlab/selfsigned"
)

// FakeCertName is the default certificate's subject, as ingress-nginx names its own,
// so "curl -vk" shows what a user of ingress-nginx would see.
const FakeCertName = "Kubernetes Ingress Controller Fake Certificate"

// FakeCertificate makes the controller's self-signed default certificate.
func FakeCertificate() (*tls.Certificate, error) {
	crt, key, err := selfsigned.Generate(FakeCertName, []string{"ingress.local"})
	if err != nil {
		return nil, fmt.Errorf("default certificate: %w", err)
	}
	c, err := tls.X509KeyPair(crt, key)
	if err != nil {
		return nil, fmt.Errorf("default certificate: %w", err)
	}
	return &c, nil
}

// certificates is the HTTPS listener's Certs (precise names, then wildcards, longer
// first, then the entries without hosts) and the hostnames that have TLS.
func (c *compiler) certificates(ings []*ingress) ([]table.Cert, map[string]bool) {
	tlsHosts := map[string]bool{}
	var named, any []table.Cert
	for _, ing := range ings {
		for i, t := range ing.Spec.TLS {
			field := fmt.Sprintf("spec.tls[%d]", i)
			cert, source := c.o.DefaultCert, "default"
			if t.SecretName != "" {
				source = ing.Namespace + "/" + t.SecretName
				crt, p := c.certificate(ing, t.SecretName)
				if p != "" {
					c.problem(ing.Ingress, "InvalidCertificate", "%s.secretName: %s; HTTPS is served with the default certificate (%s): create it with kubectl create secret tls %s --cert=tls.crt --key=tls.key -n %s", field, p, FakeCertName, t.SecretName, ing.Namespace)
					cert, source = c.o.DefaultCert, "default"
				} else {
					cert = crt
				}
			}
			if len(t.Hosts) == 0 {
				for _, r := range ing.Spec.Rules {
					tlsHosts[strings.ToLower(r.Host)] = true
				}
				if cert != nil && len(any) == 0 {
					any = append(any, table.Cert{Cert: cert, Source: source})
				}
				continue
			}
			for _, h := range t.Hosts {
				h = strings.ToLower(h)
				if tlsHosts[h] && hasCert(named, h) {
					continue // an older Ingress's certificate serves it, as ingress-nginx keeps the first
				}
				tlsHosts[h] = true
				hc, hs := cert, source
				if cert != nil && cert != c.o.DefaultCert && !names(cert, h) {
					c.problem(ing.Ingress, "InvalidCertificate", "%s: the certificate of secret %s does not name host %q (neither its subjectAltNames nor its CN); HTTPS for it is served with the default certificate: issue the certificate for %s", field, source, h, h)
					hc, hs = c.o.DefaultCert, "default"
				}
				if hc != nil {
					named = append(named, table.Cert{Hosts: []string{h}, Cert: hc, Source: hs})
				}
			}
		}
	}
	sort.SliceStable(named, func(i, j int) bool { return hostBefore(named[i].Hosts[0], named[j].Hosts[0]) })
	return append(named, any...), tlsHosts
}

func hasCert(certs []table.Cert, h string) bool {
	for _, c := range certs {
		if len(c.Hosts) == 1 && c.Hosts[0] == h {
			return true
		}
	}
	return false
}

// certificate loads a TLS Secret of ing's namespace; the string says why not.
func (c *compiler) certificate(ing *ingress, name string) (*tls.Certificate, string) {
	crt, p := refs.Certificate(c.r, ing.Namespace, name)
	if p != nil {
		return nil, p.Message
	}
	return crt, ""
}

// names says whether cert is valid for host (a wildcard host: for one name under it).
func names(cert *tls.Certificate, host string) bool {
	leaf := cert.Leaf
	if leaf == nil {
		if len(cert.Certificate) == 0 {
			return false
		}
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return false
		}
	}
	if strings.HasPrefix(host, "*.") {
		host = "podlab-check" + host[1:]
	}
	if leaf.VerifyHostname(host) == nil {
		return true
	}
	return len(leaf.DNSNames) == 0 && strings.EqualFold(leaf.Subject.CommonName, host) // ingress-nginx still accepts the CN
}
