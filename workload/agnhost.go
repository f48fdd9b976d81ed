package workload

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// plainHandler is podlab's own server: / and /hostname give the name, /clientip the
// peer address as seen by the server (ip:port), /echo?msg= echoes, /healthz says ok.
func (s *Server) plainHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", s.hostname)
	mux.HandleFunc("/hostname", s.hostname)
	mux.HandleFunc("/clientip", clientIP)
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	return mux
}

// netexecHandler answers like agnhost netexec's HTTP server. /exit is the break
// layer's, shared by every server.
func (s *Server) netexecHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "NOW: %v", time.Now()) })
	mux.HandleFunc("/hostname", s.hostname)
	mux.HandleFunc("/hostName", s.hostname)
	mux.HandleFunc("/clientip", clientIP)
	mux.HandleFunc("/echo", echo)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if s.prog.noUDP {
			// agnhost is ready once its UDP server runs; with --udp-port=-1 it never is.
			w.WriteHeader(http.StatusPreconditionFailed)
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		code := http.StatusFound
		if c := r.FormValue("code"); c != "" {
			n, err := strconv.Atoi(c)
			if err != nil {
				fmt.Fprintf(w, "argument 'code' must be an integer or empty, got %q\n", c)
				return
			}
			code = n
		}
		http.Redirect(w, r, r.FormValue("location"), code)
	})
	mux.HandleFunc("/shutdown", func(w http.ResponseWriter, r *http.Request) { s.exit(w, 0, 0) })
	for _, p := range []string{"/shell", "/upload", "/dial"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, fmt.Sprintf("agnhost netexec's %s is not implemented by podlab: a podlab pod is a network namespace served by built-in servers, with no processes or files of its own", p), http.StatusNotImplemented)
		})
	}
	return mux
}

// serveHostnameHandler answers like agnhost serve-hostname: the hostname, whatever
// the path.
func (s *Server) serveHostnameHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.prog.close {
			w.Header().Set("Connection", "close")
		}
		s.hostname(w, r)
	})
}

func (s *Server) hostname(w http.ResponseWriter, r *http.Request) {
	fmt.Fprint(w, s.opts.Hostname)
}

func clientIP(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, r.RemoteAddr) }

// echo is netexec's /echo?msg=...&code=...: msg, with status code if given.
func echo(w http.ResponseWriter, r *http.Request) {
	if c := r.FormValue("code"); c != "" {
		code, err := strconv.Atoi(c)
		if err != nil {
			fmt.Fprintf(w, "argument 'code' must be an integer or empty, got %q\n", c)
			return
		}
		w.WriteHeader(code)
	}
	fmt.Fprint(w, r.FormValue("msg"))
}

// Reply is the UDP answer of podlab's own server to one datagram: "hostname" -> the
// name, "clientip" -> the peer ip:port, "echo X" -> X; anything else is echoed back
// unchanged.
func Reply(hostname, msg string, peer net.Addr) string {
	m := strings.TrimRight(msg, "\r\n")
	switch {
	case m == "hostname":
		return hostname
	case m == "clientip":
		return peer.String()
	case strings.HasPrefix(m, "echo "):
		return strings.TrimPrefix(m, "echo ")
	}
	return msg
}

// netexecReply is agnhost netexec's UDP answer: the same commands as Reply, read in
// lower case (so "echo Hi" answers "hi", as the real one does), and no answer at all
// to anything else.
func netexecReply(hostname, msg string, peer net.Addr) (string, bool) {
	m := strings.ToLower(strings.TrimSpace(msg))
	switch {
	case m == "hostname":
		return hostname, true
	case m == "clientip":
		return peer.String(), true
	case strings.HasPrefix(m, "echo "):
		return strings.TrimPrefix(m, "echo "), true
	}
	return "", false
}

// udpReply is what the UDP socket of kind k answers to msg from peer.
func (s *Server) udpReply(k kind, msg string, peer net.Addr) (string, bool) {
	switch k {
	case netexecUDP:
		return netexecReply(s.opts.Hostname, msg, peer)
	case hostnameUDP:
		return s.opts.Hostname, true
	}
	return Reply(s.opts.Hostname, msg, peer), true
}

func (s *Server) serveUDP(c net.PacketConn, k kind) {
	buf := make([]byte, 65535)
	for {
		n, peer, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		msg := string(buf[:n])
		if out, ok := s.udpReply(k, msg, peer); ok {
			c.WriteTo([]byte(out), peer)
			if s.opts.OnRequest != nil {
				s.opts.OnRequest(Request{Time: time.Now(), Client: peer.String(), UDP: true, URI: msg, Bytes: len(out)})
			}
		}
	}
}

// serveHostnameTCP is serve-hostname --tcp: write the name and hang up.
func (s *Server) serveHostnameTCP(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		c.Write([]byte(s.opts.Hostname))
		c.Close()
	}
}
