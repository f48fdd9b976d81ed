package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// webDeployment is a lab file's manifests: item for a Deployment of two agnhost pods
// serving HTTP on 8080.
const webDeployment = `  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - name: web
              image: registry.k8s.io/e2e-test-images/agnhost:2.53
              args: [netexec, --http-port=8080]
              ports: [{containerPort: 8080}]
`

// cliLab: the web Deployment behind a Service, on one node.
const cliLab = `name: %s
nodes: [{name: w}]
manifests:
` + webDeployment + `  - {apiVersion: v1, kind: Service, metadata: {name: web}, spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}}
`

// The commands issue 14 added, on a live lab: validate and destroy with the lab file
// as an argument, get -w seeing a pod deleted and its replacement, shell completion of
// pod names through cobra's __complete, and describe deployment as kubectl prints it.
func TestNewCommands(t *testing.T) {
	e := newEnv(t)
	name := uniq("cli")
	file := writeLab(t, strings.Replace(cliLab, "%s", name, 1))
	before := snapshotHost(t)
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			e.run("destroy", "--name", name)
		}
		assertNothingLeft(t, e.root, name)
		assertHostUnchanged(t, before)
	})
	if out := e.must("validate", file); !strings.Contains(out, name) {
		t.Errorf("validate FILE: %q does not name the lab", out)
	}
	e.must("deploy", file)
	pods := func() []string {
		return strings.Fields(e.must("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}"))
	}
	first := pods()
	if len(first) != 2 {
		t.Fatalf("2 web pods expected: %v", first)
	}

	t.Run("completion", func(t *testing.T) {
		// cobra's __complete prints one candidate a line, then :DIRECTIVE.
		for _, args := range [][]string{{"get", "pods", ""}, {"exec", ""}, {"logs", ""}, {"describe", "pod", ""}} {
			out := e.must(append([]string{"__complete", "--name", name}, args...)...)
			for _, p := range first {
				if !strings.Contains("\n"+out, "\n"+p+"\n") {
					t.Errorf("__complete %s: no %s in\n%s", strings.Join(args, " "), p, out)
				}
			}
		}
		if out := e.must("__complete", "--name", name, "describe", "deployment", ""); !strings.HasPrefix(out, "web\n") {
			t.Errorf("__complete describe deployment: %q", out)
		}
		if out := e.must("__complete", "get", "--name", ""); !strings.Contains("\n"+out, "\n"+name+"\n") {
			t.Errorf("__complete get --name: no %s in %q", name, out)
		}
	})

	t.Run("describe deployment", func(t *testing.T) {
		out := e.must("describe", "deployment", "web")
		// The API server's defaults (StrategyType, RollingUpdateStrategy, 8080/TCP) as on
		// a cluster: RollingUpdateStrategy is the widest label.
		for _, want := range []string{"Name:                   web\n", "Namespace:              default\n", "Selector:               app=web\n",
			"Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable\n",
			"StrategyType:           RollingUpdate\n", "RollingUpdateStrategy:  25% max unavailable, 25% max surge\n", "Port:       8080/TCP\n",
			"NewReplicaSet:", "Events:\n", "ScalingReplicaSet"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe deployment web: no %q in\n%s", want, out)
			}
		}
		if _, err := exec.LookPath("kubectl"); err != nil {
			t.Log("no kubectl: not compared with kubectl describe")
			return
		}
		kc := filepath.Join(t.TempDir(), "kubeconfig")
		if err := os.WriteFile(kc, []byte(e.must("kubeconfig")), 0o600); err != nil {
			t.Fatal(err)
		}
		k := kubectl{t: t, kubeconfig: kc}
		// Ages move between the two runs: compare with them masked.
		if got, want := maskAges(e.must("describe", "deploy/web")), maskAges(k.must("describe", "deployment", "web")); got != want {
			t.Errorf("podlab describe differs from kubectl describe:\n%s\nkubectl:\n%s", got, want)
		}
		if got, want := maskAges(e.must("describe", "svc", "web")), maskAges(k.must("describe", "svc", "web")); got != want {
			t.Errorf("podlab describe svc differs from kubectl describe:\n%s\nkubectl:\n%s", got, want)
		}
	})

	t.Run("get -w", func(t *testing.T) {
		lines := e.follow("get", "pods", "-w", "-l", "app=web")
		var seen []string
		// next reads lines until one satisfies ok, for up to 30 s.
		next := func(what string, ok func(string) bool) {
			t.Helper()
			timeout := time.After(30 * time.Second)
			for {
				select {
				case l, open := <-lines:
					if !open {
						t.Fatalf("get -w ended before %s:\n%s", what, strings.Join(seen, "\n"))
					}
					seen = append(seen, l)
					if ok(l) {
						return
					}
				case <-timeout:
					t.Fatalf("no %s within 30 s:\n%s", what, strings.Join(seen, "\n"))
				}
			}
		}
		next("header", func(l string) bool { return strings.HasPrefix(l, "NAME ") })
		for _, p := range first {
			next(p+"'s row", func(l string) bool { return strings.HasPrefix(l, p+" ") })
		}
		e.must("delete", "pod", first[0])
		next(first[0]+" Terminating", func(l string) bool { return strings.HasPrefix(l, first[0]+" ") && strings.Contains(l, "Terminating") })
		next("the replacement's Running row", func(l string) bool {
			f := strings.Fields(l)
			return len(f) >= 3 && strings.HasPrefix(f[0], "web-") && f[0] != first[0] && f[0] != first[1] && f[2] == "Running"
		})
		t.Logf("get -w:\n%s", strings.Join(seen, "\n"))
	})

	if _, errs, code := e.run("destroy", file, "--name", name); code != 2 {
		t.Errorf("destroy FILE --name: exit %d, want 2 (one of them): %s", code, errs)
	}
	e.must("destroy", file)
	destroyed = true
	if out := e.must("ls"); strings.Contains(out, name) {
		t.Errorf("destroy FILE left the lab listed:\n%s", out)
	}
}

var (
	ageCell = regexp.MustCompile(`\b\d+(s|m|h|d)(\d+(s|m))?\b`)
	padding = regexp.MustCompile(` {2,}`)
)

// maskAges replaces ages (3s, 2m10s, 4h) and squeezes the padding their width moved.
func maskAges(s string) string {
	s = ageCell.ReplaceAllString(s, "AGE")
	return padding.ReplaceAllString(s, "  ")
}

// follow starts podlab with args and returns its output lines as they come, until it
// ends; the test's end kills it.
func (e *env) follow(args ...string) <-chan string {
	e.t.Helper()
	cmd := exec.Command(podlabBin, args...)
	cmd.Env = append(os.Environ(), "PODLAB_STATE_DIR="+e.root)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		for s := bufio.NewScanner(stdout); s.Scan(); {
			lines <- s.Text()
		}
	}()
	return lines
}
