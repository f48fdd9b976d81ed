package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"podlab.dev/podlab/selfsigned"
)

// The lab's Kubernetes API for the real kubectl (`podlab kubeconfig`): HTTPS on the
// machine's loopback only, with a CA of the lab's own (state dir kubeapi/), a serving
// certificate for 127.0.0.1 and localhost, and one client certificate (CN
// kubernetes-admin, O system:masters, as kubeadm's admin.conf) that the kubeconfig
// carries. The files outlive a supervisor restart, and the port is taken again when it
// is free, so a kubeconfig stays good as long as the lab runs.
const (
	kubeAPIDir     = "kubeapi"
	kubeAPIAddr    = "addr"      // host:port the API listens on
	kubeAPIHost    = "127.0.0.1" // never another address: the API is the machine's only
	kubeAdminUser  = "kubernetes-admin"
	kubeAdminGroup = "system:masters"
	kubeCertLife   = 365 * 24 * time.Hour
)

// KubeAPIFiles are the paths of a lab's API credentials, for `podlab kubeconfig`.
type KubeAPIFiles struct{ Dir string }

// KubeAPIFilesOf are lab directory dir's API files.
func KubeAPIFilesOf(labDir string) KubeAPIFiles {
	return KubeAPIFiles{Dir: filepath.Join(labDir, kubeAPIDir)}
}

func (f KubeAPIFiles) path(name string) string { return filepath.Join(f.Dir, name) }

// CA, Client and Addr read what the kubeconfig needs.
func (f KubeAPIFiles) CA() ([]byte, error) { return os.ReadFile(f.path("ca.crt")) }
func (f KubeAPIFiles) Client() (cert, key []byte, err error) {
	if cert, err = os.ReadFile(f.path("admin.crt")); err != nil {
		return nil, nil, err
	}
	key, err = os.ReadFile(f.path("admin.key"))
	return cert, key, err
}
func (f KubeAPIFiles) Addr() (string, error) {
	b, err := os.ReadFile(f.path(kubeAPIAddr))
	return strings.TrimSpace(string(b)), err
}

// ensurePKI makes the lab's CA and certificates on the first start and loads them.
func (f KubeAPIFiles) ensurePKI() (serving tls.Certificate, pool *x509.CertPool, err error) {
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return serving, nil, err
	}
	caCert, errC := os.ReadFile(f.path("ca.crt"))
	caKey, errK := os.ReadFile(f.path("ca.key"))
	var ca *selfsigned.CA
	if errC == nil && errK == nil {
		ca, err = selfsigned.LoadCA(caCert, caKey)
	}
	if ca == nil || err != nil {
		if ca, err = selfsigned.NewCA("kubernetes"); err != nil {
			return serving, nil, err
		}
		if err := f.write(map[string][]byte{"ca.crt": ca.CertPEM, "ca.key": ca.KeyPEM}); err != nil {
			return serving, nil, err
		}
		os.Remove(f.path("apiserver.crt"))
		os.Remove(f.path("admin.crt"))
	}
	pool = x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, c := range []struct {
		name, cn string
		orgs     []string
		hosts    []string
	}{
		{"apiserver", "kube-apiserver", nil, []string{kubeAPIHost, "localhost"}},
		{"admin", kubeAdminUser, []string{kubeAdminGroup}, nil},
	} {
		if _, err := tls.LoadX509KeyPair(f.path(c.name+".crt"), f.path(c.name+".key")); err == nil {
			continue
		}
		crt, key, err := ca.Issue(c.cn, c.orgs, c.hosts, kubeCertLife)
		if err != nil {
			return serving, nil, err
		}
		if err := f.write(map[string][]byte{c.name + ".key": key, c.name + ".crt": crt}); err != nil {
			return serving, nil, err
		}
	}
	serving, err = tls.LoadX509KeyPair(f.path("apiserver.crt"), f.path("apiserver.key"))
	return serving, pool, err
}

func (f KubeAPIFiles) write(files map[string][]byte) error {
	for name, data := range files {
		if err := os.WriteFile(f.path(name), data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// listenKubeAPI listens on the port the lab had before when it is free, else on a new
// one, and records it.
func (f KubeAPIFiles) listen() (net.Listener, error) {
	if old, err := f.Addr(); err == nil && old != "" {
		if ln, err := net.Listen("tcp", old); err == nil {
			return ln, nil
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(kubeAPIHost, "0"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(f.path(kubeAPIAddr), []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// serveKubeAPI serves the lab's Kubernetes API until ctx ends. A request must carry a
// client certificate of the lab's CA, except the few paths an API server answers
// anonymously (/version, /healthz, /livez, /readyz).
func (s *Supervisor) serveKubeAPI(ctx context.Context) error {
	h, ok := any(s).(interface{ KubeAPI() http.Handler })
	if !ok || os.Getenv("PODLAB_KUBEAPI") == "off" { // off: for measuring what the API costs
		return nil
	}
	f := KubeAPIFilesOf(s.dir.Path())
	cert, pool, err := f.ensurePKI()
	if err != nil {
		return fmt.Errorf("kube API certificates: %w", err)
	}
	ln, err := f.listen()
	if err != nil {
		return fmt.Errorf("kube API: %w", err)
	}
	srv := &http.Server{
		Handler:           authenticated(h.KubeAPI()),
		ReadHeaderTimeout: 10 * time.Second,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool,
			ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}},
		ErrorLog: log.New(io.Discard, "", 0), // clients that drop connections are not news
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// anonymous are the paths an API server answers without credentials.
var anonymous = map[string]bool{"/version": true, "/healthz": true, "/livez": true, "/readyz": true}

// authenticated answers 401 as an API server does to a request without a client
// certificate of the lab (the TLS handshake already checked the one given).
func authenticated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			if !anonymous[r.URL.Path] {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`+"\n")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}
