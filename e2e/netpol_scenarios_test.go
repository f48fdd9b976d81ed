package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"podlab.dev/podlab/cluster/netpol/netpoltest"
)

// scenarioLab is the model of package netpoltest as a lab: x, y and z on workers 1-3,
// pods a, b, c at .10-.12 of their node's subnet, serving 80 and 81 over TCP and UDP
// with the upstream suite's port names.
func scenarioLab(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nnodes:\n  - {name: control-plane, role: control-plane}\n  - {name: worker-1}\n  - {name: worker-2}\n  - {name: worker-3}\nmanifests:\n", name)
	for i, ns := range []string{"x", "y", "z"} {
		fmt.Fprintf(&b, "  - {apiVersion: v1, kind: Namespace, metadata: {name: %q}}\n", ns)
		for j, p := range []string{"a", "b", "c"} {
			b.WriteString(scenarioPod(ns, p, fmt.Sprintf("10.244.%d.%d", i+1, 10+j), i+1))
		}
	}
	return b.String()
}

func scenarioPod(ns, name, ip string, node int) string {
	return fmt.Sprintf(`  - apiVersion: v1
    kind: Pod
    metadata: {name: %[2]s, namespace: %[1]q, labels: {pod: %[2]s}, annotations: {podlab.dev/ip: %[3]s}}
    spec:
      nodeName: worker-%[4]d
      containers:
        - name: cont
          image: podlab/pod
          ports:
            - {name: serve-80-tcp, containerPort: 80}
            - {name: serve-80-udp, containerPort: 80, protocol: UDP}
            - {name: serve-81-tcp, containerPort: 81}
            - {name: serve-81-udp, containerPort: 81, protocol: UDP}
`, ns, name, ip, node)
}

// TestNetworkPolicyScenarios replays every scenario of the policy model's tests on a
// live lab: the policies applied, the changes made with podlab's commands, then a
// matrix of real packets per expected table (TCP and UDP; this kernel has no SCTP
// sockets), which must agree with the table and with the model's own verdicts.
func TestNetworkPolicyScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("45 scenarios with real packets")
	}
	e := newEnv(t)
	name := uniq("nps")
	e.deploy(name, scenarioLab(name))
	start := time.Now()
	probes := 0
	for i, sc := range netpoltest.Scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			var docs []string
			for _, d := range strings.Split(sc.Policies, "\n---\n") {
				if strings.TrimSpace(d) != "" {
					docs = append(docs, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"+strings.TrimLeft(d, "\n"))
				}
			}
			file := writeLab(t, strings.Join(docs, "\n---\n")+"\n")
			if len(docs) > 0 {
				e.must("apply", "--name", name, "-f", file)
			}
			var undo [][]string
			for _, ch := range sc.Changes {
				ns, pod, _ := strings.Cut(ch.Name, "/")
				switch {
				case ch.Kind == "NewPod":
					var doc []string // the list item as a document of its own
					// Not the model's address: a CoreDNS pod may hold it in this lab.
					for _, l := range strings.Split(scenarioPod(ns, pod, "10.244.1.50", 1), "\n") {
						doc = append(doc, l[min(4, len(l)):])
					}
					e.must("apply", "--name", name, "-f", writeLab(t, strings.Join(doc, "\n")))
					undo = append(undo, []string{"delete", "--name", name, "-n", ns, "pod", pod})
					eventually(t, 10*time.Second, func() string { // apply returns before it is ready, as kubectl's does
						for _, p := range e.pods(name, "-n", ns) {
							if p.Name == pod && ready(p) {
								return ""
							}
						}
						out, _, _ := e.run("get", "--name", name, "pods", "-A", "-o", "wide")
						evs, _, _ := e.run("describe", "--name", name, "-n", ns, "pod", pod)
						return "pod " + ch.Name + " not ready:\n" + out + evs
					})
				case ch.Remove:
					e.must("label", "--name", name, strings.ToLower(ch.Kind), pathOf(ch.Kind, ns, pod), "-n", ns, ch.Key+"-")
				default:
					e.must("label", "--name", name, strings.ToLower(ch.Kind), pathOf(ch.Kind, ns, pod), "-n", ns, ch.Key+"="+ch.Value, "--overwrite")
					undo = append(undo, []string{"label", "--name", name, strings.ToLower(ch.Kind), pathOf(ch.Kind, ns, pod), "-n", ns, ch.Key + "-"})
				}
			}
			t.Cleanup(func() {
				if len(docs) > 0 {
					e.must("delete", "--name", name, "-f", file)
				}
				for _, u := range undo {
					e.run(u...) // a label set then removed by the scenario is gone already
				}
			})
			for _, pr := range sc.Probes {
				if pr.Proto == corev1.ProtocolSCTP {
					continue
				}
				probes++
				packets, model := e.probeMatrix(name, "--namespaces", "x,y,z", "--port", fmt.Sprint(pr.Port), "--protocol", strings.ToLower(string(pr.Proto)))
				var pods []string
				for p := range packets {
					pods = append(pods, p)
				}
				sort.Strings(pods)
				want, err := netpoltest.ParseTable(pr.Want, pods)
				if err != nil {
					t.Fatal(err)
				}
				allowed := func(from, to string) bool { return want[[2]string{from, to}] }
				expectTable(t, fmt.Sprintf("scenario %d, %s/%d, packets", i, pr.Proto, pr.Port), flatten(packets), allowed)
				expectTable(t, fmt.Sprintf("scenario %d, %s/%d, model", i, pr.Proto, pr.Port), flatten(model), allowed)
			}
		})
	}
	t.Logf("%d scenarios, %d matrices of real packets: %v", len(netpoltest.Scenarios), probes, time.Since(start).Round(time.Millisecond))
}

func pathOf(kind, ns, pod string) string {
	if kind == "Namespace" {
		return ns
	}
	return pod
}
