package ingresses

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"podlab.dev/podlab/cluster/ingress/table"
	"podlab.dev/podlab/cluster/store"
	"podlab.dev/podlab/selfsigned"
)

var opts = Options{ClassName: "podlab", Controller: "podlab.dev/ingress-controller"}

const podlabClass = `
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: podlab
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: podlab.dev/ingress-controller}
`

// load stores the YAML documents, as a lab's manifests would be.
func load(t *testing.T, docs ...string) *store.Store {
	t.Helper()
	s := store.New()
	for _, doc := range strings.Split(strings.Join(docs, "\n---\n"), "\n---\n") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		var tm struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(j, &tm); err != nil {
			t.Fatal(err)
		}
		o, err := store.Decode(tm.APIVersion, tm.Kind, j)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(o); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// ingressYAML is an Ingress of class podlab created at minute age; paths are
// "[Exact|Prefix|ImplementationSpecific] /path[ service]" (Prefix and service "svc" by default).
func ingressYAML(name string, age int, host string, paths ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: %s, namespace: default, creationTimestamp: \"2026-01-01T00:%02d:00Z\"}\nspec:\n  ingressClassName: podlab\n  rules:\n  - host: %q\n    http:\n      paths:\n", name, age, host)
	for _, p := range paths {
		f := strings.Fields(p)
		kind := "Prefix"
		if !strings.HasPrefix(f[0], "/") {
			kind, f = f[0], f[1:]
		}
		svc := "svc"
		if len(f) > 1 {
			svc = f[1]
		}
		fmt.Fprintf(&b, "      - {path: %q, pathType: %s, backend: {service: {name: %s, port: {number: 80}}}}\n", f[0], kind, svc)
	}
	return b.String()
}

// serve routes one request on the HTTP listener, as the proxy will.
func serve(t *testing.T, res Result, url string) *table.Route {
	t.Helper()
	return serveOn(t, res, 80, url)
}

func serveOn(t *testing.T, res Result, port int32, url string) *table.Route {
	t.Helper()
	host, path, _ := strings.Cut(url, "/")
	l := res.Frontend.Listener(port)
	if l == nil {
		t.Fatalf("no listener on %d", port)
	}
	_, r := l.Route(host, "/"+path, nil, nil, "GET")
	return r
}

// matched names a route for comparison: "ingress[rule].paths[i]", "ingress default", or "404".
func matched(r *table.Route) string {
	switch {
	case r == nil:
		return "404"
	case r.Source.Rule < 0:
		return r.Source.Name + " default"
	}
	return fmt.Sprintf("%s[%d].paths[%d]", r.Source.Name, r.Source.Rule, r.Source.Match)
}

func problems(res Result) string {
	var b strings.Builder
	for _, p := range res.Problems {
		fmt.Fprintf(&b, "%s/%s %s: %s\n", p.Namespace, p.Name, p.Reason, p.Message)
	}
	return b.String()
}

// TestPathTable is every row of SEMANTICS.md §6's path table, with the paths given
// in both orders (the YAML order must not matter).
func TestPathTable(t *testing.T) {
	for _, c := range []struct {
		paths    []string
		requests map[string]string // path -> index into paths of the winner, "404"
	}{
		{[]string{"/"}, map[string]string{"/anything": "0"}},
		{[]string{"Exact /foo"}, map[string]string{"/foo": "0", "/bar": "404", "/foo/": "404"}},
		{[]string{"Exact /foo/"}, map[string]string{"/foo": "404"}},
		{[]string{"/foo"}, map[string]string{"/foo": "0", "/foo/": "0"}},
		{[]string{"/foo/"}, map[string]string{"/foo": "0", "/foo/": "0"}},
		{[]string{"/aaa/bb"}, map[string]string{"/aaa/bbb": "404"}},
		{[]string{"/aaa/bbb"}, map[string]string{"/aaa/bbb": "0", "/aaa/bbb/": "0", "/aaa/bbb/ccc": "0"}},
		{[]string{"/aaa/bbb/"}, map[string]string{"/aaa/bbb": "0"}},
		{[]string{"/aaa/bbb"}, map[string]string{"/aaa/bbbxyz": "404"}},
		{[]string{"/", "/aaa"}, map[string]string{"/aaa/ccc": "1"}},
		{[]string{"/", "/aaa", "/aaa/bbb"}, map[string]string{"/aaa/bbb": "2", "/ccc": "0"}},
		{[]string{"/aaa"}, map[string]string{"/ccc": "404"}},
		{[]string{"/foo", "Exact /foo"}, map[string]string{"/foo": "1", "/foo/x": "0"}},
		// ImplementationSpecific is nginx's string prefix.
		{[]string{"ImplementationSpecific /foo"}, map[string]string{"/foobar": "0", "/fo": "404"}},
	} {
		for _, reversed := range []bool{false, true} {
			paths := append([]string(nil), c.paths...)
			if reversed {
				for i, j := 0, len(paths)-1; i < j; i, j = i+1, j-1 {
					paths[i], paths[j] = paths[j], paths[i]
				}
			}
			res := Compile(load(t, podlabClass, ingressYAML("web", 0, "foo.com", paths...)), opts)
			for req, want := range c.requests {
				if want != "404" {
					var i int
					fmt.Sscan(want, &i)
					for k, p := range paths {
						if p == c.paths[i] {
							want = fmt.Sprintf("web[0].paths[%d]", k)
						}
					}
				}
				for _, host := range []string{"foo.com", "FOO.com:8080"} {
					if got := matched(serve(t, res, host+req)); got != want {
						t.Errorf("paths %q, request %s%s: got %s, want %s", paths, host, req, got, want)
					}
				}
			}
		}
	}
}

