package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// dnsLab is SEMANTICS.md section 4's worked example as a lab: Service web in shop at
// 10.96.12.34 (a named port; plain has an unnamed one), headless db with pods db-0 and db-1
// (hostname and subdomain set) and db-2, ExternalName ext, a selectorless headless
// Service with 60 hand-written endpoints (too many for 512 bytes), a client pod in shop
// and one in other, and a host serving example.com as the cluster DNS's upstream.
const dnsLab = `name: %s
cluster:
  dns: {upstream: dns-server}
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
hosts:
  - name: dns-server
    dns:
      zones:
        example.com: |
          api  A     172.30.0.100
          www  CNAME api
manifests:
  - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
  - {apiVersion: v1, kind: Namespace, metadata: {name: other}}
  - apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    spec:
      clusterIP: 10.96.12.34
      selector: {app: web}
      ports: [{name: http, port: 80, targetPort: 8080}]
  - apiVersion: v1
    kind: Service
    metadata: {name: plain, namespace: shop}
    spec: {selector: {app: web}, ports: [{port: 9090}]}
  - apiVersion: v1
    kind: Service
    metadata: {name: db, namespace: shop}
    spec: {clusterIP: None, selector: {app: db}, ports: [{name: pg, port: 5432}]}
  - apiVersion: v1
    kind: Service
    metadata: {name: ext, namespace: shop}
    spec: {type: ExternalName, externalName: www.example.com}
  - apiVersion: v1
    kind: Service
    metadata: {name: many, namespace: shop}
    spec: {clusterIP: None, ports: [{port: 80}]}
  - apiVersion: discovery.k8s.io/v1
    kind: EndpointSlice
    metadata: {name: many-1, namespace: shop, labels: {kubernetes.io/service-name: many}}
    addressType: IPv4
    ports: [{port: 80}]
    endpoints: [%s]
%s
  - apiVersion: v1
    kind: Pod
    metadata: {name: client, namespace: shop, annotations: {podlab.dev/ip: 10.244.1.20}}
    spec: {nodeName: worker-1, containers: [{name: c, image: busybox}]}
  - apiVersion: v1
    kind: Pod
    metadata: {name: far, namespace: other}
    spec: {nodeName: worker-2, containers: [{name: c, image: busybox}]}
`

const dbPod = `  - apiVersion: v1
    kind: Pod
    metadata: {name: %s, namespace: shop, labels: {app: db}, annotations: {podlab.dev/ip: %s}}
    spec: {hostname: %s, subdomain: db, nodeName: %s, containers: [{name: pg, image: postgres, ports: [{containerPort: 5432}]}]}
`

