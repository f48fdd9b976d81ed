package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
)

const servicesLab = `name: %s
cluster:
  loadBalancerPool: [172.30.0.240/28]
nodes:
  - {name: control-plane, role: control-plane}
  - {name: worker-1}
  - {name: worker-2}
hosts:
  - name: client
pods:
  - {name: web-1, node: worker-1, labels: {app: web}, ports: [{http: 8080}, "5353/udp"]}
  - {name: web-2, node: worker-2, labels: {app: web}, ports: [{http: 8080}, "5353/udp"]}
  - {name: web-3, node: worker-2, labels: {app: web}, ports: [{http: 8080}, "5353/udp"]}
  - {name: local-1, node: worker-1, labels: {app: local}, ports: [8080]}
  - {name: c1, node: worker-1}
  - {name: c2, node: worker-2}
manifests:
  - apiVersion: v1
    kind: Service
    metadata: {name: web}
    spec:
      selector: {app: web}
      ports:
        - {name: http, port: 80, targetPort: http}
        - {name: dns, port: 53, targetPort: 5353, protocol: UDP}
  - apiVersion: v1
    kind: Service
    metadata: {name: web-np}
    spec:
      type: NodePort
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080, nodePort: 30008}]
  - apiVersion: v1
    kind: Service
    metadata: {name: web-lb}
    spec:
      type: LoadBalancer
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
  - apiVersion: v1
    kind: Service
    metadata: {name: sticky}
    spec:
      selector: {app: web}
      sessionAffinity: ClientIP
      ports: [{port: 80, targetPort: 8080}]
  - apiVersion: v1
    kind: Service
    metadata: {name: local}
    spec:
      type: NodePort
      externalTrafficPolicy: Local
      selector: {app: local}
      ports: [{port: 80, targetPort: 8080, nodePort: 30009}]
  - apiVersion: v1
    kind: Service
    metadata: {name: empty}
    spec:
      selector: {app: nothing}
      ports: [{port: 80}]
  - apiVersion: v1
    kind: Service
    metadata: {name: headless}
    spec:
      clusterIP: None
      selector: {app: web}
      ports: [{port: 80, targetPort: 8080}]
  - apiVersion: v1
    kind: Service
    metadata: {name: ext}
    spec:
      type: ExternalName
      externalName: example.com
  - apiVersion: v1
    kind: Service
    metadata: {name: sctp}
    spec:
      selector: {app: web}
      ports: [{port: 9999, protocol: SCTP}]
`

// TestServices runs the Services suite on both runtimes.
func TestServices(t *testing.T) {
	for _, rt := range []string{"netns", "docker"} {
		t.Run(rt, func(t *testing.T) { testServices(t, rt) })
	}
}