func TestHosts(t *testing.T) {
	res := Compile(load(t, podlabClass,
		ingressYAML("precise", 0, "foo.bar.com", "/a"),
		ingressYAML("wild", 1, "*.bar.com", "/"),
		ingressYAML("any", 2, "", "/")), opts)
	for url, want := range map[string]string{
		"foo.bar.com/a":      "precise[0].paths[0]",
		"FOO.bar.com:8080/a": "precise[0].paths[0]",
		"foo.bar.com/b":      "404", // no fall-through from a matched host
		"x.bar.com/b":        "wild[0].paths[0]",
		"a.b.bar.com/":       "any[0].paths[0]", // one label only
		"bar.com/":           "any[0].paths[0]",
		"10.0.0.1/":          "any[0].paths[0]",
	} {
		if got := matched(serve(t, res, url)); got != want {
			t.Errorf("%s: got %s, want %s", url, got, want)
		}
	}
	var names []string
	for _, vh := range res.Frontend.Listener(443).VirtualHosts {
		names = append(names, vh.Hostname)
	}
	if got := strings.Join(names, ","); got != "foo.bar.com,*.bar.com," {
		t.Errorf("HTTPS virtual hosts %q, want the same hosts as HTTP", got)
	}
	if len(res.Problems) != 3 { // three missing Services
		t.Errorf("problems:\n%s", problems(res))
	}
}

func withDefault(ing, svc string) string {
	return strings.Replace(ing, "  ingressClassName: podlab\n", "  ingressClassName: podlab\n  defaultBackend: {service: {name: "+svc+", port: {number: 80}}}\n", 1)
}

func TestDefaultBackend(t *testing.T) {
	res := Compile(load(t, podlabClass,
		withDefault(ingressYAML("new", 5, "b.com", "/b"), "d2"),
		withDefault(ingressYAML("old", 1, "a.com", "/a"), "d1"),
		ingressYAML("none", 0, "c.com", "/c")), opts)
	for url, want := range map[string]string{
		"a.com/x":     "old default",
		"b.com/x":     "new default",
		"c.com/x":     "404", // its Ingress has no defaultBackend
		"other.com/x": "old default",
		"b.com/b":     "new[0].paths[0]",
	} {
		if got := matched(serve(t, res, url)); got != want {
			t.Errorf("%s: got %s, want %s", url, got, want)
		}
	}
	if p := problems(res); !strings.Contains(p, "default/new DefaultBackendConflict: spec.defaultBackend is not used for requests for hosts no rule names: ingress default/old is older") {
		t.Errorf("problems:\n%s", p)
	}
	if r := serve(t, res, "a.com/x"); r.Backends[0].Service != "d1" || r.Backends[0].Status != 503 {
		t.Errorf("default route backend %+v", r.Backends[0])
	}

	res = Compile(load(t, podlabClass, ingressYAML("web", 0, "a.com", "/a")), opts)
	if got := matched(serve(t, res, "x.com/")); got != "404" {
		t.Errorf("no default backend: got %s", got)
	}
}

