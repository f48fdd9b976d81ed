package workload

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var echoBasicImage = "gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd"

// The environment moves echo-basic's ports as HTTP_PORT and H2C_PORT do; its other
// modes are podlab's own server; a port that is not a number exits as its panic does.
func TestEchoBasicPorts(t *testing.T) {
	tcp := func(p int) Port { return Port{p, "TCP"} }
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []Port
		exit int // 0: none
	}{
		{"defaults", nil, []Port{tcp(3000), tcp(3001)}, 0},
		{"HTTP_PORT", map[string]string{"HTTP_PORT": "8080"}, []Port{tcp(8080), tcp(3001)}, 0},
		{"H2C_PORT", map[string]string{"H2C_PORT": "8081"}, []Port{tcp(3000), tcp(8081)}, 0},
		{"TCP mode is not emulated", map[string]string{"TCP_ECHO_SERVER": "1"}, []Port{tcp(9000)}, 0},
		{"port not a number", map[string]string{"HTTP_PORT": "web"}, []Port{}, 2},
		{"same port twice", map[string]string{"HTTP_PORT": "3001"}, []Port{}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Image: echoBasicImage, Env: tc.env, Ports: []Port{tcp(9000)}}
			if got := o.EmulatedPorts(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("EmulatedPorts = %v, want %v", got, tc.want)
			}
			var exit *ExitError
			if err := emulate(o).exit; tc.exit != 0 && (err == nil || !errors.As(error(err), &exit) || exit.Code != tc.exit) {
				t.Errorf("exit = %v, want code %d", err, tc.exit)
			} else if tc.exit == 0 && err != nil {
				t.Errorf("exit = %v, want none", err)
			}
		})
	}
}

