package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayManifests: one Gateway with HTTP and HTTPS listeners, routes for matching
// precedence, each filter, weights, a cross-namespace reference and broken references.
const gatewayManifests = `  - apiVersion: v1
    kind: Namespace
    metadata: {name: other}
  - apiVersion: gateway.networking.k8s.io/v1
    kind: Gateway
    metadata: {name: gw}
    spec:
      gatewayClassName: podlab
      listeners:
        - name: http
          protocol: HTTP
          port: 80
          allowedRoutes: {namespaces: {from: All}}
        - name: https
          protocol: HTTPS
          port: 443
          hostname: secure.example
          tls: {mode: Terminate, certificateRefs: [{name: gw-tls}]}
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: matching}
    spec:
      parentRefs: [{name: gw, sectionName: http}]
      hostnames: [match.example]
      rules:
        - matches: [{path: {type: Exact, value: /exact}}]
          backendRefs: [{name: s-foo-exact, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /aaa}}]
          backendRefs: [{name: s-aaa, port: 80}]
        - matches: [{path: {type: PathPrefix, value: /aaa}, headers: [{name: version, value: two}]}]
          backendRefs: [{name: s-aaabbb, port: 80}]
        - matches: [{method: POST}]
          backendRefs: [{name: s-foo-prefix, port: 80}]
        - matches: [{queryParams: [{name: v, value: q}]}]
          backendRefs: [{name: s-default, port: 80}]
        - matches: [{path: {type: RegularExpression, value: "/re/[0-9]+"}}]
          backendRefs: [{name: s-aaa, port: 80}]
        - backendRefs: [{name: s-root, port: 80}]
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: filters}
    spec:
      parentRefs: [{name: gw}]
      hostnames: [filters.example]
      rules:
        - matches: [{path: {value: /headers}}]
          filters:
            - type: RequestHeaderModifier
              requestHeaderModifier:
                set: [{name: X-Set, value: set}]
                add: [{name: X-Add, value: added}]
                remove: [X-Remove]
            - type: ResponseHeaderModifier
              responseHeaderModifier:
                add: [{name: X-Resp, value: resp}]
          backendRefs: [{name: s-root, port: 80}]
        - matches: [{path: {value: /redirect}}]
          filters:
            - type: RequestRedirect
              requestRedirect: {scheme: https, statusCode: 301}
        - matches: [{path: {value: /prefix}}]
          filters:
            - type: URLRewrite
              urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
          backendRefs: [{name: s-root, port: 80}]
        - matches: [{path: {value: /host}}]
          filters:
            - type: URLRewrite
              urlRewrite: {hostname: rewritten.example}
          backendRefs: [{name: s-root, port: 80}]
        - matches: [{path: {value: /mirror}}]
          filters:
            - type: RequestMirror
              requestMirror: {backendRef: {name: s-aaabbb, port: 80}}
          backendRefs: [{name: s-root, port: 80}]
        - matches: [{path: {value: /split}}]
          backendRefs:
            - {name: s-root, port: 80, weight: 3}
            - {name: s-aaa, port: 80, weight: 1}
            - {name: s-default, port: 80, weight: 0}
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: cross, namespace: other}
    spec:
      parentRefs: [{name: gw, namespace: default}]
      hostnames: [cross.example]
      rules:
        - backendRefs: [{name: s-root, namespace: default, port: 80}]
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: broken}
    spec:
      parentRefs: [{name: gw}]
      hostnames: [broken.example]
      rules:
        - matches: [{path: {value: /missing}}]
          backendRefs: [{name: s-missing, port: 80}]
        - matches: [{path: {value: /kind}}]
          backendRefs: [{group: example.com, kind: Foo, name: s-root, port: 80}]
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: secure}
    spec:
      parentRefs: [{name: gw, sectionName: https}]
      hostnames: [secure.example]
      rules:
        - backendRefs: [{name: s-aaa, port: 80}]
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: {name: elsewhere}
    spec:
      parentRefs: [{name: gw, sectionName: https}]
      hostnames: [not-secure.example]
      rules:
        - backendRefs: [{name: s-aaa, port: 80}]`

const referenceGrant = `apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: from-other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: other}]
  to: [{group: "", kind: Service}]
`

// condition finds a condition of type t.
func condition(cs []metav1.Condition, t string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == t {
			return &cs[i]
		}
	}
	return nil
}

