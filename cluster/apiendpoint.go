package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"podlab.dev/podlab/nsutil"
	"podlab.dev/podlab/plan"
)

// apiEndpoint is what answers behind the `kubernetes` Service: port 6443 of the
// control-plane node, over TLS with a certificate for the names kubeadm puts in the
// API server's. Until the lab serves the Kubernetes API there (a later version), it
// answers as an API server answers an anonymous client: /version, /healthz, /livez
// and /readyz for everyone (kubeadm's system:public-info-viewer), 403 for the rest.
type apiEndpoint struct {
	srv *http.Server
}

// serveAPIEndpoint opens :6443 in node n's namespace (at path).
func serveAPIEndpoint(p *plan.Plan, n *plan.Node, path string) (*apiEndpoint, error) {
	cert, err := apiServerCert(p, n)
	if err != nil {
		return nil, err
	}
	var ln net.Listener
	if err := nsutil.Do(path, func() (err error) {
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", APIServerPort))
		return err
	}); err != nil {
		return nil, fmt.Errorf("kubernetes endpoint on node %s: %w", n.Name, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(anonymousAPI), ReadHeaderTimeout: 5 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}}
	go srv.ServeTLS(ln, "", "")
	return &apiEndpoint{srv: srv}, nil
}

func (a *apiEndpoint) Close() error { return a.srv.Close() }

// anonymousAPI answers what an API server lets system:anonymous see.
func anonymousAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch path := strings.TrimSuffix(r.URL.Path, "/"); {
	case path == "/version" && r.Method == http.MethodGet:
		json.NewEncoder(w).Encode(map[string]string{
			"major": "1", "minor": strings.Split(KubeletVersion, ".")[1], "gitVersion": KubeletVersion,
			"gitCommit": "podlab", "gitTreeState": "clean", "buildDate": "2024-12-11T00:00:00Z",
			"goVersion": runtime.Version(), "compiler": runtime.Compiler, "platform": runtime.GOOS + "/" + runtime.GOARCH})
	case path == "/healthz" || path == "/livez" || path == "/readyz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "ok")
	default:
		if path == "" {
			path = "/"
		}
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]any{
			"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{}, "status": "Failure",
			"message": fmt.Sprintf("forbidden: User \"system:anonymous\" cannot %s path %q", strings.ToLower(r.Method), path),
			"reason":  "Forbidden", "details": map[string]any{}, "code": http.StatusForbidden})
	}
}

// apiServerCert is a self-signed serving certificate with the names and addresses
// kubeadm gives the API server's: the node's name and address, the kubernetes
// Service's names in the cluster domain and its ClusterIP.
func apiServerCert(p *plan.Plan, n *plan.Node) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	svcIP := p.Cluster.ServiceCIDR.Masked().Addr().Next()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "kube-apiserver"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{n.Name, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc." + p.Cluster.Domain},
		IPAddresses: []net.IP{net.IP(svcIP.AsSlice()), net.IP(n.IP.Addr().AsSlice()), net.IP(netip.MustParseAddr("127.0.0.1").AsSlice())},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
