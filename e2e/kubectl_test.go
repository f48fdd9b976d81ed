package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kubectlLab: a Deployment behind a Service, a client pod with the cluster DNS.
const kubectlLab = `name: %s
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
manifests:
` + webDeployment + `  - apiVersion: v1
    kind: Pod
    metadata: {name: dnsutils}
    spec:
      containers:
        - {name: dnsutils, image: registry.k8s.io/e2e-test-images/agnhost:2.53, command: [sleep, infinity]}
  - {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: allow-all}, spec: {podSelector: {}, ingress: [{}]}}
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata: {name: web}
    spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}
  - {apiVersion: gateway.networking.k8s.io/v1, kind: Gateway, metadata: {name: gw}, spec: {gatewayClassName: podlab, listeners: [{name: http, protocol: HTTP, port: 80}]}}
  - {apiVersion: gateway.networking.k8s.io/v1, kind: HTTPRoute, metadata: {name: web}, spec: {parentRefs: [{name: gw}], rules: [{backendRefs: [{name: web, port: 80}]}]}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: settings}, data: {mode: lab}}
`

// kubectl runs the installed kubectl against the lab through its kubeconfig.
type kubectl struct {
	t          *testing.T
	kubeconfig string
}

func (k kubectl) run(args ...string) (string, string, int) {
	k.t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		k.t.Fatalf("kubectl %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

func (k kubectl) must(args ...string) string {
	k.t.Helper()
	out, errs, code := k.run(args...)
	if code != 0 {
		k.t.Fatalf("kubectl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestKubectl(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("no kubectl on this machine")
	}
	name := uniq("kctl")
	e := newEnv(t)
	e.deploy(name, fmt.Sprintf(kubectlLab, name))
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(e.must("kubeconfig", "--name", name)), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("version and discovery", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		out := k.must("version")
		if !strings.Contains(out, "Server Version: v1.32") {
			t.Errorf("kubectl version:\n%s", out)
		}
		if out := k.must("api-resources"); !strings.Contains(out, "deployments") || !strings.Contains(out, "httproutes") {
			t.Errorf("api-resources:\n%s", out)
		}
	})
	t.Run("get agrees with podlab get", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		for _, kind := range []string{"pods", "svc", "deploy", "rs", "ep", "endpointslices", "sts", "ds", "nodes", "ns", "cm", "secrets",
			"netpol", "ingress", "ingressclass", "gatewayclass", "gateway", "httproute", "referencegrant", "leases"} {
			got := k.must("get", kind, "-A")
			want := e.must("get", "--name", name, kind, "-A")
			if columns(got) != columns(want) || rows(got) != rows(want) {
				t.Errorf("%s: kubectl\n%s\npodlab\n%s", kind, got, want)
			}
		}
		if out := k.must("get", "pods", "-o", "wide"); !strings.Contains(out, "NOMINATED NODE") || !strings.Contains(out, "worker-") {
			t.Errorf("get pods -o wide:\n%s", out)
		}
	})
	t.Run("apply client-side and server-side", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		f := filepath.Join(t.TempDir(), "svc.yaml")
		os.WriteFile(f, []byte("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n"), 0o644)
		if out := k.must("apply", "-f", f); strings.TrimSpace(out) != "service/web created" {
			t.Errorf("apply: %q", out)
		}
		if out := k.must("apply", "-f", f); strings.TrimSpace(out) != "service/web unchanged" {
			t.Errorf("apply again: %q", out)
		}
		if out := k.must("apply", "--server-side", "-f", f); strings.TrimSpace(out) != "service/web serverside-applied" {
			t.Errorf("apply --server-side: %q", out)
		}
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(bad, []byte("apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  ports: [{port: 80, protcol: TCP}]\n"), 0o644)
		if _, errs, code := k.run("apply", "-f", bad); code == 0 || !strings.Contains(errs, `unknown field "spec.ports[0].protcol"`) {
			t.Errorf("a misspelt field: exit %d: %s", code, errs)
		}
	})
	t.Run("create expose label scale", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		if out := k.must("create", "service", "clusterip", "backend", "--tcp=80:8080"); !strings.Contains(out, "service/backend created") {
			t.Errorf("create service: %q", out)
		}
		if out := k.must("expose", "deployment", "web", "--name", "web-np", "--port=80", "--target-port=8080", "--type=NodePort"); !strings.Contains(out, "service/web-np exposed") {
			t.Errorf("expose: %q", out)
		}
		if out := e.must("get", "--name", name, "svc", "web-np"); !strings.Contains(out, "NodePort") {
			t.Errorf("podlab get svc web-np:\n%s", out)
		}
		k.must("label", "pod", "dnsutils", "role=client")
		if out := k.must("get", "pods", "-l", "role=client", "-o", "name"); strings.TrimSpace(out) != "pod/dnsutils" {
			t.Errorf("label: %q", out)
		}
		k.must("scale", "deployment", "web", "--replicas=3")
		k.must("rollout", "status", "deployment/web", "--timeout=30s")
		if out := k.must("get", "deploy", "web"); !strings.Contains(out, "3/3") {
			t.Errorf("scale:\n%s", out)
		}
	})
	t.Run("rollout restart history undo", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		k.must("rollout", "restart", "deployment/web")
		k.must("rollout", "status", "deployment/web", "--timeout=30s")
		if out := k.must("rollout", "history", "deployment/web"); !strings.Contains(out, "2 ") {
			t.Errorf("history:\n%s", out)
		}
		k.must("rollout", "undo", "deployment/web")
		k.must("rollout", "status", "deployment/web", "--timeout=30s")
	})
	t.Run("get -w sees a pod replaced", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		cmd := exec.Command("kubectl", "--kubeconfig", kc, "get", "pods", "-l", "app=web", "-w", "--output-watch-events")
		var out bytes.Buffer
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		time.Sleep(500 * time.Millisecond)
		victim := strings.TrimPrefix(strings.Fields(k.must("get", "pods", "-l", "app=web", "-o", "name"))[0], "pod/")
		k.must("delete", "pod", victim)
		waitFor(t, 15*time.Second, func() bool {
			return strings.Contains(out.String(), "DELETED") && strings.Count(out.String(), "ADDED") > 3
		})
	})
	t.Run("describe logs exec", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		out := k.must("describe", "pod", "dnsutils")
		for _, want := range []string{"Name:         dnsutils", "Status:       Running", "Events:"} {
			if !strings.Contains(out, want) {
				t.Errorf("describe: no %q in\n%s", want, out)
			}
		}
		// The node's Lease, renewed by its kubelet (cluster/nodelease), not "Failed to get lease".
		node := strings.TrimSpace(k.must("get", "pod", "dnsutils", "-o", "jsonpath={.spec.nodeName}"))
		if out := k.must("describe", "node", node); !strings.Contains(out, "Lease:\n  HolderIdentity:  "+node+"\n") || !strings.Contains(out, "  RenewTime:       ") {
			t.Errorf("describe node %s: no Lease section in\n%s", node, out)
		}
		if out := k.must("exec", "dnsutils", "--", "nslookup", "kubernetes.default"); !strings.Contains(out, "10.96.0.1") {
			t.Errorf("exec nslookup:\n%s", out)
		}
		if out := k.must("exec", "dnsutils", "--", "hostname"); strings.TrimSpace(out) != "dnsutils" {
			t.Errorf("hostname in the pod: %q", out)
		}
		if _, errs, code := k.run("exec", "dnsutils", "--", "sh", "-c", "exit 3"); code != 3 || !strings.Contains(errs, "command terminated with exit code 3") {
			t.Errorf("exit code: %d %q", code, errs)
		}
		pod := strings.TrimPrefix(strings.Fields(k.must("get", "pods", "-l", "app=web", "-o", "name"))[0], "pod/")
		podIP := strings.TrimSpace(k.must("get", "pod", pod, "-o", "jsonpath={.status.podIP}"))
		k.must("exec", "dnsutils", "--", "wget", "-qO-", "http://"+podIP+":8080/hostname")
		waitFor(t, 5*time.Second, func() bool { return strings.Contains(k.must("logs", pod), "/hostname") })
	})
	t.Run("exec -it in tmux", func(t *testing.T) {
		if _, err := exec.LookPath("tmux"); err != nil {
			t.Skip("no tmux")
		}
		session := "podlab-" + name
		if out, err := exec.Command("tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30",
			"kubectl", "--kubeconfig", kc, "exec", "-it", "dnsutils", "--", "sh").CombinedOutput(); err != nil {
			t.Fatalf("tmux: %v %s", err, out)
		}
		t.Cleanup(func() { exec.Command("tmux", "kill-session", "-t", session).Run() })
		time.Sleep(500 * time.Millisecond)
		exec.Command("tmux", "send-keys", "-t", session, "echo answer-$((6*7)) $(hostname) $(stty size)", "Enter").Run()
		var screen string
		waitFor(t, 5*time.Second, func() bool {
			out, _ := exec.Command("tmux", "capture-pane", "-p", "-t", session).Output()
			screen = string(out)
			return strings.Contains(screen, "answer-42 dnsutils 30 100")
		})
		exec.Command("tmux", "send-keys", "-t", session, "exit", "Enter").Run()
	})
	t.Run("run -i --rm", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		out := k.must("run", "debug", "-i", "--rm", "--restart=Never", "--image=busybox", "--", "sh", "-c", "echo hi-$((1+1)); hostname")
		if !strings.Contains(out, "hi-2\ndebug\n") || !strings.Contains(out, `pod "debug" deleted`) {
			t.Errorf("kubectl run -i --rm: %q", out)
		}
		if _, errs, code := k.run("get", "pod", "debug"); code == 0 || !strings.Contains(errs, "not found") {
			t.Errorf("the pod is still there: %s", errs)
		}
	})
	t.Run("port-forward", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		cmd := exec.Command("kubectl", "--kubeconfig", kc, "port-forward", "deploy/web", fmt.Sprintf("%d:8080", port))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		var body string
		waitFor(t, 10*time.Second, func() bool {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hostname", port))
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = string(b)
			return true
		})
		if !strings.HasPrefix(body, "web-") {
			t.Errorf("through port-forward: %q", body)
		}
	})
	t.Run("delete", func(t *testing.T) {
		k := kubectl{t: t, kubeconfig: kc}
		if out := k.must("delete", "svc", "backend"); strings.TrimSpace(out) != `service "backend" deleted` {
			t.Errorf("delete: %q", out)
		}
		if _, errs, code := k.run("get", "svc", "backend"); code == 0 || !strings.Contains(errs, `services "backend" not found`) {
			t.Errorf("get after delete: %d %s", code, errs)
		}
	})
}

