package e2e

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checkLab has one check of each kind and a step; "web-2 closed" fails on purpose
// (nothing blocks it), so podlab check must exit 1 and say so in the table and JUnit.
const checkLab = `name: %s
nodes:
  - {name: worker-1}
  - {name: worker-2}
hosts:
  - name: client
pods:
  - {name: web-1, node: worker-1, labels: {app: web}, ports: [80]}
  - {name: web-2, node: worker-2, labels: {app: web}, ports: [80]}
  - {name: c1, node: worker-1}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      clusterIP: 10.96.77.7
      selector: {app: web}
      ports: [{port: 80}]
  - apiVersion: v1
    kind: Service
    metadata: {name: web-np}
    spec:
      type: NodePort
      selector: {app: web}
      ports: [{port: 80, nodePort: 30080}]
  - apiVersion: v1
    kind: Pod
    metadata: {name: echo, labels: {app: echo}}
    spec:
      nodeName: worker-2
      containers:
        - name: echo
          image: gcr.io/k8s-staging-gateway-api/echo-basic:v20240412-v1.0.0-394-g40c666fd
  - apiVersion: v1
    kind: Service
    metadata: {name: echo}
    spec:
      selector: {app: echo}
      ports: [{port: 80, targetPort: 3000}]
checks:
  - name: client reaches the NodePort
    from: client
    to: worker-1:30080
  - name: c1 reaches web by name
    from: c1
    to: web.default.svc.cluster.local
    port: 80
  - name: web resolves
    from: c1
    resolve: web
    expect: {addresses: [10.96.77.7]}
  - name: nope does not resolve
    from: c1
    resolve: nope.default.svc.cluster.local.
    expect: {rcode: NXDOMAIN}
  - name: echo says who answered
    from: c1
    url: http://echo.default/hello
    headers: {Host: shop.example}
    expect: {status: 200, bodyJSON: {pod: echo, path: /hello, host: shop.example}}
  - name: web spreads
    from: c1
    to: web.default
    port: 80
    requests: 20
  - name: web-2 closed
    from: c1
    to: default/web-2
    port: 80
    expect: blocked
  - name: web-1 deleted
    after: {delete: pod/web-1}
    within: 10s
    checks:
      - name: web still answers
        from: c1
        to: web.default
        port: 80
`

func TestCheck(t *testing.T) {
	e := newEnv(t)
	name := uniq("check")
	e.deploy(name, fmt.Sprintf(checkLab, name))
	junit := filepath.Join(t.TempDir(), "junit.xml")
	out, errs, code := e.run("check", "--name", name, "--junit", junit)
	t.Logf("podlab check:\n%s%s", out, errs)
	if code != 1 || !strings.Contains(errs, "1 of 9 checks failed") {
		t.Fatalf("exit %d, stderr %q: want 1 and one failed check", code, errs)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n")[1:] {
		if f := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1); len(f) >= 4 {
			rows[f[0]] = f[1] + " " + f[2] + " " + f[3]
		}
	}
	for check, want := range map[string]string{
		"client reaches the NodePort": `reach pass client -> 172.30.0.\d+:30080: allowed, answered by web-[12]`,
		"c1 reaches web by name":      `reach pass default/c1 -> 10.96.77.7:80: allowed, answered by web-[12]`,
		"web resolves":                `dns pass web.default.svc.cluster.local: A 10.96.77.7 \(1 query\)`,
		"nope does not resolve":       `dns pass nope.default.svc.cluster.local. A: NXDOMAIN \(1 query\)`,
		"echo says who answered":      `http pass 200, host shop.example, path /hello, pod echo`,
		"web spreads":                 `spread pass 20 requests to 10.96.77.7:80: web-1 \d+, web-2 \d+ \(all 2 ready endpoints\)`,
		"web-2 closed":                `reach FAIL default/c1 -> 10.244.\d+.\d+:80: allowed, answered by web-2; expected blocked`,
		"web-1 deleted":               `step pass delete pod/web-1; 1 check passed after `,
		"web still answers":           `reach pass default/c1 -> 10.96.77.7:80: allowed, answered by web-2`,
	} {
		if !regexp.MustCompile("^" + want).MatchString(rows[check]) {
			t.Errorf("%s: %q, want %s", check, rows[check], want)
		}
	}
	if !strings.HasSuffix(out, "9 checks: 8 passed, 1 failed\n") {
		t.Errorf("summary: %q", out)
	}

	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Suites []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &suites); err != nil {
		t.Fatalf("junit: %v\n%s", err, data)
	}
	if len(suites.Suites) != 1 || suites.Suites[0].Tests != 9 || suites.Suites[0].Failures != 1 {
		t.Fatalf("junit: %s", data)
	}
	var failed []string
	for _, c := range suites.Suites[0].Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name+": "+c.Failure.Message)
		}
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0], "web-2 closed: default/c1 -> ") || !strings.HasSuffix(failed[0], "expected blocked") {
		t.Errorf("junit failures: %q", failed)
	}
	if c := suites.Suites[0].Cases[8]; c.Name != "web-1 deleted / web still answers" || c.Failure != nil {
		t.Errorf("junit step check: %+v", c)
	}

	// --run keeps the named checks; all of them pass: exit 0, and -o json says so.
	out, errs, code = e.run("check", "--name", name, "--run", "resolve", "-o", "json")
	if code != 0 || !strings.Contains(out, `"passed": 2,`) || !strings.Contains(out, `"failed": 0,`) {
		t.Errorf("--run resolve: exit %d\n%s%s", code, out, errs)
	}
	// A checks file naming a pod the lab does not have is invalid input: exit 2.
	bad := filepath.Join(t.TempDir(), "checks.yaml")
	os.WriteFile(bad, []byte("checks:\n  - {name: x, from: c9, to: web.default, port: 80}\n"), 0o644)
	if _, errs, code := e.run("check", "--name", name, "-f", bad); code != 2 || !strings.Contains(errs, "checks.yaml:2:21: checks[0].from: the lab has no pod default/c9 and no host c9\n  hint: did you mean \"c1\"?") {
		t.Errorf("-f bad: exit %d, %s", code, errs)
	}
}

