package workload

import (
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file is Gateway API's conformance echo server, echo-basic
// (kubernetes-sigs/gateway-api-conformance-images echo-basic/echo-basic.go, formerly
// gateway-api conformance/echo-basic): the Gateway API conformance suite reads its
// JSON answers, so they are written as the real one writes them.

// echoContext is what echo-basic says of where it runs, read from its environment at
// start, and the HTTP port it reports.
type echoContext struct {
	Namespace string `json:"namespace"`
	Ingress   string `json:"ingress"`
	Service   string `json:"service"`
	Pod       string `json:"pod"`

	httpPort string
	retries  *echoRetries
}

// echoAssertions is echo-basic's RequestAssertions: its JSON body, field for field.
type echoAssertions struct {
	Path     string              `json:"path"`
	Host     string              `json:"host"`
	Method   string              `json:"method"`
	Proto    string              `json:"proto"`
	Headers  map[string][]string `json:"headers"`
	HTTPPort string              `json:"httpPort"`

	echoContext `json:",inline"`

	TLS *echoTLS `json:"tls,omitempty"`
}

// echoTLS is echo-basic's TLSAssertions.
type echoTLS struct {
	Version            string   `json:"version"`
	PeerCertificates   []string `json:"peerCertificates,omitempty"`
	ServerName         string   `json:"serverName"`
	NegotiatedProtocol string   `json:"negotiatedProtocol,omitempty"`
	CipherSuite        string   `json:"cipherSuite"`
}

// echoBasic is the program echo-basic runs with o's environment: HTTP on $HTTP_PORT
// (3000) and h2c on $H2C_PORT (3001). Its other modes (GRPC_ECHO_SERVER,
// TCP_ECHO_SERVER, UDP_ECHO_SERVER) are not emulated: podlab's own server answers on
// the declared ports instead. HTTPS on $HTTPS_PORT needs the files TLS_SERVER_CERT
// and TLS_SERVER_PRIVKEY name, which a podlab pod does not have: not served.
func echoBasic(o Options) program {
	env := func(name, def string) string {
		if v := o.Env[name]; v != "" {
			return v
		}
		return def
	}
	for _, mode := range []string{"GRPC_ECHO_SERVER", "TCP_ECHO_SERVER", "UDP_ECHO_SERVER"} {
		if o.Env[mode] != "" {
			return plain(o.Ports)
		}
	}
	httpPort, h2cPort := env("HTTP_PORT", "3000"), env("H2C_PORT", "3001")
	hp, err1 := strconv.Atoi(httpPort)
	cp, err2 := strconv.Atoi(h2cPort)
	switch {
	case err1 != nil || err2 != nil || hp < 1 || hp > 65535 || cp < 1 || cp > 65535:
		// The real one panics when it cannot listen: Go's exit code 2.
		return program{exit: &ExitError{Code: 2, Reason: fmt.Sprintf("panic: Failed to start listening: HTTP_PORT %q or H2C_PORT %q is not a port number", httpPort, h2cPort)}}
	case hp == cp:
		return program{exit: &ExitError{Code: 2, Reason: fmt.Sprintf("panic: Failed to start listening: listen tcp :%d: bind: address already in use (HTTP_PORT and H2C_PORT are the same)", hp)}}
	}
	return program{
		sockets: []socket{{Port{hp, "TCP"}, echoHTTP}, {Port{cp, "TCP"}, echoH2C}},
		echo: echoContext{
			Namespace: env("NAMESPACE", o.Namespace),
			Ingress:   o.Env["INGRESS_NAME"],
			Service:   o.Env["SERVICE_NAME"],
			Pod:       env("POD_NAME", o.PodName),
			httpPort:  httpPort,
			retries:   &echoRetries{attempts: map[string]int{}},
		},
	}
}

// echoBasicHandler is echo-basic's HTTP port: /health, /status/NNN, /retry/, /ws, and
// an echo of every other request. podlab's break endpoints live under /podlab/ only
// (see breaks), so every path a conformance test may ask for is echoed.
func (s *Server) echoBasicHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("OK")) })
	mux.HandleFunc("/status/", echoStatus)
	mux.HandleFunc("/retry/", s.echoRetry)
	mux.HandleFunc("/ws", echoWebsocket)
	mux.HandleFunc("/", s.echo)
	return unlessLogged(preserveSlashes(s.breaks(mux, true)))
}

// echoH2CHandler is echo-basic's h2c port: only HTTP/2 (or an h2c upgrade request)
// is echoed.
func (s *Server) echoH2CHandler() http.Handler {
	return unlessLogged(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 && r.Header.Get("Upgrade") != "h2c" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "Expected h2c request")
			return
		}
		s.echo(w, r)
	}))
}

// preserveSlashes is echo-basic's: "//" becomes "/" before routing, so that the mux
// does not redirect it.
func preserveSlashes(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.ReplaceAll(r.URL.Path, "//", "/")
		h.ServeHTTP(w, r)
	})
}