func TestClusterDNS(t *testing.T) {
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig is not installed (apt-get install bind9-dnsutils; scripts/test.sh installs it)")
	}
	e := newEnv(t)
	name := uniq("cdns")
	var many []string
	for i := range 60 {
		many = append(many, fmt.Sprintf("{addresses: [192.0.2.%d]}", i+1))
	}
	pods := fmt.Sprintf(dbPod, "db-0", "10.244.1.5", "db-0", "worker-1") + fmt.Sprintf(dbPod, "db-1", "10.244.2.7", "db-1", "worker-2") +
		fmt.Sprintf(dbPod, "db-2", "10.244.2.9", "db-2", "worker-2") +
		"  - {apiVersion: v1, kind: Pod, metadata: {name: web-1, namespace: shop, labels: {app: web}}, spec: {containers: [{name: w, image: nginx, ports: [{name: http, containerPort: 8080}]}]}}\n"
	st := e.deploy(name, fmt.Sprintf(dnsLab, name, strings.Join(many, ", "), strings.TrimRight(pods, "\n")))
	in := func(pod, ns string, argv ...string) string {
		t.Helper()
		out, errs, code := e.run(append([]string{"exec", "--name", name, "-n", ns, pod, "--"}, argv...)...)
		if code != 0 && argv[0] != "dig" {
			t.Errorf("%s in %s/%s: exit %d: %s", strings.Join(argv, " "), ns, pod, code, errs)
		}
		return strings.TrimSpace(out)
	}
	dig := func(args ...string) string { return in("client", "shop", append([]string{"dig"}, args...)...) }
	short := func(args ...string) string {
		lines := strings.Fields(dig(append([]string{"+short"}, args...)...))
		sort.Strings(lines)
		return strings.Join(lines, " ")
	}
	status := func(args ...string) (string, string) {
		out := dig(append([]string{"+noall", "+comments", "+answer"}, args...)...)
		m := regexp.MustCompile(`status: (\w+),`).FindStringSubmatch(out)
		n := regexp.MustCompile(`ANSWER: (\d+),`).FindStringSubmatch(out)
		if m == nil || n == nil {
			t.Fatalf("dig %v: no status in\n%s", args, out)
		}
		return m[1], n[1]
	}

	// The worked examples, asked by real resolvers from a pod in shop.
	for _, c := range []struct{ args, want string }{
		{"+search web", "10.96.12.34"},
		{"AAAA web.shop.svc.cluster.local.", ""},
		{"SRV _http._tcp.web.shop.svc.cluster.local.", "0 100 80 web.shop.svc.cluster.local."},
		{"-x 10.96.12.34", "web.shop.svc.cluster.local."},
		{"db.shop.svc.cluster.local.", "10.244.1.5 10.244.2.7 10.244.2.9"},
		{"db-0.db.shop.svc.cluster.local.", "10.244.1.5"},
		{"-x 10.244.1.5", "db-0.db.shop.svc.cluster.local."},
		{"SRV _pg._tcp.db.shop.svc.cluster.local.", "0 0 0 33 33 33 5432 5432 5432 db-0.db.shop.svc.cluster.local. db-1.db.shop.svc.cluster.local. db-2.db.shop.svc.cluster.local."},
		{"ext.shop.svc.cluster.local.", "172.30.0.100 api.example.com. www.example.com."},
		{"10-244-1-5.shop.pod.cluster.local.", "10.244.1.5"},
		{"TXT dns-version.cluster.local.", `"1.1.0"`},
		{"WEB.Shop.SVC.Cluster.Local.", "10.96.12.34"},
		{"+tcp web.shop.svc.cluster.local.", "10.96.12.34"},
		{"kubernetes.default.svc.cluster.local.", "10.96.0.1"},
	} {
		if got := short(strings.Fields(c.args)...); got != c.want {
			t.Errorf("dig %s = %q, want %q", c.args, got, c.want)
		}
	}
	for _, c := range []struct{ q, rcode, answers string }{
		{"AAAA web.shop.svc.cluster.local.", "NOERROR", "0"}, // NODATA: an IPv4 Service
		{"nosuch.shop.svc.cluster.local.", "NXDOMAIN", "0"},
		{"shop.svc.cluster.local.", "NOERROR", "0"},                       // the namespace exists
		{"nons.svc.cluster.local.", "NXDOMAIN", "0"},                      // it does not
		{"SRV _9090._tcp.plain.shop.svc.cluster.local.", "NXDOMAIN", "0"}, // an unnamed port has no SRV
		{"nosuch.example.org.", "REFUSED", "0"},                           // the upstream is authoritative only
	} {
		if rc, n := status(strings.Fields(c.q)...); rc != c.rcode || n != c.answers {
			t.Errorf("dig %s: %s with %s answers, want %s with %s", c.q, rc, n, c.rcode, c.answers)
		}
	}
	// Search paths: web.shop from another namespace, getent (glibc), both nslookups.
	if got := in("far", "other", "getent", "hosts", "web.shop"); !strings.HasPrefix(got, "10.96.12.34 ") {
		t.Errorf("getent hosts web.shop from other = %q", got)
	}
	if got := in("client", "shop", "nslookup", "kubernetes.default"); !strings.Contains(got, "Address: 10.96.0.1") {
		t.Errorf("nslookup kubernetes.default:\n%s", got)
	}
	if got := in("client", "shop", "busybox", "nslookup", "db-1.db.shop.svc.cluster.local"); !strings.Contains(got, "10.244.2.7") {
		t.Errorf("busybox nslookup db-1:\n%s", got)
	}
	// 60 addresses do not fit 512 bytes: the UDP answer is truncated, dig asks again
	// over TCP and gets them all.
	if out := dig("+noedns", "many.shop.svc.cluster.local."); !strings.Contains(out, "Truncated, retrying in TCP mode") || strings.Count(out, "192.0.2.") != 60 {
		t.Errorf("dig +noedns many: want a truncated answer retried over TCP with 60 addresses:\n%s", out)
	}
	if got := strings.Count(short("+bufsize=4096", "many.shop.svc.cluster.local."), "192.0.2."); got != 60 {
		t.Errorf("with a 4096-byte EDNS0 buffer: %d addresses over UDP, want 60", got)
	}

	// Changes show in the answers once the write returns.
	node := st.Nodes[2].Netns // worker-2
	if out, err := exec.Command("ip", "netns", "exec", node, "wget", "-qO-", "http://10.244.2.9:5432/podlab/fail-readiness").CombinedOutput(); err != nil {
		t.Fatalf("breaking db-2's readiness: %v %s", err, out)
	}
	eventually(t, 15*time.Second, func() string {
		if got := short("db.shop.svc.cluster.local."); got != "10.244.1.5 10.244.2.7" {
			return "db answers " + got + " after db-2 turned not ready"
		}
		return ""
	})
	e.must("apply", "--name", name, "-f", writeLab(t, "apiVersion: v1\nkind: Service\nmetadata: {name: late, namespace: shop}\nspec: {clusterIP: 10.96.12.99, ports: [{port: 80}]}\n"))
	start := time.Now()
	if got := short("late.shop.svc.cluster.local."); got != "10.96.12.99" {
		t.Errorf("a Service applied a moment ago: %q", got)
	}
	t.Logf("a new Service answered %v after apply returned (one dig)", time.Since(start).Round(time.Millisecond))
	e.must("delete", "--name", name, "-n", "shop", "svc", "late")
	if rc, _ := status("late.shop.svc.cluster.local."); rc != "NXDOMAIN" {
		t.Errorf("a deleted Service: %s, want NXDOMAIN", rc)
	}
	// Without a ready CoreDNS pod the Service has no endpoint: queries are rejected at
	// once by kube-proxy, and the Deployment brings the pods back.
	for _, p := range e.pods(name, "-n", "kube-system") {
		e.must("delete", "--name", name, "-n", "kube-system", "pod", p.Name)
	}
	eventually(t, 15*time.Second, func() string {
		if got := short("web.shop.svc.cluster.local."); got != "10.96.12.34" {
			return "after the CoreDNS pods were deleted: " + got
		}
		return ""
	})
}
