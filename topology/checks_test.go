package topology

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// checksLab is a lab with a pod, a host, a node, a Deployment and a Service for checks
// to name; its checks: start on line 21.
const checksLab = `name: a
nodes:
  - name: worker-1
hosts:
  - name: client
pods:
  - name: web-1
    labels: {app: web}
    ports: [80]
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec:
      selector: {app: web}
      ports: [{port: 80}]
  - apiVersion: v1
    kind: Namespace
    metadata: {name: shop}
checks:
`

func TestChecks(t *testing.T) {
	lab := checksLab + `  - name: reach
    from: client
    to: web.shop
    port: 80
  - name: blocked
    from: default/web-1
    to: worker-1:30080
    protocol: udp
    expect: blocked
  - name: dns
    from: web-1
    resolve: web.shop
    expect: {addresses: [10.96.0.20]}
  - name: srv
    from: web-1
    resolve: _http._tcp.web.shop
    type: srv
    expect: {answers: ["0 100 80 web.shop.svc.cluster.local."]}
  - name: http
    from: client
    url: http://web.shop:8080/echo
    headers: {Host: example.com}
    expect: {status: 404, body: not found, bodyJSON: {pod: web-1}, headers: {Server: nginx}}
  - name: spread
    from: web-1
    to: web.shop
    port: 80
    requests: 7
  - name: after
    after: {apply: policy.yaml}
    within: 3s
    checks:
      - name: inner
        from: web-1
        to: example.com
        port: 80
`
	policy := "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  ports: [{port: 80}]\n"
	l, err := Parse("lab.yaml", []byte(lab), files{"policy.yaml": policy}.read)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Checks) != 7 {
		t.Fatalf("%d checks", len(l.Checks))
	}
	byName := map[string]Check{}
	for _, c := range l.Checks {
		byName[c.Name] = c
	}
	for _, tc := range []struct {
		name string
		got  any
		want any
	}{
		{"reach kind", byName["reach"].Kind, CheckReach},
		{"reach from", *byName["reach"].From, Endpoint{Kind: EndpointHost, Name: "client", Text: "client"}},
		{"reach to", *byName["reach"].To, Endpoint{Kind: EndpointService, Namespace: "shop", Name: "web", Port: 80, Text: "web.shop"}},
		{"reach defaults", byName["reach"].Protocol + " " + byName["reach"].Expect, "TCP allowed"},
		{"reach line", byName["reach"].Pos.Line, 21},
		{"node port", *byName["blocked"].To, Endpoint{Kind: EndpointNode, Name: "worker-1", Port: 30080, Text: "worker-1:30080"}},
		{"udp blocked", byName["blocked"].Protocol + " " + byName["blocked"].Expect, "UDP blocked"},
		{"dns", byName["dns"].DNS.Addresses[0], netip.MustParseAddr("10.96.0.20")},
		{"dns type", byName["dns"].Type + " " + byName["srv"].Type, "A SRV"},
		{"srv answers", byName["srv"].DNS.Answers[0], "0 100 80 web.shop.svc.cluster.local."},
		{"http to", *byName["http"].To, Endpoint{Kind: EndpointService, Namespace: "shop", Name: "web", Port: 8080, Text: "web.shop:8080"}},
		{"http expect", byName["http"].HTTP.Status*1000 + len(byName["http"].HTTP.BodyJSON), 404001},
		{"spread", byName["spread"].Kind, CheckSpread},
		{"requests", byName["spread"].Requests, 7},
		{"step", byName["after"].Within, 3 * time.Second},
		{"step objects", byName["after"].After.Objects[0].Name, "api"},
		{"step file", byName["after"].After.File, "policy.yaml"},
		{"inner name", byName["after"].Checks[0].To.Kind, EndpointName},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestCheckErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		checks string
		files  files
		want   []string
	}{
		{name: "no name, no kind", checks: "  - from: client\n", want: []string{
			"lab.yaml:21:5: checks[0].name: required\n  hint: name each check for the report, e.g. name: web reachable from client",
			"lab.yaml:21:5: checks[0]: say what to check\n  hint: write to: (reachability), resolve: (DNS), url: (HTTP), requests: (spread over a Service's endpoints) or after: (a step)",
		}},
		{name: "unknown field", checks: "  - name: x\n    form: client\n", want: []string{
			"lab.yaml:22:5: checks[0].form: unknown field \"form\"; did you mean \"from\"?",
		}},
		{name: "map instead of list", checks: "  name: x\n", want: []string{
			"lab.yaml:21:3: checks: expected a list, got a map\n  hint: write each check as a list item: checks:\n          - name: web answers\n            from: client\n            to: web.default\n            port: 80",
		}},
		{name: "reach", checks: "  - name: x\n    from: clinet\n    to: api.shop\n    port: 80\n  - name: x\n    from: web-1\n    to: web.shop\n    expect: maybe\n  - name: c2\n    from: client\n    to: example.com\n    port: 70000\n  - name: z\n    from: client\n    to: http://web.shop:80/\n    port: 80\n    protocol: sctp\n", want: []string{
			"lab.yaml:22:11: checks[0].from: the lab has no pod default/clinet and no host clinet\n  hint: did you mean \"client\"?",
			"lab.yaml:23:9: checks[0].to: namespace shop has no Service api\n  hint: Services of namespace shop: web",
			"lab.yaml:25:5: checks[1].port: required\n  hint: the destination port, e.g. port: 80 (a Service's port for a Service)",
			"lab.yaml:25:11: checks[1].name: duplicate check name \"x\" (first at line 21)\n  hint: give every check its own name: reports and JUnit list them by name",
			"lab.yaml:28:13: checks[1].expect: unsupported value \"maybe\"\n  hint: allowed: connected; blocked: no answer (a NetworkPolicy drops); refused: nothing listens, or a Service without ready endpoints",
			"lab.yaml:31:9: checks[2].to: example.com would be resolved by client, a host\n  hint: from a host, name a pod, a Service (SVC.NS), NODE:PORT or an address: a host has no cluster resolver",
			"lab.yaml:36:11: checks[3].port: to: http://web.shop:80/ already says port 80\n  hint: write the port once",
			"lab.yaml:37:15: checks[3].protocol: unsupported protocol \"sctp\"\n  hint: write tcp or udp",
		}},
		{name: "kinds mixed", checks: "  - name: x\n    from: web-1\n    resolve: web\n    url: http://web.shop/\n  - name: c2\n    from: web-1\n    resolve: web\n    port: 53\n", want: []string{
			"lab.yaml:24:10: checks[0].url: a check is of one kind: resolve: makes it a dns check, url: a http check\n  hint: write two checks, one with resolve: and one with url:",
			"lab.yaml:28:11: checks[1].port: port is not a field of a dns check\n  hint: fields of a dns check: name, expect, from, resolve, type",
		}},
		{name: "dns", checks: "  - name: x\n    from: client\n    resolve: web\n    expect: {rcode: NXDOMAIN}\n  - name: c2\n    from: web-1\n    resolve: web\n  - name: z\n    from: web-1\n    resolve: web\n    type: AAA\n    expect: {adresses: [10.0.0.1]}\n  - name: w\n    from: web-1\n    resolve: web\n    type: SRV\n    expect: {addresses: [10.0.0.1], rcode: NODATA}\n  - name: v\n    from: web-1\n    resolve: web\n    expect: {addresses: [fd00::1], rcode: SERVFAIL}\n", want: []string{
			"lab.yaml:22:11: checks[0].from: a DNS check runs from a pod, client is a host\n  hint: ask from a pod: a host has no cluster resolver (its DNS server answers its own zones)",
			"lab.yaml:25:5: checks[1].expect: required: what the answer must be\n  hint: e.g. expect: {addresses: [10.96.0.10]}, {cname: api.example.com} or {rcode: NXDOMAIN}",
			"lab.yaml:31:11: checks[2].type: unsupported type \"AAA\"; did you mean \"AAAA\"?\n  hint: supported types: A, AAAA, SRV, PTR, TXT, CNAME, MX, NS, SOA, ANY",
			"lab.yaml:32:14: checks[2].expect.adresses: unknown field \"adresses\"; did you mean \"addresses\"?",
			"lab.yaml:37:25: checks[3].expect.addresses: addresses are the values of A and AAAA records, not SRV\n  hint: compare other records with answers: [\"0 100 80 web.shop.svc.cluster.local.\"]",
			"lab.yaml:37:44: checks[3].expect.rcode: rcode with answers\n  hint: an NXDOMAIN or NODATA answer has no records: write rcode alone",
			"lab.yaml:41:26: checks[4].expect.addresses[0]: fd00::1 is not an address of an A record\n  hint: A records are IPv4, AAAA records IPv6",
			"lab.yaml:41:43: checks[4].expect.rcode: rcode with answers\n  hint: an NXDOMAIN or NODATA answer has no records: write rcode alone",
		}},
		{name: "http", checks: "  - name: x\n    from: web-1\n    url: ftp://web.shop/\n  - name: c2\n    from: client\n    url: http://web-1/\n    expect: {status: 900, bodyJSON: {pdo: x}, body: [a]}\n", want: []string{
			"lab.yaml:23:10: checks[0].url: a check's URL is http:// or https://, got \"ftp://web.shop/\"\n  hint: e.g. url: http://web.default/hostname",
			"lab.yaml:27:53: checks[1].expect.body: expected a string, got a list",
		}},
		{name: "http values", checks: "  - name: c2\n    from: client\n    url: http://web-1/\n    expect: {status: 900, bodyJSON: {pdo: x}}\n", want: []string{
			"lab.yaml:24:22: checks[0].expect.status: invalid status 900\n  hint: an HTTP status such as 200 or 404",
			"lab.yaml:24:43: checks[0].expect.bodyJSON[pdo]: unknown echo field \"pdo\"; did you mean \"pod\"?\n  hint: fields of an echo server's answer: host, method, namespace, path, pod, proto, service",
		}},
		{name: "spread by expect", checks: "  - name: x\n    from: web-1\n    to: web.shop\n    port: 80\n    expect: {endpoints: 30}\n", want: []string{
			"lab.yaml:21:5: checks[0].requests: 20 requests cannot reach 30 endpoints\n  hint: send at least as many requests as endpoints, e.g. requests: 300",
		}},
		{name: "spread", checks: "  - name: x\n    from: web-1\n    to: default/web-1\n    port: 80\n    requests: 0\n    expect: {allEndpoints: false}\n", want: []string{
			"lab.yaml:23:9: checks[0].to: a spread check goes to a Service, got pod default/web-1\n  hint: name the Service as SVC.NS, e.g. to: web.default",
			"lab.yaml:25:15: checks[0].requests: 0 requests: expected 1 to 1000\n  hint: enough to reach every endpoint, e.g. requests: 20",
			"lab.yaml:26:28: checks[0].expect.allEndpoints: only allEndpoints: true can be checked\n  hint: a spread check passes when every ready endpoint answered: drop expect",
		}},
		{name: "steps", checks: "  - name: x\n    after: {scale: deployment/nope=2}\n    checks:\n      - name: c2\n        from: web-1\n        to: worker-2:30080\n  - name: z\n    after: {delete: pod/web-1, label: pod/web-1 a=b}\n    within: forever\n  - name: w\n    after: {label: pod/web-1 =x, namespace: shop}\n    from: web-1\n    checks:\n      - name: v\n        after: {breakReadiness: web-1}\n", want: []string{
			"lab.yaml:22:20: checks[0].after.scale: the lab has no deployment nope in namespace default\n  hint: workloads of the lab: none",
			"lab.yaml:26:13: checks[0].checks[0].to: the lab has no node worker-2; did you mean \"worker-1\"?\n  hint: nodes: worker-1",
			"lab.yaml:27:5: checks[1].checks: required: a step needs checks\n  hint: list what must hold after the action, e.g.\n        checks:\n          - name: web still answers\n            from: client\n            to: web.default\n            port: 80",
			"lab.yaml:28:39: checks[1].after.label: a step does one thing: delete and label\n  hint: write one step per action",
			"lab.yaml:29:13: checks[1].within: invalid duration \"forever\"\n  hint: a duration up to 10m, such as 10s or 1m30s",
			"lab.yaml:32:11: checks[2].from: from is not a field of a step check\n  hint: fields of a step check: name, after, within, checks",
		}},
		{name: "step actions", checks: "  - name: w\n    after: {label: pod/web-1 =x, namespace: shop}\n    checks:\n      - name: v\n        after: {breakReadiness: web-1}\n  - name: u\n    after: {apply: missing.yaml}\n    checks:\n      - {name: t, from: web-1, to: web.shop, port: 80}\n  - name: s\n    after: {deleteManifest: bad.yaml}\n    checks:\n      - {name: r, from: web-1, to: web.shop, port: 80}\n",
			files: files{"bad.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: ClusterIp\n"}, want: []string{
				"lab.yaml:22:20: checks[0].after.label: the lab has no pod web-1 in namespace shop\n  hint: write it with its namespace: default/web-1",
				"lab.yaml:22:20: checks[0].after.label: invalid label \"=x\": name part must be non-empty; name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')\n  hint: e.g. label: pod/web-1 app=other (k- removes k)",
				"lab.yaml:25:16: checks[0].checks[0].after: a step cannot hold steps\n  hint: put the step after this one in the top-level checks list: steps run in order",
				"lab.yaml:27:20: checks[1].after.apply: cannot read manifest file missing.yaml: file does not exist\n  hint: paths are relative to the file's directory",
				"bad.yaml:5:9: documents[0] (Service default/web): spec.type: unsupported value \"ClusterIp\"; did you mean \"ClusterIP\"?\n  hint: supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("lab.yaml", []byte(checksLab+tc.checks), tc.files.read)
			checkErrors(t, err, tc.want)
		})
	}
}

