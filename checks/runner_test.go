package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"podlab.dev/podlab/topology"
)

// parse reads checks as a checks file would give them, against the fake lab's names.
func parse(t *testing.T, text string, files map[string]string) []topology.Check {
	t.Helper()
	names := topology.NewCheckNames()
	for _, p := range []string{"web-1", "web-2", "db"} {
		names.Pods["default/"+p] = true
	}
	names.Hosts["client"] = true
	names.Nodes["worker-1"] = true
	names.AddObject("Service", "default", "web")
	names.AddObject("Deployment", "default", "web")
	read := func(name string) ([]byte, error) { return []byte(files[strings.TrimPrefix(name, "/")]), nil }
	list, err := topology.ParseChecks("/checks.yaml", []byte("checks:\n"+text), names, read)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func runner(f *fakeLab) *Runner {
	return &Runner{Client: f, Dial: f.dialer, Timeout: 50 * time.Millisecond, HTTPTimeout: time.Second, Parallel: 4, Retry: 20 * time.Millisecond}
}

func TestRun(t *testing.T) {
	f := newFakeLab(t)
	list := parse(t, `
  - {name: client to web, from: client, to: web.default, port: 80}
  - {name: db blocked, from: client, to: default/db, port: 5432, expect: blocked}
  - {name: db allowed, from: client, to: default/db, port: 5432}
  - {name: refused is not blocked, from: client, to: default/web-1, port: 81, expect: blocked}
  - {name: refused, from: client, to: default/web-1, port: 81, expect: refused}
  - {name: node port, from: client, to: "worker-1:30080"}
  - {name: by name, from: web-1, to: web, port: 80}
  - {name: dns, from: web-1, resolve: web, expect: {addresses: [10.96.0.20]}}
  - {name: dns nxdomain, from: web-1, resolve: nope, expect: {rcode: NXDOMAIN}}
  - {name: dns nodata, from: web-1, resolve: web, type: AAAA, expect: {rcode: NODATA}}
  - {name: dns wrong, from: web-1, resolve: web, expect: {addresses: [10.96.0.21]}}
  - {name: http echo, from: client, url: "http://web-1/echo", headers: {Host: example.com, X-A: b}, expect: {status: 200, bodyJSON: {host: example.com, path: /echo}, headers: {Content-Type: application/json}}}
  - {name: http wrong pod, from: client, url: "http://web-2/", expect: {bodyJSON: {pod: web-1}}}
  - {name: http by name, from: web-1, url: "http://web/hostname", expect: {body: web-}}
  - {name: http status, from: client, url: "http://10.244.1.2/hostname", expect: {status: 404}}
`, nil)
	res := runner(f).Run(context.Background(), list)
	want := []struct {
		pass   bool
		detail string
	}{
		{true, "client -> 10.96.0.20:80: allowed, answered by web-"},
		{true, "client -> 10.244.1.9:5432: blocked: timed out (2 tries)"},
		{false, "client -> 10.244.1.9:5432: blocked: timed out (2 tries); expected allowed"},
		{false, "client -> 10.244.1.2:81: refused: nothing listens on 10.244.1.2:81/tcp (or a Service without ready endpoints); not a NetworkPolicy verdict; expected blocked"},
		{true, "client -> 10.244.1.2:81: refused: nothing listens on 10.244.1.2:81/tcp (or a Service without ready endpoints); not a NetworkPolicy verdict"},
		{true, "client -> 172.30.0.2:30080: allowed, answered by web-2"},
		{true, "default/web-1 -> 10.96.0.20:80: allowed, answered by web-"},
		{true, "web.default.svc.cluster.local: A 10.96.0.20 (1 query)"},
		{true, "nope A: NXDOMAIN (4 queries)"},
		{true, "web AAAA: NODATA (4 queries)"},
		{false, "web.default.svc.cluster.local: A 10.96.0.20 (1 query); expected 10.96.0.21"},
		{true, `200, host example.com, path /echo, Content-Type: "application/json"`},
		{false, "200, pod web-2; expected pod web-1"},
		{true, `200, body contains "web-"`},
		{false, "200, \"web-1\"; expected status 404"},
	}
	if len(res) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(res), len(want), res)
	}
	for i, w := range want {
		r := res[i]
		if r.Pass != w.pass || !strings.HasPrefix(r.Detail, w.detail) || r.Name != list[i].Name {
			t.Errorf("%s: pass %v, %q\nwant pass %v, %q", r.Name, r.Pass, r.Detail, w.pass, w.detail)
		}
	}
}

func TestSpread(t *testing.T) {
	f := newFakeLab(t)
	list := parse(t, "  - {name: spread, from: client, to: web.default, port: 80, requests: 4}\n", nil)
	res := runner(f).Run(context.Background(), list)
	if r := res[0]; !r.Pass || r.Detail != "4 requests to 10.96.0.20:80: web-1 2, web-2 2 (all 2 ready endpoints)" {
		t.Errorf("spread: %+v", r)
	}
	// web-2 is ready but kube-proxy never sends it anything.
	f.routes["10.96.0.20:80"] = []string{"web-1"}
	res = runner(f).Run(context.Background(), list)
	if r := res[0]; r.Pass || r.Detail != "4 requests to 10.96.0.20:80: web-1 4; never answered: web-2 (expected all 2 ready endpoints)" {
		t.Errorf("spread: %+v", r)
	}
	// The Service must have 2 ready endpoints.
	two := parse(t, "  - {name: spread, from: client, to: web.default, port: 80, requests: 4, expect: {endpoints: 2}}\n", nil)
	f.st.Pods[1].Ready = false
	res = runner(f).Run(context.Background(), two)
	if r := res[0]; r.Pass || r.Detail != "Service default/web has 1 ready endpoint: web-1; expected 2" {
		t.Errorf("spread: %+v", r)
	}
	// A not-ready pod is no endpoint.
	f.st.Pods[1].Ready = false
	res = runner(f).Run(context.Background(), list)
	if r := res[0]; !r.Pass || r.Detail != "4 requests to 10.96.0.20:80: web-1 4 (all 1 ready endpoints)" {
		t.Errorf("spread: %+v", r)
	}
}

