package workload

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.53"

func TestEmulatedPorts(t *testing.T) {
	tcp := func(p int) Port { return Port{p, "TCP"} }
	udp := func(p int) Port { return Port{p, "UDP"} }
	declared := []Port{{8080, ""}, {53, "udp"}, {9999, "SCTP"}}
	for _, tc := range []struct {
		name          string
		image         string
		command, args []string
		want          []Port
	}{
		{"nginx ignores declared ports", "nginx:1.27", nil, nil, []Port{tcp(80)}},
		{"nginx by registry and digest", "docker.io/library/nginx:1.27@sha256:0123", nil, nil, []Port{tcp(80)}},
		{"nginx from a registry with a port", "localhost:5000/nginx", nil, nil, []Port{tcp(80)}},
		{"nginx args that run nginx", "nginx", nil, []string{"nginx", "-g", "daemon off;"}, []Port{tcp(80)}},
		{"nginx running something else", "nginx", []string{"sh", "-c", "sleep 1d"}, nil, []Port{tcp(8080), udp(53)}},
		{"httpd", "httpd:2.4", nil, nil, []Port{tcp(80)}},
		{"netexec defaults", agnhost, nil, []string{"netexec"}, []Port{tcp(8080), udp(8081)}},
		{"netexec flags", agnhost, nil, []string{"netexec", "--http-port=9000", "--udp-port", "-1"}, []Port{tcp(9000)}},
		{"netexec as command", agnhost, []string{"/agnhost", "netexec", "--http-port", "8000"}, nil, []Port{tcp(8000), udp(8081)}},
		{"netexec --http-port=N --udp-port=N", agnhost, nil, []string{"netexec", "--http-port=8080", "--udp-port=9001"}, []Port{tcp(8080), udp(9001)}},
		{"netexec --http-port N --udp-port N", agnhost, nil, []string{"netexec", "--udp-port", "9001", "--http-port", "9002"}, []Port{tcp(9002), udp(9001)}},
		{"echo-basic ignores declared ports", "gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd", nil, nil, []Port{tcp(3000), tcp(3001)}},
		{"echo-basic from registry.k8s.io", "registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0", nil, nil, []Port{tcp(3000), tcp(3001)}},
		{"ingress conformance echoserver", "gcr.io/k8s-staging-ingressconformance/echoserver:v20220815-e21d1a4", nil, nil, []Port{tcp(3000), tcp(3001)}},
		{"e2e echoserver is another image", "registry.k8s.io/echoserver:1.10", nil, nil, []Port{tcp(8080), udp(53)}},
		{"echo-basic running something else", "registry.k8s.io/gateway-api/echo-basic:v1.5.1", []string{"sleep", "1d"}, nil, []Port{tcp(8080), udp(53)}},
		{"serve-hostname defaults", agnhost, nil, []string{"serve-hostname"}, []Port{tcp(9376)}},
		{"serve-hostname raw tcp", agnhost, nil, []string{"serve-hostname", "--tcp", "--http=false", "--port", "9000"}, []Port{tcp(9000)}},
		{"serve-hostname raw udp", agnhost, nil, []string{"serve-hostname", "--udp", "--http=false"}, []Port{udp(9376)}},
		{"serve-hostname tcp and http exits", agnhost, nil, []string{"serve-hostname", "--tcp"}, []Port{}},
		{"agnhost pause", agnhost, nil, nil, []Port{}},
		{"agnhost subcommand not emulated", agnhost, nil, []string{"liveness"}, []Port{tcp(8080), udp(53)}},
		{"other image", "busybox", []string{"sleep", "3600"}, nil, []Port{tcp(8080), udp(53)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := EmulatedPorts(tc.image, tc.command, tc.args, declared)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("EmulatedPorts = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStartExits(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"serve-hostname", "--udp"}, 1, "--http=false"},
		{[]string{"netexec", "--http-port=web"}, 1, `invalid argument "web" for "--http-port"`},
		{[]string{"netexec", "extra"}, 1, `unexpected argument "extra"`},
	} {
		_, err := StartPod(Options{Image: agnhost, Args: tc.args})
		var exit *ExitError
		if !errors.As(err, &exit) || exit.Code != tc.code || !strings.Contains(exit.Reason, tc.says) {
			t.Errorf("StartPod(args %q) = %v, want exit %d saying %q", tc.args, err, tc.code, tc.says)
		}
	}
}

// get asks h for path and returns the status, the body and the Server header.
func get(t *testing.T, h http.Handler, method, path string) (int, string, string) {
	t.Helper()
	if h == nil {
		t.Fatalf("%s %s: no HTTP handler on this port", method, path)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(method, srv.URL+path, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("Server")
}

func TestHTTP(t *testing.T) {
	nginx := Options{Image: "nginx:1.27"}
	httpd := Options{Image: "httpd:2.4"}
	netexec := Options{Hostname: "web-1", Image: agnhost, Args: []string{"netexec"}}
	noUDP := Options{Hostname: "web-1", Image: agnhost, Args: []string{"netexec", "--udp-port=-1"}}
	hostname := Options{Hostname: "web-1", Image: agnhost, Args: []string{"serve-hostname"}}
	plain := Options{Hostname: "web-1", Ports: []Port{{8080, "TCP"}}}
	for _, tc := range []struct {
		opts         Options
		port         int
		method, path string
		code         int
		body         string // exact, or a prefix when it ends in "..."
		server       string
	}{
		{nginx, 80, "GET", "/", 200, nginxIndex, "nginx"},
		{nginx, 80, "GET", "/index.html", 200, nginxIndex, "nginx"},
		{nginx, 80, "GET", "/nope", 404, "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n", "nginx"},
		{nginx, 80, "POST", "/", 405, "<html>\r\n<head><title>405 Not Allowed</title>...", "nginx"},
		{nginx, 80, "GET", "/healthz", 200, "ok", "nginx"},
		{nginx, 80, "GET", "/readyz", 200, "ok", ""},
		{httpd, 80, "GET", "/", 200, "<html><body><h1>It works!</h1></body></html>\n", "Apache"},
		{httpd, 80, "GET", "/nope", 404, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>...", "Apache"},
		{netexec, 8080, "GET", "/", 200, "NOW: ...", ""},
		{netexec, 8080, "GET", "/anything", 200, "NOW: ...", ""},
		{netexec, 8080, "GET", "/hostname", 200, "web-1", ""},
		{netexec, 8080, "GET", "/hostName", 200, "web-1", ""},
		{netexec, 8080, "GET", "/echo?msg=hi&code=201", 201, "hi", ""},
		{netexec, 8080, "GET", "/healthz", 200, "", ""},
		{netexec, 8080, "GET", "/shell?cmd=ls", 501, "agnhost netexec's /shell is not implemented by podlab...", ""},
		{netexec, 8080, "GET", "/exit", 409, "this pod has no kubelet...", ""},
		{noUDP, 8080, "GET", "/healthz", 412, "", ""},
		{hostname, 9376, "GET", "/any/path", 200, "web-1", ""},
		{plain, 8080, "GET", "/", 200, "web-1", ""},
		{plain, 8080, "GET", "/echo?msg=hi", 200, "hi", ""},
		{plain, 8080, "GET", "/clientip", 200, "127.0.0.1:...", ""},
		{plain, 8080, "GET", "/healthz", 200, "ok", ""},
		{plain, 8080, "GET", "/livez", 200, "ok", ""},
		{plain, 8080, "GET", "/nope", 404, "404 page not found\n", ""},
	} {
		t.Run(tc.opts.Image+" "+tc.method+" "+tc.path, func(t *testing.T) {
			code, body, server := get(t, New(tc.opts).Handler(tc.port), tc.method, tc.path)
			prefix, isPrefix := strings.CutSuffix(tc.body, "...")
			if code != tc.code || isPrefix && !strings.HasPrefix(body, prefix) || !isPrefix && body != tc.body || server != tc.server {
				t.Errorf("got %d %q (Server %q), want %d %q (Server %q)", code, body, server, tc.code, tc.body, tc.server)
			}
		})
	}
	if len(nginxIndex) != 615 {
		t.Errorf("nginx's index.html has %d bytes, want 615", len(nginxIndex))
	}
	if h := New(nginx).Handler(8080); h != nil {
		t.Errorf("nginx serves HTTP on 8080, want only 80")
	}
}

func TestBreakEndpoints(t *testing.T) {
	s := New(Options{Hostname: "web-1", Image: "nginx"})
	h := s.Handler(80)
	for _, step := range []struct {
		path                   string
		healthz, readyz, livez int
		ready, live            bool
	}{
		{"/podlab/fail-readiness", 503, 503, 200, false, true},
		{"/podlab/recover", 200, 200, 200, true, true},
		{"/podlab/fail-liveness", 503, 200, 503, true, false},
		{"/podlab/fail-readiness", 503, 503, 503, false, false},
		{"/podlab/recover", 200, 200, 200, true, true},
	} {
		if code, _, _ := get(t, h, "GET", step.path); code != 200 {
			t.Fatalf("GET %s = %d", step.path, code)
		}
		for path, want := range map[string]int{"/healthz": step.healthz, "/readyz": step.readyz, "/livez": step.livez} {
			if code, _, _ := get(t, h, "GET", path); code != want {
				t.Errorf("after %s: GET %s = %d, want %d", step.path, path, code, want)
			}
		}
		if s.Ready() != step.ready || s.Live() != step.live || s.Healthy() != (step.ready && step.live) {
			t.Errorf("after %s: Ready %v Live %v Healthy %v, want %v %v", step.path, s.Ready(), s.Live(), s.Healthy(), step.ready, step.live)
		}
	}
}

func TestExitEndpoint(t *testing.T) {
	for _, tc := range []struct {
		path string
		code int // the status of the first request
		exit int // -1: OnExit is not called
	}{
		{"/exit?code=3", 200, 3},
		{"/exit", 200, 0},
		{"/exit?code=3&wait=10ms", 200, 3},
		{"/exit?code=three", 400, -1},
		{"/exit?wait=soon", 400, -1},
	} {
		t.Run(tc.path, func(t *testing.T) {
			exits := make(chan int, 2)
			h := New(Options{Hostname: "web-1", OnExit: func(code int) { exits <- code }}).handler(plainHTTP)
			if code, body, _ := get(t, h, "GET", tc.path); code != tc.code {
				t.Fatalf("GET %s = %d %q, want %d", tc.path, code, body, tc.code)
			}
			if tc.exit < 0 {
				return
			}
			if code, _, _ := get(t, h, "GET", tc.path); code != 409 {
				t.Errorf("second GET %s = %d, want 409 (already exiting)", tc.path, code)
			}
			select {
			case got := <-exits:
				if got != tc.exit {
					t.Errorf("OnExit(%d), want OnExit(%d)", got, tc.exit)
				}
			case <-time.After(2 * time.Second):
				t.Fatal("OnExit was not called")
			}
		})
	}
}

func TestReply(t *testing.T) {
	peer := &net.UDPAddr{IP: net.IPv4(10, 244, 1, 2), Port: 4000}
	for _, tc := range []struct {
		k        kind
		msg      string
		want     string
		answered bool
	}{
		{plainUDP, "hostname", "web-1", true},
		{plainUDP, "hostname\n", "web-1", true},
		{plainUDP, "clientip", "10.244.1.2:4000", true},
		{plainUDP, "echo hi", "hi", true},
		{plainUDP, "other", "other", true},
		{netexecUDP, "HOSTNAME\n", "web-1", true},
		{netexecUDP, "echo Hi", "hi", true},
		{netexecUDP, "other", "", false},
		{hostnameUDP, "anything", "web-1", true},
	} {
		got, ok := New(Options{Hostname: "web-1"}).udpReply(tc.k, tc.msg, peer)
		if got != tc.want || ok != tc.answered {
			t.Errorf("kind %d: reply to %q = %q, %v; want %q, %v", tc.k, tc.msg, got, ok, tc.want, tc.answered)
		}
	}
}

// freePort is a port nothing listens on a moment ago.
func freePort(t *testing.T, network string) int {
	t.Helper()
	var addr net.Addr
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		addr = c.LocalAddr()
	} else {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addr = l.Addr()
	}
	_, port, _ := net.SplitHostPort(addr.String())
	n, _ := strconv.Atoi(port)
	return n
}

// TestStartPod opens real sockets in the test's own namespace (NetnsPath "").
func TestStartPod(t *testing.T) {
	httpPort, udpPort, rawPort := freePort(t, "tcp"), freePort(t, "udp"), freePort(t, "tcp")
	netexec, err := StartPod(Options{Hostname: "web-1", Image: agnhost, Args: []string{"netexec", "--http-port=" + strconv.Itoa(httpPort), "--udp-port=" + strconv.Itoa(udpPort)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(netexec.Close)
	raw, err := StartPod(Options{Hostname: "web-2", Image: agnhost, Args: []string{"serve-hostname", "--tcp", "--http=false", "--port=" + strconv.Itoa(rawPort)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(raw.Close)

	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(httpPort) + "/hostname")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "web-1" {
		t.Errorf("netexec /hostname = %q, want web-1", b)
	}
	for _, tc := range []struct{ network, send, want string }{
		{"udp", "hostname", "web-1"},
		{"tcp", "", "web-2"},
	} {
		port := udpPort
		if tc.network == "tcp" {
			port = rawPort
		}
		c, err := net.Dial(tc.network, "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(2 * time.Second))
		if tc.send != "" {
			c.Write([]byte(tc.send))
		}
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		c.Close()
		if string(buf[:n]) != tc.want {
			t.Errorf("%s %d answered %q (%v), want %q", tc.network, port, buf[:n], err, tc.want)
		}
	}

	netexec.Close()
	if _, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(httpPort)); err == nil {
		t.Errorf("port %d still open after Close", httpPort)
	}
}

func TestLegacyHandler(t *testing.T) {
	for path, want := range map[string]string{"/": "web-1", "/hostname": "web-1", "/echo?msg=hi": "hi", "/healthz": "ok"} {
		if code, body, _ := get(t, Handler("web-1"), "GET", path); code != 200 || body != want {
			t.Errorf("GET %s = %d %q, want %q", path, code, body, want)
		}
	}
}