// stepsLab exercises every step action on a real lab: each step's checks only pass
// once the action has had its effect.
const stepsLab = `name: %s
nodes:
  - {name: worker-1}
  - {name: worker-2}
pods:
  - {name: c1, node: worker-1}
  - {name: web-1, node: worker-2, labels: {app: web}, ports: [80]}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{port: 80}]
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: api}
    spec:
      replicas: 1
      selector: {matchLabels: {app: api}}
      template:
        metadata: {labels: {app: api}}
        spec:
          containers:
            - name: api
              image: registry.k8s.io/e2e-test-images/agnhost:2.53
              args: [netexec, --http-port=8080]
              ports: [{containerPort: 8080}]
  - apiVersion: v1
    kind: Service
    metadata: {name: api}
    spec:
      selector: {app: api}
      ports: [{port: 80, targetPort: 8080}]
  - apiVersion: v1
    kind: Pod
    metadata: {name: probed, labels: {app: probed}}
    spec:
      containers:
        - name: app
          image: registry.k8s.io/e2e-test-images/agnhost:2.53
          args: [netexec, --http-port=8080]
          ports: [{containerPort: 8080}]
          readinessProbe:
            httpGet: {path: /readyz, port: 8080}
            periodSeconds: 1
            failureThreshold: 1
  - apiVersion: v1
    kind: Service
    metadata: {name: probed}
    spec:
      selector: {app: probed}
      ports: [{port: 80, targetPort: 8080}]
checks:
  - name: scaled to 3
    after: {scale: deployment/api=3}
    checks:
      - {name: api spreads over 3, from: c1, to: api.default, port: 80, requests: 30, expect: {endpoints: 3}}
  - name: web-1 relabelled
    after: {label: pod/web-1 app=gone}
    checks:
      - {name: web has no endpoints, from: c1, to: web.default, port: 80, expect: refused}
  - name: probed not ready
    after: {breakReadiness: pod/probed}
    checks:
      - {name: probed has no endpoints, from: c1, to: probed.default, port: 80, expect: refused}
  - name: deny applied
    after: {apply: deny.yaml}
    checks:
      - {name: api blocked, from: c1, to: api.default, port: 80, expect: blocked}
  - name: deny deleted
    after: {deleteManifest: deny.yaml}
    checks:
      - {name: api open again, from: c1, to: api.default, port: 80}
`

const denyPolicy = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-api}
spec:
  podSelector: {matchLabels: {app: api}}
  policyTypes: [Ingress]
`

func TestCheckSteps(t *testing.T) {
	e := newEnv(t)
	name := uniq("steps")
	// deny.yaml sits beside the lab file: steps name it relative to it, and deploy
	// validates it with the checks.
	before := snapshotHost(t)
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yaml")
	for file, text := range map[string]string{lab: fmt.Sprintf(stepsLab, name), filepath.Join(dir, "deny.yaml"): denyPolicy} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		e.must("destroy", "--name", name)
		assertNothingLeft(t, e.root, name)
		assertHostUnchanged(t, before)
	})
	e.must("deploy", "-t", lab)
	out, errs, code := e.run("check", "--name", name, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var rep struct {
		Passed  int `json:"passed"`
		Results []struct {
			Name, Detail string
			Pass         bool
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Passed != 10 {
		t.Errorf("passed %d, want 10:\n%s", rep.Passed, out)
	}
	for _, r := range rep.Results {
		t.Logf("%-24s %v %s", r.Name, r.Pass, r.Detail)
	}
	if r := rep.Results[1]; !strings.HasSuffix(r.Detail, "(all 3 ready endpoints)") {
		t.Errorf("spread after scale: %s", r.Detail)
	}
}