// columns is a table's header line, spaces collapsed.
func columns(table string) string {
	line, _, _ := strings.Cut(table, "\n")
	return strings.Join(strings.Fields(line), " ")
}

// rows are a table's first column values after the header, sorted by position.
func rows(table string) string {
	var names []string
	for i, l := range strings.Split(strings.TrimSpace(table), "\n") {
		if f := strings.Fields(l); i > 0 && len(f) > 1 {
			names = append(names, f[0]+"/"+f[1])
		}
	}
	return strings.Join(names, ",")
}

// TestKubeconfigWrite: --write merges the lab's context into the kubeconfig file and
// makes it current; destroy takes it out again and leaves the rest of the file alone.
func TestKubeconfigWrite(t *testing.T) {
	name := uniq("kcw")
	e := newEnv(t)
	e.deploy(name, fmt.Sprintf("name: %s\nnodes: [{name: w}]\n", name))
	kc := filepath.Join(t.TempDir(), "config")
	other := "apiVersion: v1\nkind: Config\nclusters: [{name: other, cluster: {server: 'https://192.0.2.1'}}]\nusers: [{name: other, user: {}}]\ncontexts: [{name: other, context: {cluster: other, user: other}}]\ncurrent-context: other\n"
	os.WriteFile(kc, []byte(other), 0o600)
	t.Setenv("KUBECONFIG", kc)
	if out := e.must("kubeconfig", "--name", name, "--write"); !strings.Contains(out, `Switched to context "podlab-`+name+`"`) {
		t.Errorf("--write: %q", out)
	}
	if out, _, code := (kubectl{t: t, kubeconfig: kc}).run("get", "nodes", "-o", "name"); code != 0 || strings.TrimSpace(out) != "node/w" {
		t.Errorf("kubectl with the merged config: %d %q", code, out)
	}
	e.must("destroy", "--name", name)
	b, _ := os.ReadFile(kc)
	if strings.Contains(string(b), "podlab-"+name) || !strings.Contains(string(b), "name: other") {
		t.Errorf("after destroy:\n%s", b)
	}
}