// echoDo sends req to h (served over a real connection) and returns the response and
// its body.
func echoDo(t *testing.T, h http.Handler, req *http.Request) (*http.Response, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	u := srv.URL + req.URL.RequestURI()
	r, err := http.NewRequest(req.Method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header = req.Header
	r.Host = req.Host
	resp, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// The echo is the real one's JSON, field for field; X-Echo-Set-Header sets response
// headers with their case kept; podlab's break endpoints do not shadow the paths a
// conformance test may ask for.
func TestEchoBasicHTTP(t *testing.T) {
	o := Options{Image: echoBasicImage, Namespace: "gateway-conformance-infra", PodName: "infra-backend-v1-abc",
		Env: map[string]string{"POD_NAME": "from-env", "SERVICE_NAME": "infra-backend-v1"}}
	h := New(o).Handler(3000)
	if h == nil {
		t.Fatal("no HTTP handler on 3000")
	}
	req := httptest.NewRequest("GET", "/backend?x=1&y=2", nil)
	req.Host = "example.com:8080"
	req.Header.Set("X-Echo-Set-Header", "X-Foo: bar, x-lower:v1,X-Foo:baz,Content-Type:text/plain")
	req.Header.Add("Accept", "a")
	req.Header.Add("Accept", "b")
	resp, body := echoDo(t, h, req)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("status %d, Content-Type %q, X-Content-Type-Options %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("X-Content-Type-Options"))
	}
	if got := resp.Header.Values("X-Foo"); !reflect.DeepEqual(got, []string{"bar,baz"}) {
		t.Errorf("X-Foo = %q, want [bar,baz]", got)
	}
	if got := resp.Header["X-Lower"]; !reflect.DeepEqual(got, []string{"v1"}) {
		t.Errorf("x-lower = %q, want [v1]", got)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	var keys []string
	for k := range fields {
		keys = append(keys, k)
	}
	wantKeys := "headers host httpPort ingress method namespace path pod proto service"
	slices.Sort(keys)
	if got := strings.Join(keys, " "); got != wantKeys {
		t.Errorf("fields %s, want %s", got, wantKeys)
	}
	var got struct {
		Path, Host, Method, Proto, HTTPPort, Namespace, Ingress, Service, Pod string
		Headers                                                               map[string][]string
	}
	json.Unmarshal([]byte(body), &got)
	if got.Path != "/backend?x=1&y=2" || got.Host != "example.com:8080" || got.Method != "GET" || got.Proto != "HTTP/1.1" ||
		got.HTTPPort != "3000" || got.Namespace != "gateway-conformance-infra" || got.Pod != "from-env" || got.Service != "infra-backend-v1" || got.Ingress != "" {
		t.Errorf("echo: %+v", got)
	}
	if !reflect.DeepEqual(got.Headers["Accept"], []string{"a", "b"}) || got.Headers["X-Echo-Set-Header"] == nil {
		t.Errorf("headers: %v", got.Headers)
	}
	if !strings.HasPrefix(body, "{\n \"path\": ") {
		t.Errorf("not indented by one space as the real one: %.40q", body)
	}

	for _, tc := range []struct {
		path string
		code int
		body string // "echo": the JSON echo
	}{
		{"/", 200, "echo"},
		{"/readyz", 200, "echo"},
		{"/healthz", 200, "echo"},
		{"/livez", 200, "echo"},
		{"/exit", 200, "echo"},
		{"//double//slash", 200, "echo"},
		{"/health", 200, "OK"},
		{"/status/418", 418, ""},
		{"/status/418?x=1", 400, ""},
		{"/retry/?uuid=u1&succeedAfter=1&responseCode=503", 503, ""},
		{"/retry/?uuid=u1&succeedAfter=1&responseCode=503", 200, "echo"},
		{"/retry/?succeedAfter=1", 400, "uuid is required"},
		{"/?delay=soon", 500, `{"message":"time: invalid duration \"soon\""}`},
		{"/podlab/exit", 409, "this pod has no kubelet..."},
	} {
		resp, body := echoDo(t, h, httptest.NewRequest("GET", tc.path, nil))
		switch {
		case resp.StatusCode != tc.code:
			t.Errorf("GET %s = %d %q, want %d", tc.path, resp.StatusCode, body, tc.code)
		case tc.body == "echo" && echoedPath(body) != tc.path:
			t.Errorf("GET %s = %q, want an echo", tc.path, body)
		case strings.HasSuffix(tc.body, "...") && !strings.HasPrefix(body, strings.TrimSuffix(tc.body, "...")):
			t.Errorf("GET %s = %q, want %q", tc.path, body, tc.body)
		case tc.body != "echo" && !strings.HasSuffix(tc.body, "...") && body != tc.body:
			t.Errorf("GET %s = %q, want %q", tc.path, body, tc.body)
		}
	}
}

// echoedPath is the path field of an echo ("" if body is none). The real one escapes
// & as \u0026 (json's HTML escaping), so it is read, not searched for.
func echoedPath(body string) string {
	var e struct{ Path string }
	json.Unmarshal([]byte(body), &e)
	return e.Path
}

// A break still works on echo-basic, through /podlab/ only, and its health paths
// answer 503 only while broken.
func TestEchoBasicBreaks(t *testing.T) {
	s := New(Options{Image: echoBasicImage})
	h := s.Handler(3000)
	for _, step := range []struct {
		path string
		want int // /readyz
	}{{"/podlab/fail-readiness", 503}, {"/podlab/recover", 200}} {
		echoDo(t, h, httptest.NewRequest("GET", step.path, nil))
		if resp, _ := echoDo(t, h, httptest.NewRequest("GET", "/readyz", nil)); resp.StatusCode != step.want {
			t.Errorf("after %s: /readyz = %d, want %d", step.path, resp.StatusCode, step.want)
		}
	}
}

// echo-basic's log has a line per request it echoes, as the real one prints it, and
// none for /health, /status or podlab's break endpoints.
func TestEchoBasicLog(t *testing.T) {
	l := NewRequestLog(10)
	o := Options{Image: echoBasicImage, OnRequest: l.Add}
	h := logRequests(New(o).Handler(3000), o.OnRequest)
	for _, p := range []string{"/health", "/status/200", "/podlab/recover", "/a?b=c", "/readyz"} {
		r := httptest.NewRequest("GET", p, nil)
		r.RemoteAddr = "10.244.1.7:51234"
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	if StyleOf(o) != StyleEchoBasic {
		t.Fatalf("StyleOf = %v, want StyleEchoBasic", StyleOf(o))
	}
	var lines []string
	for _, r := range l.Requests() {
		lines = append(lines, r.Format(StyleEchoBasic))
	}
	want := []string{
		"Echoing back request made to /a?b=c to client (10.244.1.7:51234)",
		"Echoing back request made to /readyz to client (10.244.1.7:51234)",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// The h2c port echoes HTTP/2 by prior knowledge and refuses plain HTTP/1.1, as the
// real one does.
func TestEchoBasicH2C(t *testing.T) {
	h := New(Options{Image: echoBasicImage}).Handler(3001)
	if h == nil {
		t.Fatal("no handler on 3001")
	}
	resp, body := echoDo(t, h, httptest.NewRequest("GET", "/", nil))
	if resp.StatusCode != 400 || body != "Expected h2c request" {
		t.Errorf("HTTP/1.1 to the h2c port = %d %q", resp.StatusCode, body)
	}
	r := httptest.NewRequest("GET", "/x", nil)
	r.ProtoMajor, r.Proto = 2, "HTTP/2.0"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"proto": "HTTP/2.0"`) {
		t.Errorf("HTTP/2 to the h2c port = %d %q", w.Code, w.Body.String())
	}
}

// StartPod opens echo-basic's ports from its environment, and the h2c one speaks
// HTTP/2 without TLS to a client that knows it will.
func TestEchoBasicStartPod(t *testing.T) {
	httpPort, h2cPort := freePort(t, "tcp"), freePort(t, "tcp")
	s, err := StartPod(Options{Image: echoBasicImage, Env: map[string]string{"HTTP_PORT": strconv.Itoa(httpPort), "H2C_PORT": strconv.Itoa(h2cPort)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	for _, tc := range []struct {
		port  int
		h2c   bool
		proto string
	}{{httpPort, false, "HTTP/1.1"}, {h2cPort, true, "HTTP/2.0"}} {
		tr := &http.Transport{}
		if tc.h2c {
			tr.Protocols = new(http.Protocols)
			tr.Protocols.SetUnencryptedHTTP2(true)
		}
		resp, err := (&http.Client{Transport: tr}).Get("http://127.0.0.1:" + strconv.Itoa(tc.port) + "/p")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct{ Path, Proto, HTTPPort string }
		json.Unmarshal(b, &e)
		if resp.StatusCode != 200 || e.Path != "/p" || e.Proto != tc.proto || e.HTTPPort != strconv.Itoa(httpPort) {
			t.Errorf("port %d: %d %+v, want /p over %s", tc.port, resp.StatusCode, e, tc.proto)
		}
		tr.CloseIdleConnections()
	}
}

// /retry/ without responseCode resets the connection succeedAfter times, then echoes.
func TestEchoBasicRetryReset(t *testing.T) {
	srv := httptest.NewServer(logRequests(New(Options{Image: echoBasicImage}).Handler(3000), func(Request) {}))
	defer srv.Close()
	url := srv.URL + "/retry/?uuid=u2&succeedAfter=1"
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Fatalf("first attempt answered %d, want a reset connection", resp.StatusCode)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || echoedPath(string(b)) != "/retry/?uuid=u2&succeedAfter=1" {
		t.Errorf("second attempt = %d %q, want the echo", resp.StatusCode, b)
	}
}
