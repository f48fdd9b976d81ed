package proxy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

// testCert is a self-signed certificate whose common name is cn (how the tests tell
// which one was served).
func testCert(t testing.TB, cn string) *tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{cn}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestPickCert(t *testing.T) {
	foo, wild, any, def := testCert(t, "foo"), testCert(t, "wild"), testCert(t, "any"), testCert(t, "default")
	l := &table.Listener{Certs: []table.Cert{
		{Hosts: []string{"foo.example.com"}, Cert: foo},
		{Hosts: []string{"*.example.com", "*.example.org"}, Cert: wild},
	}, Default: def}
	withAny := &table.Listener{Certs: append(l.Certs, table.Cert{Cert: any}), Default: def}
	noDefault := &table.Listener{Certs: l.Certs}
	for _, tc := range []struct {
		l    *table.Listener
		sni  string
		want *tls.Certificate
	}{
		{l, "foo.example.com", foo},
		{l, "FOO.example.com.", foo},
		{l, "bar.example.com", wild},
		{l, "bar.example.org", wild},
		{l, "a.bar.example.com", def}, // a certificate's wildcard is one label
		{l, "example.com", def},
		{l, "", def},
		{withAny, "other.test", any},
		{withAny, "", def},
		{noDefault, "other.test", nil},
	} {
		if got := pickCert(tc.l, tc.sni); got != tc.want {
			t.Errorf("SNI %q: got %v, want %v", tc.sni, cn(got), cn(tc.want))
		}
	}
}

func cn(c *tls.Certificate) string {
	if c == nil {
		return "none"
	}
	x, _ := x509.ParseCertificate(c.Certificate[0])
	return x.Subject.CommonName
}

// TestHTTPS serves an HTTPS listener as ServePod does, on loopback: SNI picks the
// certificate, HTTP/2 and HTTP/1.1 are both spoken, no match and no default fails
// the handshake.
func TestHTTPS(t *testing.T) {
	a := newBackend(t, "a")
	foo, def := testCert(t, "foo.example.com"), testCert(t, "default")
	tbl := &table.Table{Frontends: map[string]*table.Frontend{"gateway/ns/gw": {Listeners: []*table.Listener{{
		Name: "https", Port: 443, Protocol: "HTTPS",
		Certs:        []table.Cert{{Hosts: []string{"foo.example.com"}, Cert: foo}},
		Default:      def,
		VirtualHosts: []*table.VirtualHost{{Routes: []*table.Route{route(prefix("/"), svc("a", a.addr()))}}},
	}}}}}
	p := New(Options{})
	t.Cleanup(func() { p.Close() })
	p.Update(tbl)
	ps := &PodServer{p: p, frontend: "gateway/ns/gw", pod: "ns/gw-1", fwd: p.forwarder(""), ports: map[int32]*portServer{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := ps.serve(ln, 443, true)
	t.Cleanup(s.close)

	for _, tc := range []struct {
		sni, cn string
		h2      bool
	}{
		{"foo.example.com", "foo.example.com", true},
		{"foo.example.com", "foo.example.com", false},
		{"other.example.com", "default", true},
	} {
		tr := &http.Transport{TLSClientConfig: &tls.Config{ServerName: tc.sni, InsecureSkipVerify: true}, ForceAttemptHTTP2: tc.h2}
		if !tc.h2 {
			tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		}
		c := &http.Client{Transport: tr}
		resp, err := c.Get("https://" + ln.Addr().String() + "/x")
		if err != nil {
			t.Fatalf("SNI %s: %v", tc.sni, err)
		}
		resp.Body.Close()
		tr.CloseIdleConnections()
		got := resp.TLS.PeerCertificates[0].Subject.CommonName
		wantProto := "HTTP/1.1"
		if tc.h2 {
			wantProto = "HTTP/2.0"
		}
		if resp.StatusCode != 200 || got != tc.cn || resp.Proto != wantProto {
			t.Errorf("SNI %s: got %d, certificate %s, %s; want 200, %s, %s", tc.sni, resp.StatusCode, got, resp.Proto, tc.cn, wantProto)
		}
	}
	if e := a.received()[0]; e.Header.Get("X-Forwarded-Proto") != "https" || e.Header.Get("X-Forwarded-Port") != "443" {
		t.Errorf("forwarded over HTTPS: %v", e.Header)
	}

	// Without a Default, a name no certificate has fails the handshake.
	tbl.Frontends["gateway/ns/gw"].Listeners[0].Default = nil
	p.Update(tbl)
	conn, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{ServerName: "other.example.com", InsecureSkipVerify: true})
	if err == nil {
		conn.Close()
		t.Error("no certificate for the name and no default: want a failed handshake")
	}
}
