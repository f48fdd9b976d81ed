package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
)

func TestGenerate(t *testing.T) {
	crt, key, err := Generate("", []string{"example.com", "*.example.com", "10.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(crt, key)
	if err != nil {
		t.Fatalf("not a keypair: %v", err)
	}
	c, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject.CommonName != "example.com" {
		t.Errorf("CN %q, want example.com", c.Subject.CommonName)
	}
	for _, h := range []string{"example.com", "foo.example.com", "10.0.0.1"} {
		if err := c.VerifyHostname(h); err != nil {
			t.Errorf("%s: %v", h, err)
		}
	}
	if err := c.VerifyHostname("a.b.example.com"); err == nil {
		t.Error("a wildcard covers one label only")
	}
}