func TestClassSelection(t *testing.T) {
	other := "apiVersion: networking.k8s.io/v1\nkind: IngressClass\nmetadata: {name: nginx}\nspec: {controller: k8s.io/ingress-nginx}\n"
	ing := func(name, class string) string {
		y := ingressYAML(name, 0, name+".com", "/")
		switch {
		case strings.HasPrefix(class, "annotation:"):
			return strings.Replace(strings.Replace(y, "  ingressClassName: podlab\n", "", 1), "creationTimestamp:", "annotations: {kubernetes.io/ingress.class: "+strings.TrimPrefix(class, "annotation:")+"}, creationTimestamp:", 1)
		case class == "":
			return strings.Replace(y, "  ingressClassName: podlab\n", "", 1)
		}
		return strings.Replace(y, "ingressClassName: podlab", "ingressClassName: "+class, 1)
	}
	svc := "apiVersion: v1\nkind: Service\nmetadata: {name: svc, namespace: default}\nspec: {ports: [{port: 80}]}\n"
	res := Compile(load(t, podlabClass, other, svc,
		ing("ours", "podlab"), ing("theirs", "nginx"), ing("classless", ""),
		ing("annotated", "annotation:podlab"), ing("annotatedother", "annotation:traefik"), ing("missing", "missing")), opts)
	var served []string
	for k := range res.Status {
		served = append(served, k.Name)
	}
	want := map[string]bool{"ours": true, "classless": true, "annotated": true}
	if len(served) != len(want) {
		t.Errorf("served %v, want %v", served, want)
	}
	for _, n := range served {
		if !want[n] {
			t.Errorf("served %s, want only %v", n, want)
		}
	}
	wantP := "default/missing IngressClassNotFound: spec.ingressClassName: IngressClass \"missing\" not found, so no controller serves this Ingress; use ingressClassName: podlab (podlab's controller), or remove spec.ingressClassName to use the default class\n"
	if p := problems(res); p != wantP {
		t.Errorf("problems:\n%s\nwant:\n%s", p, wantP)
	}
	if got := matched(serve(t, res, "theirs.com/")); got != "404" {
		t.Errorf("another controller's Ingress is served: %s", got)
	}

	// Without a default class, a class-less Ingress is nobody's.
	res = Compile(load(t, other, ing("classless", "")), opts)
	if len(res.Status) != 0 || !strings.Contains(problems(res), "NoIngressClass") {
		t.Errorf("status %v, problems:\n%s", res.Status, problems(res))
	}
}

func TestMergeConflict(t *testing.T) {
	res := Compile(load(t, podlabClass,
		ingressYAML("b-new", 3, "foo.com", "/api", "/web"),
		ingressYAML("a-old", 1, "foo.com", "/api", "Exact /web"),
		ingressYAML("c-same-age", 1, "foo.com", "/api", "/docs")), opts)
	for url, want := range map[string]string{
		"foo.com/api":   "a-old[0].paths[0]",
		"foo.com/web":   "a-old[0].paths[1]", // Exact before Prefix
		"foo.com/web/x": "b-new[0].paths[1]",
		"foo.com/docs":  "c-same-age[0].paths[1]",
	} {
		if got := matched(serve(t, res, url)); got != want {
			t.Errorf("%s: got %s, want %s", url, got, want)
		}
	}
	p := problems(res)
	for _, n := range []string{"b-new", "c-same-age"} {
		if !strings.Contains(p, "default/"+n+` PathConflict: spec.rules[0].http.paths[0]: host "foo.com" path "/api" (Prefix) is already served by ingress default/a-old, which is older`) {
			t.Errorf("no conflict for %s:\n%s", n, p)
		}
	}
}

func annotate(ing string, ann ...string) string {
	return strings.Replace(ing, "creationTimestamp:", "annotations: {"+strings.Join(ann, ", ")+"}, creationTimestamp:", 1)
}