func testServices(t *testing.T, runtime string) {
	name, header := labOn(t, runtime, "svc")
	e := newEnv(t)
	st := e.deploy(name, header+fmt.Sprintf(servicesLab, name))
	pods := map[string]string{} // name -> netns
	for _, p := range st.Pods {
		pods[p.Name] = p.Netns
	}
	host := st.Hosts[0].Netns
	svcs := map[string]v1.Service{}
	var list struct{ Items []v1.Service }
	if err := json.Unmarshal([]byte(e.must("get", "--name", name, "svc", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Items {
		svcs[s.Name] = s
	}
	ip := func(svc string) string { return svcs[svc].Spec.ClusterIP }
	if ip("web") == "" || ip("headless") != "None" || svcs["web-lb"].Status.LoadBalancer.Ingress[0].IP != "172.30.0.240" || svcs["web-np"].Spec.Ports[0].NodePort != 30008 {
		t.Fatalf("allocations: %+v", svcs)
	}
	spread := func(t *testing.T, ns, addr string, n int) map[string]int {
		t.Helper()
		seen := map[string]int{}
		for range n {
			got, err := httpGet(ns, addr, "/hostname")
			if err != nil {
				t.Fatalf("%s: %v", addr, err)
			}
			seen[got]++
		}
		return seen
	}
	allThree := func(t *testing.T, seen map[string]int) {
		t.Helper()
		for _, w := range []string{"web-1", "web-2", "web-3"} {
			if seen[w] == 0 {
				t.Errorf("no answer from %s: %v", w, seen)
			}
		}
		if len(seen) != 3 {
			t.Errorf("answers from outside the Service: %v", seen)
		}
	}

	t.Run("ClusterIP spreads over every endpoint", func(t *testing.T) {
		allThree(t, spread(t, pods["c1"], ip("web")+":80", 200))
		allThree(t, spread(t, pods["c2"], ip("web")+":80", 60))
	})
	t.Run("ClusterIP keeps the pod source", func(t *testing.T) {
		got, err := httpGet(pods["c2"], ip("web")+":80", "/clientip")
		if h, _, _ := net.SplitHostPort(got); err != nil || h != podIP(t, st, "c2") {
			t.Errorf("/clientip through the ClusterIP = %q (%v), want c2's %s", got, err, podIP(t, st, "c2"))
		}
	})
	t.Run("UDP", func(t *testing.T) {
		got, err := udpAsk(pods["c1"], ip("web")+":53", "hostname")
		if err != nil || !strings.HasPrefix(got, "web-") {
			t.Errorf("udp through the ClusterIP = %q, %v", got, err)
		}
	})
	t.Run("NodePort from outside on every node", func(t *testing.T) {
		for _, n := range st.Nodes {
			allThree(t, spread(t, host, n.IP.String()+":30008", 60))
		}
	})
	t.Run("LoadBalancer from outside", func(t *testing.T) {
		allThree(t, spread(t, host, "172.30.0.240:80", 60))
	})
	t.Run("ClientIP affinity pins one endpoint", func(t *testing.T) {
		if seen := spread(t, pods["c1"], ip("sticky")+":80", 30); len(seen) != 1 {
			t.Errorf("affinity: answers from %v, want one endpoint", seen)
		}
	})
	t.Run("externalTrafficPolicy Local", func(t *testing.T) {
		var w1, w2 string
		for _, n := range st.Nodes {
			switch n.Name {
			case "worker-1":
				w1 = n.IP.String()
			case "worker-2":
				w2 = n.IP.String()
			}
		}
		got, err := httpGet(host, w1+":30009", "/clientip")
		if h, _, _ := net.SplitHostPort(got); err != nil || h != st.Hosts[0].IP.String() {
			t.Errorf("eTP Local keeps the client address: got %q (%v), want %s", got, err, st.Hosts[0].IP)
		}
		if got, err := httpGet(host, w2+":30009", "/hostname"); err == nil {
			t.Errorf("eTP Local on a node without a local endpoint answered %q; want a drop", got)
		}
	})
	t.Run("no endpoints is refused at once", func(t *testing.T) {
		start := time.Now()
		c, err := dial(pods["c1"], "tcp", ip("empty")+":80")
		if err == nil {
			c.Close()
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Since(start) > time.Second {
			t.Errorf("connect to a Service without endpoints: %v after %s, want connection refused at once", err, time.Since(start))
		}
	})
	t.Run("hairpin", func(t *testing.T) {
		// web-1 reaching itself through its own Service, masqueraded so the reply returns.
		seen := spread(t, pods["web-1"], ip("web")+":80", 60)
		if seen["web-1"] == 0 {
			t.Errorf("web-1 never reached itself through the Service: %v", seen)
		}
	})
	t.Run("headless, ExternalName and SCTP in the ruleset", func(t *testing.T) {
		// From the host in the node's namespace: a Docker node's image has no nft.
		var node string
		for _, n := range st.Nodes {
			if n.Name == "worker-1" {
				node = n.Netns
			}
		}
		out, err := exec.Command("ip", "netns", "exec", node, "nft", "list", "table", "ip", "kube-proxy").CombinedOutput()
		if err != nil {
			t.Fatalf("nft list table ip kube-proxy in worker-1: %v\n%s", err, out)
		}
		rules := string(out)
		if strings.Contains(rules, "default/headless/") || strings.Contains(rules, "default/ext/") {
			t.Errorf("headless or ExternalName Services were programmed")
		}
		if !strings.Contains(rules, "default/sctp/sctp/") || !strings.Contains(rules, "sctp dport 9999") && !strings.Contains(rules, ". sctp . 9999") {
			t.Errorf("SCTP Service not programmed:\n%s", rules)
		}
	})
	t.Run("bad Service changes nothing", func(t *testing.T) {
		bad := writeLab(t, "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: NodePort\n  selector: {app: web}\n  ports: [{port: 80, nodePort: 80}]\n")
		_, errs, code := e.run("apply", "--name", name, "-f", bad)
		if code != 2 || !strings.Contains(errs, "provided port is not in the valid range") {
			t.Errorf("apply of a bad NodePort: exit %d: %s", code, errs)
		}
		allThree(t, spread(t, pods["c1"], ip("web")+":80", 60))
	})
	t.Run("a deleted pod never answers", func(t *testing.T) {
		e.must("delete", "--name", name, "pod", "web-3")
		for svc, seen := range map[string]map[string]int{
			"web":    spread(t, pods["c1"], ip("web")+":80", 60),
			"web-np": spread(t, host, st.Nodes[1].IP.String()+":30008", 40),
		} {
			if seen["web-3"] > 0 || seen["web-1"] == 0 || seen["web-2"] == 0 {
				t.Errorf("%s after deleting web-3: %v", svc, seen)
			}
		}
	})
	t.Run("endpoints follow labels", func(t *testing.T) {
		e.must("label", "--name", name, "pod", "web-2", "app=other", "--overwrite")
		if seen := spread(t, pods["c1"], ip("web")+":80", 30); seen["web-2"] > 0 || seen["web-1"] != 30 {
			t.Errorf("after relabelling web-2: %v", seen)
		}
		out := e.must("get", "--name", name, "endpoints", "web")
		if strings.Contains(out, podIP(t, st, "web-2")) {
			t.Errorf("endpoints still list web-2:\n%s", out)
		}
	})
}
