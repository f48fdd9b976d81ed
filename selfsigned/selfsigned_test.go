package selfsigned

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"
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

func TestCA(t *testing.T) {
	ca, err := NewCA("kubernetes")
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadCA(ca.CertPEM, ca.KeyPEM)
	if err != nil || !again.Cert.Equal(ca.Cert) {
		t.Fatalf("LoadCA: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	srv, _, err := again.Issue("kube-apiserver", nil, []string{"127.0.0.1", "localhost"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cli, _, err := ca.Issue("kubernetes-admin", []string{"system:masters"}, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	parse := func(b []byte) *x509.Certificate {
		blk, _ := pem.Decode(b)
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, err := parse(srv).Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"}); err != nil {
		t.Errorf("serving certificate: %v", err)
	}
	c := parse(cli)
	if _, err := c.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client certificate: %v", err)
	}
	if c.Subject.CommonName != "kubernetes-admin" || c.Subject.Organization[0] != "system:masters" {
		t.Errorf("client subject %v", c.Subject)
	}
}
