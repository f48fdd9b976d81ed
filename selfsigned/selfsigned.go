// Package selfsigned makes self-signed TLS keypairs for labs: `podlab create secret
// tls --host`, and the ingress controller's default certificate. Nothing here is meant
// to be trusted outside a lab.
package selfsigned

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"net"
	"time"
)

// Validity is how long a made certificate lasts.
const Validity = 365 * 24 * time.Hour

// Generate makes a certificate for hosts (DNS names, wildcards or IP addresses; the
// first is the subject's common name unless cn is set) and its key, both PEM, as
// `openssl req -x509 -nodes -newkey ec` would.
func Generate(cn string, hosts []string) (certPEM, keyPEM []byte, err error) {
	if cn == "" && len(hosts) > 0 {
		cn = hosts[0]
	}
	return sign(cn, []string{"podlab"}, hosts, Validity, nil)
}

// sign makes a key and a certificate for cn, orgs and hosts (DNS names or IP
// addresses: a serving certificate; none: a client certificate), signed by ca or,
// when ca is nil, by itself; both PEM.
func sign(cn string, orgs, hosts []string, validity time.Duration, ca *CA) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generating a key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(validity),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if len(hosts) > 0 {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		for _, h := range hosts {
			if ip := net.ParseIP(h); ip != nil {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			} else {
				tmpl.DNSNames = append(tmpl.DNSNames, h)
			}
		}
	}
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.Cert, ca.Key
	} else {
		tmpl.BasicConstraintsValid = true
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("signing %s: %w", cn, err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("encoding the key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), nil
}
