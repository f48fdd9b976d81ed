package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/plan"
)

// controllersLab: three nodes, a client pod, a Deployment of 3 behind a Service; its
// container is one of webContainers.
const controllersLab = `
name: %s
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
pods:
  - {name: client, node: worker-1, labels: {app: client}}
manifests:
  - apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 3
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          securityContext: {runAsUser: 1000}
          containers:
            - name: web
%s
              ports: [{containerPort: 8080}]
              securityContext: {capabilities: {add: [NET_ADMIN]}}
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
`

// webContainers is the web Deployment's image per runtime: agnhost's netexec, which
// podlab emulates, on netns; podlab's own image on Docker, where any other image runs
// itself and there is no registry to pull it from.
var webContainers = map[string]string{
	"netns": `              image: registry.k8s.io/e2e-test-images/agnhost:2.53
              args: [netexec, --http-port=8080]`,
	"docker": `              image: podlab/pod`,
}

// labOn names a lab of the lifecycle suites on runtime and returns its lab file's first
// line; on Docker it skips without an engine and checks that the destroy leaves no
// container, as TestReachability does.
func labOn(t *testing.T, runtime, prefix string) (name, header string) {
	t.Helper()
	if runtime == "docker" {
		return dockerLab(t, "dk-"+prefix), "runtime: docker\n"
	}
	return uniq(prefix), "runtime: netns\n"
}