// A step's checks are retried until they pass: db becomes reachable a while after
// web-1 is deleted.
func TestStep(t *testing.T) {
	f := newFakeLab(t)
	f.onDelete = func(f *fakeLab, name string) {
		time.AfterFunc(150*time.Millisecond, func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			delete(f.blocked, "ns-client>10.244.1.9:5432")
		})
	}
	list := parse(t, `
  - name: delete web-1
    after: {delete: pod/web-1}
    within: 5s
    checks:
      - {name: db allowed, from: client, to: default/db, port: 5432}
  - {name: first, from: client, to: default/db, port: 5432, expect: blocked}
`, nil)
	res := runner(f).Run(context.Background(), list)
	if len(res) != 3 || res[0].Name != "first" || !res[0].Pass {
		t.Fatalf("independent checks run first: %+v", res)
	}
	head, inner := res[1], res[2]
	if !head.Pass || !strings.HasPrefix(head.Detail, "delete pod/web-1; 1 check passed after ") || strings.HasSuffix(head.Detail, "(1 round)") {
		t.Errorf("step: %+v", head)
	}
	if !inner.Pass || inner.Step != "delete web-1" {
		t.Errorf("inner: %+v", inner)
	}
	if strings.Join(f.actions, ";") != "delete default/web-1" {
		t.Errorf("actions = %q", f.actions)
	}
}

func TestStepFails(t *testing.T) {
	f := newFakeLab(t)
	files := map[string]string{"deny.yaml": "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny}\nspec:\n  podSelector: {}\n"}
	list := parse(t, `
  - name: never
    after: {scale: deployment/web=3}
    within: 200ms
    checks:
      - {name: db allowed, from: client, to: default/db, port: 5432}
  - name: broken action
    after: {deleteManifest: deny.yaml}
    checks:
      - {name: web, from: client, to: web.default, port: 80}
`, files)
	res := runner(f).Run(context.Background(), list)
	if len(res) != 4 {
		t.Fatalf("results: %+v", res)
	}
	if r := res[0]; r.Pass || !strings.HasPrefix(r.Detail, "scale deployment/web=3; 1 of 1 check still failing after ") || !strings.Contains(r.Detail, "(within: 200ms, ") {
		t.Errorf("step: %+v", r)
	}
	if r := res[1]; r.Pass || !strings.HasSuffix(r.Detail, "expected allowed") {
		t.Errorf("inner: %+v", r)
	}
	if r := res[2]; r.Pass || r.Detail != "deleteManifest deny.yaml: NetworkPolicy/deny: not found" {
		t.Errorf("action: %+v", r)
	}
	if r := res[3]; r.Pass || r.Detail != "not run: the step's action failed" || r.Step != "broken action" {
		t.Errorf("not run: %+v", r)
	}
	if got := strings.Join(f.actions, "; "); got != "scale Deployment default/web=3; delete 1 objects" {
		t.Errorf("actions = %q", got)
	}
}

func TestActions(t *testing.T) {
	f := newFakeLab(t)
	f.routes["127.0.0.1:80"] = []string{"web-1"}
	list := parse(t, `
  - name: relabel
    after: {label: pod/web-1 app- tier=front}
    checks:
      - {name: a, from: client, to: web.default, port: 80}
  - name: unready
    after: {breakReadiness: pod/web-1}
    checks:
      - {name: b, from: client, to: web.default, port: 80}
  - name: apply
    after: {apply: svc.yaml}
    within: 100ms
    checks:
      - {name: c, from: client, to: api.default, port: 80}
`, map[string]string{"svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  ports: [{port: 80}]\n"})
	res := runner(f).Run(context.Background(), list)
	want := "label default/web-1 map[tier:front]; fail-readiness web-1; apply 1 objects"
	if got := strings.Join(f.actions, "; "); got != want {
		t.Errorf("actions = %q, want %q", got, want)
	}
	// api.default was applied by the step: not in the fake lab, so the check fails
	// at run time instead of at validation.
	if r := res[5]; r.Pass || r.Detail != "lab demo has no Service default/api now" {
		t.Errorf("c: %+v", r)
	}
}

func TestFilter(t *testing.T) {
	list := []topology.Check{{Name: "dns a"}, {Name: "step", Checks: []topology.Check{{Name: "dns b"}, {Name: "c"}}}, {Name: "d"}}
	var got []string
	for _, c := range Filter(list, func(s string) bool { return strings.HasPrefix(s, "dns") }) {
		got = append(got, c.Name)
		for _, i := range c.Checks {
			got = append(got, "  "+i.Name)
		}
	}
	if strings.Join(got, ",") != "dns a,step,  dns b" {
		t.Errorf("Filter = %q", got)
	}
}