// echo is echo-basic's echoHandler: the request as indented JSON, after ?delay=D,
// with the response headers X-Echo-Set-Header asks for.
func (s *Server) echo(w http.ResponseWriter, r *http.Request) {
	logged(w) // "Echoing back request made to <uri> to client (<addr>)"
	if err := echoDelay(r, "delay"); err != nil {
		echoError(w, err, http.StatusInternalServerError)
		return
	}
	js, err := json.MarshalIndent(echoAssertions{
		Path: r.RequestURI, Host: r.Host, Method: r.Method, Proto: r.Proto, Headers: r.Header,
		HTTPPort: s.prog.echo.httpPort, echoContext: s.prog.echo, TLS: echoTLSOf(r.TLS),
	}, "", " ")
	if err != nil {
		echoError(w, err, http.StatusInternalServerError)
		return
	}
	echoSetHeaders(w, r.Header)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Write(js)
}

// echoSetHeaders is echo-basic's writeEchoResponseHeaders: each X-Echo-Set-Header
// value is "name:value,name:value"; names keep their case, and a name given twice
// gets one value joined by commas.
func echoSetHeaders(w http.ResponseWriter, headers http.Header) {
	for _, list := range headers["X-Echo-Set-Header"] {
		for kv := range strings.SplitSeq(list, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(kv), ":")
			if len(w.Header()[name]) == 0 {
				w.Header()[name] = []string{value}
			} else {
				w.Header()[name][0] += "," + strings.TrimSpace(value)
			}
		}
	}
}

var echoStatusPath = regexp.MustCompile(`^/status/(\d\d\d)$`)

// echoStatus is /status/NNN: that status and no body; 400 for anything else
// (a query included, as the real one matches the raw request target).
func echoStatus(w http.ResponseWriter, r *http.Request) {
	code := http.StatusBadRequest
	if m := echoStatusPath.FindStringSubmatch(r.RequestURI); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	w.WriteHeader(code)
}

// echoRetries counts /retry/ attempts per uuid, for the life of the container.
type echoRetries struct {
	mu       sync.Mutex
	attempts map[string]int
}

// echoRetry is /retry/?uuid=U&succeedAfter=N[&responseCode=C][&delayRetry=D]: the
// first N attempts of U fail (the connection reset, or status C), then it echoes.
func (s *Server) echoRetry(w http.ResponseWriter, r *http.Request) {
	uuid := r.URL.Query().Get("uuid")
	if uuid == "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "uuid is required")
		return
	}
	succeedAfter, err := strconv.Atoi(r.URL.Query().Get("succeedAfter"))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, "succeedAfter is required")
		return
	}
	fail := func(w http.ResponseWriter) error { // a TCP reset
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return err
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			if err := tcp.SetLinger(0); err != nil {
				return err
			}
		}
		return conn.Close()
	}
	if code, err := strconv.Atoi(r.URL.Query().Get("responseCode")); err == nil {
		fail = func(w http.ResponseWriter) error { w.WriteHeader(code); return nil }
	}
	t := s.prog.echo.retries
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.attempts[uuid] < succeedAfter {
		t.attempts[uuid]++
		if err := echoDelay(r, "delayRetry"); err != nil {
			echoError(w, err, http.StatusInternalServerError)
			return
		}
		if err := fail(w); err != nil {
			echoError(w, err, http.StatusInternalServerError)
		}
		return
	}
	s.echo(w, r)
}

// echoWebsocket is /ws. A WebSocket echo is not emulated: a plain request gets the
// real one's 400 for a failed handshake, an upgrade podlab's 501.
func echoWebsocket(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	http.Error(w, "echo-basic's WebSocket echo (/ws) is not emulated by podlab", http.StatusNotImplemented)
}

// echoDelay waits for the duration the request's form value key says, if any.
func echoDelay(r *http.Request, key string) error {
	d := r.FormValue(key)
	if d == "" {
		return nil
	}
	t, err := time.ParseDuration(d)
	if err != nil {
		return err
	}
	select { // as time.Sleep, but a closed server does not wait
	case <-time.After(t):
	case <-r.Context().Done():
	}
	return nil
}

// echoError is echo-basic's processError: {"message": "..."} with code.
func echoError(w http.ResponseWriter, err error, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{err.Error()})
	w.WriteHeader(code)
	w.Write(body)
}

// echoTLSOf is echo-basic's tlsStateToAssertions (nil without TLS).
func echoTLSOf(cs *tls.ConnectionState) *echoTLS {
	if cs == nil {
		return nil
	}
	var st echoTLS
	switch cs.Version {
	case tls.VersionTLS13:
		st.Version = "TLSv1.3"
	case tls.VersionTLS12:
		st.Version = "TLSv1.2"
	case tls.VersionTLS11:
		st.Version = "TLSv1.1"
	case tls.VersionTLS10:
		st.Version = "TLSv1.0"
	}
	st.NegotiatedProtocol = cs.NegotiatedProtocol
	st.ServerName = cs.ServerName
	st.CipherSuite = tls.CipherSuiteName(cs.CipherSuite)
	for _, c := range cs.PeerCertificates {
		st.PeerCertificates = append(st.PeerCertificates, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	return &st
}