// pods lists the lab's pods through get -o json.
func (e *env) pods(lab string, args ...string) []corev1.Pod {
	e.t.Helper()
	var list struct{ Items []corev1.Pod }
	out := e.must(append([]string{"get", "--name", lab, "pods", "-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		e.t.Fatalf("get pods -o json: %v\n%s", err, out)
	}
	return list.Items
}

func (e *env) object(lab string, v any, args ...string) {
	e.t.Helper()
	out := e.must(append([]string{"get", "--name", lab, "-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("get -o json: %v\n%s", err, out)
	}
}

func ready(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// named returns the pods whose name starts with prefix.
func named(ps []corev1.Pod, prefix string) []corev1.Pod {
	var out []corev1.Pod
	for _, p := range ps {
		if strings.HasPrefix(p.Name, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// endpointsOf lists the ready addresses of a Service's Endpoints.
func (e *env) endpointsOf(lab, svc string) []string {
	e.t.Helper()
	var eps corev1.Endpoints
	e.object(lab, &eps, "endpoints", svc)
	var out []string
	for _, s := range eps.Subsets {
		for _, a := range s.Addresses {
			out = append(out, a.IP)
		}
	}
	return out
}

// eventually retries check until it returns "" or the time is up.
func eventually(t *testing.T, within time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDeploymentLifecycle runs the Deployment's lifecycle on both runtimes.
func TestDeploymentLifecycle(t *testing.T) {
	for _, rt := range []string{"netns", "docker"} {
		t.Run(rt, func(t *testing.T) { testDeploymentLifecycle(t, rt) })
	}
}

func testDeploymentLifecycle(t *testing.T, runtime string) {
	name, header := labOn(t, runtime, "ctl")
	e := newEnv(t)
	st := e.deploy(name, header+fmt.Sprintf(controllersLab, name, webContainers[runtime]))
	var client string
	for _, p := range st.Pods {
		if p.Name == "client" {
			client = p.Netns
		}
	}
	// Docker: the pods deploy built and those kubelet makes get the template's
	// securityContext.
	checkSecurity := func(t *testing.T, pods []corev1.Pod) {
		t.Helper()
		if runtime != "docker" {
			return
		}
		for _, p := range pods {
			got := dockerInspect(t, plan.PodNetns(name, p.Namespace, p.Name), "{{.Config.User}} {{json .HostConfig.CapAdd}}")
			if got != `1000 ["CAP_NET_ADMIN"]` {
				t.Errorf("%s's container runs as user and with capabilities %s, want 1000 [\"CAP_NET_ADMIN\"] from its securityContext", p.Name, got)
			}
		}
	}
	checkSecurity(t, named(e.pods(name), "web-"))
	var svc corev1.Service
	e.object(name, &svc, "svc", "web")
	vip := svc.Spec.ClusterIP + ":80"

	t.Run("a deleted pod is replaced with a new name and address while the Service answers", func(t *testing.T) {
		before := named(e.pods(name), "web-")
		if len(before) != 3 {
			t.Fatalf("%d web pods", len(before))
		}
		victim := before[0]
		start := time.Now()
		e.must("delete", "--name", name, "pod", victim.Name)
		// Usually well under a second (the log line below says how long); the bound is
		// loose because the whole suite shares two cores with the kernel freeing the
		// namespaces of the labs before.
		within := 3 * time.Second
		eventually(t, within, func() string {
			now := named(e.pods(name), "web-")
			if len(now) != 3 {
				return fmt.Sprintf("%d web pods", len(now))
			}
			for _, p := range now {
				if p.Name == victim.Name {
					return "the deleted pod is still listed"
				}
				if !ready(p) {
					return p.Name + " not ready"
				}
				if p.Status.PodIP == victim.Status.PodIP {
					return "the replacement reuses the deleted pod's address " + p.Status.PodIP
				}
			}
			eps := e.endpointsOf(name, "web")
			if len(eps) != 3 || strings.Contains(strings.Join(eps, ","), victim.Status.PodIP) {
				return fmt.Sprintf("endpoints %v", eps)
			}
			return ""
		})
		t.Logf("replacement ready and in the endpoints %s after the delete", time.Since(start).Round(time.Millisecond))
		checkSecurity(t, named(e.pods(name), "web-"))
		for i := 0; i < 20; i++ {
			if _, err := httpGet(client, vip, "/hostname"); err != nil {
				t.Fatalf("Service after the replacement: %v", err)
			}
		}
	})

	t.Run("scale 3 -> 5 -> 1", func(t *testing.T) {
		for _, n := range []int{5, 1} {
			e.must("scale", "--name", name, "deployment/web", fmt.Sprintf("--replicas=%d", n))
			eventually(t, 5*time.Second, func() string {
				ps := named(e.pods(name), "web-")
				if len(ps) != n {
					return fmt.Sprintf("%d pods, want %d", len(ps), n)
				}
				if eps := e.endpointsOf(name, "web"); len(eps) != n {
					return fmt.Sprintf("%d endpoints, want %d", len(eps), n)
				}
				return ""
			})
			var d appsv1.Deployment
			e.object(name, &d, "deploy", "web")
			if d.Status.ReadyReplicas != int32(n) || d.Status.UpdatedReplicas != int32(n) {
				t.Errorf("deployment status after scaling to %d: %+v", n, d.Status)
			}
		}
		e.must("scale", "--name", name, "deployment/web", "--replicas=3")
	})

	t.Run("a rollout loses no request", func(t *testing.T) {
		var ok, failed atomic.Int64
		var firstErr atomic.Value
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := httpGet(client, vip, "/hostname"); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					ok.Add(1)
				}
			}
		}()
		time.Sleep(200 * time.Millisecond)
		e.must("rollout", "--name", name, "restart", "deployment/web")
		out := e.must("rollout", "--name", name, "status", "deployment/web", "--timeout", "60s")
		time.Sleep(200 * time.Millisecond)
		close(stop)
		wg.Wait()
		if !strings.Contains(out, `deployment "web" successfully rolled out`) {
			t.Errorf("rollout status:\n%s", out)
		}
		t.Logf("%d requests during the rollout, %d failed", ok.Load()+failed.Load(), failed.Load())
		if failed.Load() > 0 || ok.Load() < 10 {
			t.Errorf("%d of %d requests failed during the rollout (first: %v)", failed.Load(), ok.Load()+failed.Load(), firstErr.Load())
		}
		hist := e.must("rollout", "--name", name, "history", "deployment/web")
		if !strings.Contains(hist, "REVISION  CHANGE-CAUSE") || !strings.Contains(hist, "\n2 ") {
			t.Errorf("history:\n%s", hist)
		}
		var rss struct{ Items []appsv1.ReplicaSet }
		e.object(name, &rss, "rs")
		if len(rss.Items) != 2 {
			t.Errorf("%d ReplicaSets after one rollout, want 2", len(rss.Items))
		}
	})

	t.Run("deleting the Deployment cascades", func(t *testing.T) {
		e.must("delete", "--name", name, "deployment", "web")
		eventually(t, 5*time.Second, func() string {
			if ps := named(e.pods(name), "web-"); len(ps) != 0 {
				return fmt.Sprintf("%d web pods left", len(ps))
			}
			return ""
		})
	})
}

const workloadsLab = `
name: %s
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: nginx}
    spec:
      clusterIP: None
      selector: {app: nginx}
      ports: [{port: 80, name: web}]
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: web}
    spec:
      serviceName: nginx
      replicas: 3
      selector: {matchLabels: {app: nginx}}
      template:
        metadata: {labels: {app: nginx}}
        spec:
          containers:
            - name: nginx
              image: registry.k8s.io/nginx-slim:0.24
              ports: [{containerPort: 80, name: web}]
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: agent}
    spec:
      selector: {matchLabels: {app: agent}}
      template:
        metadata: {labels: {app: agent}}
        spec:
          containers: [{name: agent, image: busybox}]
`

func TestStatefulSetAndDaemonSet(t *testing.T) {
	e := newEnv(t)
	name := uniq("sts")
	e.deploy(name, fmt.Sprintf(workloadsLab, name))
	eventually(t, 10*time.Second, func() string {
		ps := named(e.pods(name), "web-")
		if len(ps) != 3 {
			return fmt.Sprintf("%d StatefulSet pods", len(ps))
		}
		for i, p := range ps {
			if p.Name != fmt.Sprintf("web-%d", i) || !ready(p) {
				return fmt.Sprintf("pod %d is %s (ready %v)", i, p.Name, ready(p))
			}
			if p.Spec.Hostname != p.Name || p.Spec.Subdomain != "nginx" {
				return fmt.Sprintf("%s hostname %q subdomain %q", p.Name, p.Spec.Hostname, p.Spec.Subdomain)
			}
		}
		return ""
	})
	// OrderedReady: each pod was created after the one before it was ready.
	evs := e.must("events", "--name", name, "-o", "json")
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(evs), "\n") {
		var ev struct{ Type, Message string }
		json.Unmarshal([]byte(line), &ev)
		if ev.Type == "SuccessfulCreate" && strings.Contains(ev.Message, "StatefulSet web") {
			order = append(order, ev.Message)
		}
	}
	if len(order) < 3 || !strings.Contains(order[0], "web-0") || !strings.Contains(order[1], "web-1") || !strings.Contains(order[2], "web-2") {
		t.Errorf("StatefulSet creation order: %v", order)
	}
	// web-1 deleted comes back as web-1, with the same identity.
	e.must("delete", "--name", name, "pod", "web-1")
	eventually(t, 5*time.Second, func() string {
		for _, p := range e.pods(name) {
			if p.Name == "web-1" && ready(p) {
				return ""
			}
		}
		return "web-1 not back"
	})
	// kubectl's rollout status and restart for both kinds.
	if out := e.must("rollout", "--name", name, "status", "statefulset/web", "--timeout", "30s"); !strings.Contains(out, "statefulset rolling update complete 3 pods") {
		t.Errorf("rollout status sts:\n%s", out)
	}
	e.must("rollout", "--name", name, "restart", "daemonset/agent")
	if out := e.must("rollout", "--name", name, "status", "daemonset/agent", "--timeout", "30s"); !strings.Contains(out, `daemon set "agent" successfully rolled out`) {
		t.Errorf("rollout status ds:\n%s", out)
	}
	// The DaemonSet runs one pod on each worker, none on the tainted control plane.
	per := map[string]int{}
	for _, p := range named(e.pods(name), "agent-") {
		per[p.Spec.NodeName]++
	}
	if per["worker-1"] != 1 || per["worker-2"] != 1 || per["control-plane"] != 0 {
		t.Errorf("DaemonSet pods per node: %v", per)
	}
}

const pendingLab = `
name: %s
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
`

const pendingPod = `
apiVersion: v1
kind: Pod
metadata: {name: ssd-pod, labels: {app: ssd}}
spec:
  nodeSelector: {disktype: ssd}
  containers:
    - name: nginx
      image: nginx
`

const probedPod = `
apiVersion: v1
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
---
apiVersion: v1
kind: Service
metadata: {name: probed}
spec:
  selector: {app: probed}
  ports: [{port: 80, targetPort: 8080}]
`

func TestPendingProbesAndRestarts(t *testing.T) {
	e := newEnv(t)
	name := uniq("pend")
	st := e.deploy(name, fmt.Sprintf(pendingLab, name))
	dir := t.TempDir()
	write := func(file, text string) string {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("validate warns about a pod no node fits and exits 0", func(t *testing.T) {
		lab := write("lab.yaml", fmt.Sprintf(pendingLab, "pending-validate")+"manifests:\n  - pod.yaml\n")
		write("pod.yaml", pendingPod)
		out, errs, code := e.run("validate", "-t", lab)
		if code != 0 || !strings.Contains(out+errs, "Pending") {
			t.Errorf("validate: exit %d\n%s%s", code, out, errs)
		}
	})

	t.Run("a pod no node fits stays Pending, then is placed when a node is labelled", func(t *testing.T) {
		e.must("apply", "--name", name, "-f", write("pod.yaml", pendingPod))
		ps := e.pods(name)
		if len(ps) != 1 || ps[0].Spec.NodeName != "" || ps[0].Status.Phase != corev1.PodPending {
			t.Fatalf("pods %+v", ps)
		}
		want := "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match Pod's node affinity/selector."
		if c := ps[0].Status.Conditions; len(c) == 0 || !strings.HasPrefix(c[0].Message, want) {
			t.Errorf("conditions %+v, want %q", c, want)
		}
		if evs := e.must("events", "--name", name); !strings.Contains(evs, "FailedScheduling") {
			t.Errorf("no FailedScheduling event:\n%s", evs)
		}
		if ev := e.must("get", "--name", name, "events"); !strings.Contains(ev, "Warning   FailedScheduling   pod/ssd-pod") {
			t.Errorf("get events lacks the Warning:\n%s", ev)
		}
		// As kubectl describe says it: PodScheduled False, and why in the event.
		if d := e.must("describe", "--name", name, "pod", "ssd-pod"); !strings.Contains(d, "PodScheduled   False") || !strings.Contains(d, "FailedScheduling  ") || !strings.Contains(d, want) {
			t.Errorf("describe of a Pending pod does not say why:\n%s", d)
		}
		e.must("label", "--name", name, "node", "worker-2", "disktype=ssd")
		eventually(t, 3*time.Second, func() string {
			ps := e.pods(name)
			if ps[0].Spec.NodeName != "worker-2" || !ready(ps[0]) {
				return fmt.Sprintf("pod on %q, ready %v", ps[0].Spec.NodeName, ready(ps[0]))
			}
			return ""
		})
		// nginx serves its welcome page on 80, though the manifest declares no port.
		var pod corev1.Pod
		e.object(name, &pod, "pod", "ssd-pod")
		page, err := httpGet(st.Nodes[0].Netns, pod.Status.PodIP+":80", "/")
		if err != nil || !strings.Contains(page, "Welcome to nginx!") {
			t.Errorf("nginx pod: %q, %v", page, err)
		}
	})

	t.Run("a failing readiness probe removes the endpoint; an exit raises restartCount", func(t *testing.T) {
		e.must("apply", "--name", name, "-f", write("probed.yaml", probedPod))
		var pod corev1.Pod
		eventually(t, 5*time.Second, func() string {
			e.object(name, &pod, "pod", "probed")
			if !ready(pod) || len(e.endpointsOf(name, "probed")) != 1 {
				return "probed not ready in its Service"
			}
			return ""
		})
		node := st.Nodes[1].Netns
		addr := pod.Status.PodIP + ":8080"
		if _, err := httpGet(node, addr, "/podlab/fail-readiness"); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, func() string {
			if eps := e.endpointsOf(name, "probed"); len(eps) != 0 {
				return fmt.Sprintf("endpoints %v after failing readiness", eps)
			}
			return ""
		})
		httpGet(node, addr, "/podlab/recover")
		eventually(t, 5*time.Second, func() string {
			if eps := e.endpointsOf(name, "probed"); len(eps) != 1 {
				return fmt.Sprintf("endpoints %v after recovering", eps)
			}
			return ""
		})
		httpGet(node, addr, "/exit?code=3")
		eventually(t, 5*time.Second, func() string {
			e.object(name, &pod, "pod", "probed")
			cs := pod.Status.ContainerStatuses
			if len(cs) != 1 || cs[0].RestartCount != 1 || cs[0].LastTerminationState.Terminated == nil || cs[0].LastTerminationState.Terminated.ExitCode != 3 {
				return fmt.Sprintf("container status %+v", cs)
			}
			if !ready(pod) {
				return "not ready again after the restart"
			}
			return ""
		})
		out := e.must("get", "--name", name, "pod", "probed")
		if !strings.Contains(out, "Running   1 (") {
			t.Errorf("get pod after one restart:\n%s", out)
		}
		// A second exit waits 10 s of back-off: CrashLoopBackOff shows meanwhile.
		httpGet(node, addr, "/exit?code=1")
		eventually(t, 3*time.Second, func() string {
			out := e.must("get", "--name", name, "pod", "probed")
			if !strings.Contains(out, "CrashLoopBackOff") {
				return "no CrashLoopBackOff:\n" + out
			}
			return ""
		})
	})
}

// A supervisor killed with SIGKILL is restarted by the next command, which finds every
// object, and every pod serves again; destroy still removes everything.
func TestSupervisorKilled(t *testing.T) {
	e := newEnv(t)
	name := uniq("killed")
	st := e.deploy(name, fmt.Sprintf(controllersLab, name, webContainers["netns"]))
	before := e.must("get", "--name", name, "all", "-A")
	if err := syscall.Kill(st.Supervisor.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	out, errs, code := e.run("get", "--name", name, "all", "-A")
	t.Logf("get all after SIGKILL: %s (restart included)", time.Since(start).Round(time.Millisecond))
	if code != 0 || !strings.Contains(errs, "restarted it") {
		t.Fatalf("get all after SIGKILL: exit %d\n%s\n%s", code, out, errs)
	}
	names := func(s string) []string {
		var out []string
		for _, l := range strings.Split(s, "\n") {
			if f := strings.Fields(l); len(f) > 1 && f[0] != "NAMESPACE" {
				out = append(out, f[0]+" "+f[1])
			}
		}
		return out
	}
	if a, b := strings.Join(names(before), "\n"), strings.Join(names(out), "\n"); a != b {
		t.Errorf("objects before the kill:\n%s\nafter:\n%s", a, b)
	}
	st2 := e.inspect(name)
	if st2.Supervisor.PID == st.Supervisor.PID || !st2.Supervisor.Running {
		t.Errorf("supervisor after restart: %+v", st2.Supervisor)
	}
	for _, p := range st2.Pods {
		if !p.Ready {
			t.Errorf("pod %s not ready after the restart: %s", p.Name, p.Reason)
		}
		if strings.HasPrefix(p.Name, "web-") {
			if got, err := httpGet(st2.Nodes[1].Netns, p.IP.String()+":8080", "/hostname"); err != nil || got != p.Name {
				t.Errorf("%s after the restart: %q, %v", p.Name, got, err)
			}
		}
	}
	if evs := e.must("events", "--name", name); !strings.Contains(evs, "SupervisorAdopted") {
		t.Errorf("the restart is not an event:\n%s", evs)
	}
}

// A lab whose manifest pods no node fits deploys: those pods stay Pending, deploy
// waits only for the others.
func TestDeployWithPendingPods(t *testing.T) {
	e := newEnv(t)
	name := uniq("pendlab")
	st := e.deploy(name, fmt.Sprintf(pendingLab, name)+`pods:
  - {name: web, node: worker-1, ports: [80]}
manifests:
  - apiVersion: v1
    kind: Pod
    metadata: {name: ssd}
    spec:
      nodeSelector: {disktype: ssd}
      containers: [{name: nginx, image: nginx}]
  - apiVersion: v1
    kind: Pod
    metadata: {name: lost}
    spec:
      nodeName: worker-9
      containers: [{name: nginx, image: nginx}]
`)
	phase := map[string]corev1.PodPhase{}
	for _, p := range e.pods(name) {
		phase[p.Name] = p.Status.Phase
	}
	if phase["web"] != corev1.PodRunning || phase["ssd"] != corev1.PodPending || phase["lost"] != corev1.PodPending {
		t.Fatalf("phases %v", phase)
	}
	if st.ReadyCount() != 1 {
		t.Errorf("%d pods ready after deploy, want web", st.ReadyCount())
	}
}