func TestRegexRewrite(t *testing.T) {
	res := Compile(load(t, podlabClass,
		annotate(ingressYAML("rw", 0, "r.com", `ImplementationSpecific /something(/|$)(.*)`), `nginx.ingress.kubernetes.io/rewrite-target: /$2`),
		ingressYAML("plain", 1, "r.com", "/other", "Exact /x"),
		annotate(ingressYAML("root", 2, "s.com", "/something"), `nginx.ingress.kubernetes.io/rewrite-target: /`),
		annotate(ingressYAML("re", 3, "u.com", "/a", "/a/b[0-9]+"), `nginx.ingress.kubernetes.io/use-regex: "true"`),
		ingressYAML("noregex", 4, "v.com", "/a[0-9]")), opts)
	rewrite := func(r *table.Route, path string) string {
		for _, f := range r.Filters {
			if f.Type == table.FilterRewrite && f.PathType == "RegexReplace" {
				return string(f.Regex.ExpandString(nil, f.Path, path, f.Regex.FindStringSubmatchIndex(path)))
			}
		}
		return path
	}
	for _, c := range []struct{ url, want, upstream string }{
		{"r.com/something/foo/bar", "rw[0].paths[0]", "/foo/bar"},
		{"r.com/something", "rw[0].paths[0]", "/"},
		{"r.com/SOMETHING/x", "rw[0].paths[0]", "/x"},
		{"r.com/OTHER/y", "plain[0].paths[0]", "/OTHER/y"}, // every path of the host is a case-insensitive regex
		{"r.com/xyz", "plain[0].paths[1]", "/xyz"},         // Exact too: a regex prefix
		{"s.com/something/foo", "root[0].paths[0]", "/"},
		{"u.com/a/b12", "re[0].paths[1]", "/a/b12"}, // longest path first
		{"u.com/a/c", "re[0].paths[0]", "/a/c"},
		{"v.com/a1", "404", ""}, // no use-regex: "[" is literal
	} {
		r := serve(t, res, c.url)
		if got := matched(r); got != c.want {
			t.Errorf("%s: got %s, want %s", c.url, got, c.want)
			continue
		}
		if r == nil {
			continue
		}
		_, path, _ := strings.Cut(c.url, "/")
		if got := rewrite(r, "/"+path); got != c.upstream {
			t.Errorf("%s: upstream path %q, want %q", c.url, got, c.upstream)
		}
	}
	vh := res.Frontend.Listener(80).VirtualHosts[0]
	if vh.Hostname != "r.com" || vh.Routes[0].Match.Path.Regex.String() != `(?i)^/something(/|$)(.*)` {
		t.Errorf("first host %s route %v", vh.Hostname, vh.Routes[0].Match.Path.Regex)
	}
}

func withTLS(ing string, secret string, hosts ...string) string {
	h := ""
	if len(hosts) > 0 {
		h = `hosts: ["` + strings.Join(hosts, `", "`) + `"], `
	}
	return strings.Replace(ing, "  rules:\n", "  tls:\n  - {"+h+"secretName: "+secret+"}\n  rules:\n", 1)
}

func TestSSLRedirect(t *testing.T) {
	res := Compile(load(t, podlabClass,
		withTLS(ingressYAML("tls", 0, "a.com", "/"), "", "a.com"),
		ingressYAML("same-host", 1, "a.com", "/b"), // TLS is per host: redirected too
		annotate(withTLS(ingressYAML("ssl-off", 2, "b.com", "/"), "", "b.com"), `nginx.ingress.kubernetes.io/ssl-redirect: "false"`),
		annotate(ingressYAML("forced", 3, "c.com", "/"), `nginx.ingress.kubernetes.io/force-ssl-redirect: "true"`),
		ingressYAML("plain", 4, "d.com", "/")), opts)
	for url, want := range map[string]bool{"a.com/": true, "a.com/b": true, "b.com/": false, "c.com/": true, "d.com/": false} {
		if got := serve(t, res, url).SSLRedirect; got != want {
			t.Errorf("http://%s: SSLRedirect %v, want %v", url, got, want)
		}
		if serveOn(t, res, 443, url).SSLRedirect {
			t.Errorf("https://%s redirects", url)
		}
	}
}