func TestGatewayAPI(t *testing.T) {
	name := uniq("gwapi")
	e := newEnv(t)
	st := e.deploy(name, fmt.Sprintf(ingressLab, name, backendManifests(), gatewayManifests))
	host := st.Hosts[0].Netns
	e.must("create", "secret", "tls", "gw-tls", "--host", "secure.example", "--name", name)

	route := func(ns, n string) gatewayv1.HTTPRoute {
		var r gatewayv1.HTTPRoute
		if err := json.Unmarshal([]byte(e.must("get", "--name", name, "httproute", n, "-n", ns, "-o", "json")), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	var gw gatewayv1.Gateway
	waitFor(t, 20*time.Second, func() bool {
		if err := json.Unmarshal([]byte(e.must("get", "--name", name, "gateway", "gw", "-o", "json")), &gw); err != nil {
			t.Fatal(err)
		}
		c := condition(gw.Status.Conditions, "Programmed")
		return len(gw.Status.Addresses) > 0 && c != nil && c.Status == metav1.ConditionTrue
	})
	addr := gw.Status.Addresses[0].Value
	if out := e.must("get", "--name", name, "gateway"); !strings.Contains(out, addr) || !strings.Contains(out, "True") {
		t.Errorf("get gateway:\n%s", out)
	}
	for _, l := range gw.Status.Listeners {
		if c := condition(l.Conditions, "Programmed"); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("listener %s: %+v", l.Name, l.Conditions)
		}
	}
	waitFor(t, 20*time.Second, func() bool {
		return curl(t, host, "-H", "Host: match.example", "http://"+addr+"/").status == 200
	})

	t.Run("matching precedence", func(t *testing.T) {
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"http://" + addr + "/exact"}, "foo-exact"},
			{[]string{"http://" + addr + "/exact/"}, "root"},
			{[]string{"http://" + addr + "/aaa/x"}, "aaa"},
			{[]string{"-H", "version: two", "http://" + addr + "/aaa/x"}, "aaabbb"},
			{[]string{"-X", "POST", "http://" + addr + "/other"}, "foo-prefix"},
			{[]string{"http://" + addr + "/other?v=q"}, "default"},
			{[]string{"http://" + addr + "/re/123"}, "aaa"},
			{[]string{"http://" + addr + "/re/abc"}, "root"},
			{[]string{"http://" + addr + "/aaab"}, "root"},
		} {
			r := curl(t, host, append([]string{"-H", "Host: match.example"}, c.args...)...)
			if r.echo.Pod != c.want {
				t.Errorf("%v: %d from %q, want %s", c.args, r.status, r.echo.Pod, c.want)
			}
		}
		if r := curl(t, host, "-H", "Host: nobody.example", "http://"+addr+"/"); r.status != 404 {
			t.Errorf("a host no route names: %d, want 404", r.status)
		}
	})
	t.Run("filters", func(t *testing.T) {
		r := curl(t, host, "-H", "Host: filters.example", "-H", "X-Set: old", "-H", "X-Add: first", "-H", "X-Remove: gone", "http://"+addr+"/headers")
		h := r.echo.Headers
		if fmt.Sprint(h["X-Set"]) != "[set]" || fmt.Sprint(h["X-Add"]) != "[first,added]" && fmt.Sprint(h["X-Add"]) != "[first added]" || h["X-Remove"] != nil {
			t.Errorf("request headers: %v", h)
		}
		if !strings.Contains(r.headers, "X-Resp: resp") {
			t.Errorf("response headers:\n%s", r.headers)
		}
		r = curl(t, host, "-H", "Host: filters.example", "http://"+addr+"/redirect/x?y=1")
		if r.status != 301 || !strings.Contains(r.headers, "Location: https://filters.example/redirect/x?y=1") {
			t.Errorf("redirect: %d\n%s", r.status, r.headers)
		}
		if r = curl(t, host, "-H", "Host: filters.example", "http://"+addr+"/prefix/x?y=1"); r.echo.Path != "/new/x?y=1" {
			t.Errorf("ReplacePrefixMatch: backend saw %q", r.echo.Path)
		}
		if r = curl(t, host, "-H", "Host: filters.example", "http://"+addr+"/host"); r.echo.Host != "rewritten.example" {
			t.Errorf("hostname rewrite: backend saw %q", r.echo.Host)
		}
		if r = curl(t, host, "-H", "Host: filters.example", "http://"+addr+"/mirror/once"); r.echo.Pod != "root" {
			t.Errorf("mirror: answered by %q", r.echo.Pod)
		}
		waitFor(t, 5*time.Second, func() bool {
			return strings.Contains(e.must("logs", "--name", name, "aaabbb"), "/mirror/once")
		})
	})
	t.Run("weighted backends", func(t *testing.T) {
		seen := map[string]int{}
		for range 200 {
			got, err := httpGetHost(host, addr, "/split", "filters.example")
			if err != nil {
				t.Fatal(err)
			}
			seen[got]++
		}
		if seen["default"] != 0 || seen["root"] < 120 || seen["root"] > 178 || seen["root"]+seen["aaa"] != 200 {
			t.Errorf("weights 3:1:0 gave %v", seen)
		}
	})
	t.Run("cross-namespace backend needs a ReferenceGrant", func(t *testing.T) {
		if r := curl(t, host, "-H", "Host: cross.example", "http://"+addr+"/"); r.status != 500 {
			t.Errorf("without a grant: %d, want 500", r.status)
		}
		c := condition(route("other", "cross").Status.Parents[0].Conditions, "ResolvedRefs")
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != "RefNotPermitted" {
			t.Errorf("ResolvedRefs without a grant: %+v", c)
		}
		f := filepath.Join(t.TempDir(), "grant.yaml")
		os.WriteFile(f, []byte(referenceGrant), 0o644)
		e.must("apply", "--name", name, "-f", f)
		if r := curl(t, host, "-H", "Host: cross.example", "http://"+addr+"/"); r.status != 200 || r.echo.Pod != "root" {
			t.Errorf("with the grant: %d %q", r.status, r.echo.Pod)
		}
		c = condition(route("other", "cross").Status.Parents[0].Conditions, "ResolvedRefs")
		if c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("ResolvedRefs with the grant: %+v", c)
		}
		e.must("delete", "--name", name, "referencegrant", "from-other")
		if r := curl(t, host, "-H", "Host: cross.example", "http://"+addr+"/"); r.status != 500 {
			t.Errorf("grant deleted: %d, want 500", r.status)
		}
	})
	t.Run("invalid references", func(t *testing.T) {
		for path, want := range map[string]int{"/missing": 500, "/kind": 500} {
			if r := curl(t, host, "-H", "Host: broken.example", "http://"+addr+path); r.status != want {
				t.Errorf("%s: %d, want %d", path, r.status, want)
			}
		}
		p := route("default", "broken").Status.Parents[0]
		if c := condition(p.Conditions, "Accepted"); c == nil || c.Status != metav1.ConditionTrue {
			t.Errorf("a route with bad references stays Accepted: %+v", c)
		}
		if c := condition(p.Conditions, "ResolvedRefs"); c == nil || c.Status != metav1.ConditionFalse || (c.Reason != "BackendNotFound" && c.Reason != "InvalidKind") {
			t.Errorf("ResolvedRefs: %+v", c)
		}
		p = route("default", "elsewhere").Status.Parents[0]
		if c := condition(p.Conditions, "Accepted"); c == nil || c.Status != metav1.ConditionFalse || c.Reason != "NoMatchingListenerHostname" {
			t.Errorf("a hostname outside the listener's: %+v", c)
		}
	})
	t.Run("HTTPS listener", func(t *testing.T) {
		var sec struct {
			Data map[string]string `json:"data"`
		}
		json.Unmarshal([]byte(e.must("get", "--name", name, "secret", "gw-tls", "-o", "json")), &sec)
		crt, _ := base64.StdEncoding.DecodeString(sec.Data["tls.crt"])
		ca := filepath.Join(t.TempDir(), "ca.crt")
		os.WriteFile(ca, crt, 0o644)
		var r curlResult
		waitFor(t, 10*time.Second, func() bool {
			r = curl(t, host, "--cacert", ca, "--resolve", "secure.example:443:"+addr, "https://secure.example/s")
			return r.status == 200
		})
		if r.echo.Pod != "aaa" {
			t.Errorf("https: %q", r.body)
		}
	})
	t.Run("status readable with get -o yaml", func(t *testing.T) {
		out := e.must("get", "--name", name, "httproute", "matching", "-o", "yaml")
		for _, want := range []string{"apiVersion: gateway.networking.k8s.io/v1", "controllerName: podlab.dev/gateway-controller", "reason: Accepted", "reason: ResolvedRefs"} {
			if !strings.Contains(out, want) {
				t.Errorf("no %q in:\n%s", want, out)
			}
		}
	})
}

// httpGetHost asks http://addr/path with Host host from inside namespace ns and
// returns the echo-basic pod that answered.
func httpGetHost(ns, addr, path, host string) (string, error) {
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{
		Dial: func(network, a string) (net.Conn, error) { return dial(ns, network, a) },
	}}
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		return "", err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r echoReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return "", fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	return r.Pod, nil
}