func TestParseChecks(t *testing.T) {
	names := NewCheckNames()
	names.Pods["shop/api-1"] = true
	names.Hosts["client"] = true
	names.AddObject("Service", "shop", "api")
	names.AddObject("Deployment", "shop", "api")
	good := "checks:\n  - name: x\n    from: shop/api-1\n    to: api.shop\n    port: 80\n  - name: c2\n    after: {scale: deployment/api=3, namespace: shop}\n    checks:\n      - {name: z, from: client, to: api.shop, port: 80, requests: 9}\n"
	list, err := ParseChecks("checks.yaml", []byte(good), names, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[1].After.Replicas != 3 || list[1].After.Kind != "Deployment" || list[1].Checks[0].Kind != CheckSpread {
		t.Errorf("checks = %+v", list)
	}
	for _, tc := range []struct{ text, want string }{
		{"colour: red\nchecks: []\n", "checks.yaml:1:1: colour: unknown field \"colour\"\n  hint: fields here: checks"},
		{"name: lab\nnodes: [{name: n1}]\nchecks: []\n", "checks.yaml:2:1: this is a lab file, not a checks file\n  hint: podlab check runs the deployed lab file's checks without -f; -f takes a file with only a checks: list"},
		{"- name: x\n", "checks.yaml: a checks file is one map with a checks: list\n  hint: e.g.\n        checks:\n          - name: web answers\n            from: client\n            to: web.default\n            port: 80"},
		{"checks:\n  - {name: x, from: api-1, to: api.shop, port: 80}\n", "checks.yaml:2:21: checks[0].from: the lab has no pod default/api-1 and no host api-1\n  hint: write it with its namespace: shop/api-1"},
	} {
		_, err := ParseChecks("checks.yaml", []byte(tc.text), names, nil)
		if got := strings.Join(render(err), "\n"); got != tc.want {
			t.Errorf("ParseChecks(%q):\ngot  %s\nwant %s", tc.text, got, tc.want)
		}
	}
}