func TestBackends(t *testing.T) {
	objs := `apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec: {ports: [{name: http, port: 8080, targetPort: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints:
- {addresses: [10.0.0.2], conditions: {ready: true}}
- {addresses: [10.0.0.3], conditions: {ready: false}}
---
apiVersion: v1
kind: Service
metadata: {name: idle, namespace: default}
spec: {ports: [{port: 80}]}
`
	byName := strings.Replace(ingressYAML("web", 0, "a.com", "/named web", "/idle idle", "/missing nosuch"), "{name: web, port: {number: 80}}", "{name: web, port: {name: http}}", 1)
	resource := `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: res, namespace: default}
spec:
  ingressClassName: podlab
  rules:
  - host: b.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {resource: {apiGroup: k8s.example.com, kind: StorageBucket, name: static}}}
`
	res := Compile(load(t, podlabClass, objs, annotate(byName, "nginx.ingress.kubernetes.io/backend-protocol: HTTPS"), resource), opts)
	b := serve(t, res, "a.com/named").Backends[0]
	if b.Service != "web" || b.Port != 8080 || b.Protocol != "HTTPS" || b.Status != 0 || len(b.Endpoints) != 1 || b.Endpoints[0] != netip.MustParseAddrPort("10.0.0.2:80") {
		t.Errorf("named port backend %+v", b)
	}
	if b := serve(t, res, "a.com/idle").Backends[0]; b.Status != 0 || len(b.Endpoints) != 0 {
		t.Errorf("no ready endpoints: %+v, want no endpoints (503 by the proxy)", b)
	}
	if b := serve(t, res, "a.com/missing").Backends[0]; b.Status != 503 {
		t.Errorf("missing Service: %+v", b)
	}
	if b := serve(t, res, "b.com/").Backends[0]; b.Status != 503 {
		t.Errorf("resource backend: %+v", b)
	}
	want := `default/res UnsupportedBackend: spec.rules[0].http.paths[0].backend is resource StorageBucket static: podlab's controller serves Service backends only (backend.service.name and port); requests get 503
default/web BackendNotFound: spec.rules[0].http.paths[2].backend.service: service "nosuch" not found in namespace "default"; requests get 503 until it exists: create the Service or fix the name and port
`
	if p := problems(res); p != want {
		t.Errorf("problems:\n%s\nwant:\n%s", p, want)
	}

	res = Compile(load(t, podlabClass, objs, annotate(ingressYAML("g", 0, "a.com", "/ web"), "nginx.ingress.kubernetes.io/backend-protocol: GRPC")), opts)
	if p := problems(res); !strings.Contains(p, "backend-protocol: GRPC is not supported by podlab; served as HTTP") {
		t.Errorf("problems:\n%s", p)
	}
}

func secretYAML(t *testing.T, name string, names ...string) string {
	crt, key, err := selfsigned.Generate("", names)
	if err != nil {
		t.Fatal(err)
	}
	q := func(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", `\n`) }
	return fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: default}\ntype: kubernetes.io/tls\nstringData: {tls.crt: \"%s\", tls.key: \"%s\"}\n", name, q(string(crt)), q(string(key)))
}

func TestTLS(t *testing.T) {
	fake, err := FakeCertificate()
	if err != nil {
		t.Fatal(err)
	}
	if fake.Leaf.Subject.CommonName != FakeCertName {
		t.Errorf("fake certificate CN %q", fake.Leaf.Subject.CommonName)
	}
	o := opts
	o.DefaultCert = fake
	o.Addresses = []networkingv1.IngressLoadBalancerIngress{{IP: "172.18.0.10"}}
	res := Compile(load(t, podlabClass,
		secretYAML(t, "a-tls", "a.com", "*.w.com"),
		secretYAML(t, "other-tls", "other.com"),
		withTLS(ingressYAML("a", 0, "a.com", "/"), "a-tls", "a.com", "*.w.com", "z.com"),
		withTLS(ingressYAML("b", 1, "b.com", "/"), "nosuch", "b.com"),
		withTLS(ingressYAML("c", 2, "c.com", "/"), "other-tls")), o)
	var got []string
	l := res.Frontend.Listener(443)
	for _, c := range l.Certs {
		got = append(got, fmt.Sprintf("%v=%s", c.Hosts, c.Source))
	}
	want := "[a.com]=default/a-tls [b.com]=default [z.com]=default [*.w.com]=default/a-tls []=default/other-tls"
	if strings.Join(got, " ") != want {
		t.Errorf("certs\n%s\nwant\n%s", strings.Join(got, " "), want)
	}
	if l.Default != fake {
		t.Error("listener default is not the fake certificate")
	}
	p := problems(res)
	for _, w := range []string{
		`default/a InvalidCertificate: spec.tls[0]: the certificate of secret default/a-tls does not name host "z.com"`,
		`default/b InvalidCertificate: spec.tls[0].secretName: secret default/nosuch does not exist; HTTPS is served with the default certificate (Kubernetes Ingress Controller Fake Certificate): create it with kubectl create secret tls nosuch`,
	} {
		if !strings.Contains(p, w) {
			t.Errorf("no problem %q in:\n%s", w, p)
		}
	}
	if !serve(t, res, "c.com/").SSLRedirect {
		t.Error("a tls entry without hosts makes the Ingress's hosts TLS hosts")
	}
	st := res.Status[types.NamespacedName{Namespace: "default", Name: "b"}]
	if len(st.LoadBalancer.Ingress) != 1 || st.LoadBalancer.Ingress[0].IP != "172.18.0.10" {
		t.Errorf("status %+v", st)
	}
}
