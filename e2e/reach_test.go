package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
)

const reachLab = `name: %s
cluster:
  overlay: %s
  cni: %s
nodes:
  - name: control-plane
    role: control-plane
  - name: worker-1
  - name: worker-2
hosts:
  - name: client
    ports: [8080, "8081/udp"]
pods:
  - {name: a-1, node: worker-1, labels: {app: a}, ports: [80, "81/udp"]}
  - {name: a-2, node: worker-1, labels: {app: a}, ports: [80, "81/udp"]}
  - {name: a-3, node: worker-1, labels: {app: a}, ports: [80, "81/udp"]}
  - {name: b-1, node: worker-2, labels: {app: b}, ports: [80, "81/udp"]}
  - {name: b-2, node: worker-2, labels: {app: b}, ports: [80, "81/udp"]}
  - {name: b-3, node: worker-2, labels: {app: b}, ports: [80, "81/udp"]}
`

// TestReachability runs the Foundation's reachability suite for both runtimes: the
// Docker cases skip when no engine answers, and check every sandbox is a running
// container and none is left after destroy.
func TestReachability(t *testing.T) {
	for _, tc := range []struct{ runtime, overlay, cni string }{
		{"netns", "vxlan", "podlab"}, {"netns", "host-gw", "podlab"}, {"netns", "vxlan", "bridge"},
		{"docker", "vxlan", "podlab"}, {"docker", "host-gw", "podlab"},
	} {
		t.Run(tc.runtime+"-"+tc.overlay+"-"+tc.cni, func(t *testing.T) {
			e := newEnv(t)
			name := uniq(strings.ReplaceAll(tc.overlay, "-", "") + "-" + tc.cni)
			if tc.runtime == "docker" {
				name = uniq("dk-" + strings.ReplaceAll(tc.overlay, "-", ""))
				cli := dockerEngine(t)
				// Registered before deploy's own cleanup, so it runs after the destroy.
				t.Cleanup(func() {
					if left := labContainers(t, cli, name); len(left) > 0 {
						t.Errorf("containers of lab %s left after destroy: %v", name, left)
					}
				})
				defer func() {
					// underlay + 3 nodes + 1 host + 6 pods + 2 CoreDNS pods, each a
					// running container.
					if cs := labContainers(t, cli, name); len(cs) != 13 || strings.Count(strings.Join(cs, ","), "(running)") != 13 {
						t.Errorf("want 13 running containers, got %v", cs)
					}
				}()
			}
			st := e.deploy(name, "runtime: "+tc.runtime+"\n"+fmt.Sprintf(reachLab, name, tc.overlay, tc.cni))
			if st.Runtime != tc.runtime {
				t.Errorf("lab runtime = %q, want %s", st.Runtime, tc.runtime)
			}
			if len(st.Pods) != 6 || st.ReadyCount() != 6 {
				t.Fatalf("want 6 ready pods, got %d of %d", st.ReadyCount(), len(st.Pods))
			}
			// Cluster DNS answers in every runtime, through kube-dns's Service.
			if out, errs, code := e.run("exec", "--name", name, st.Pods[0].Name, "--", "nslookup", "kubernetes.default.svc.cluster.local"); code != 0 || !strings.Contains(out, "10.96.0.1") {
				t.Errorf("nslookup kubernetes.default.svc.cluster.local in %s: exit %d\n%s%s", st.Pods[0].Name, code, out, errs)
			}
			nodeIP := map[string]string{}
			for _, n := range st.Nodes {
				nodeIP[n.Name] = n.IP.String()
			}
			host := st.Hosts[0]
			for _, src := range st.Pods {
				for _, dst := range st.Pods {
					if src.Name == dst.Name {
						continue
					}
					ip := dst.IP.String()
					if err := ping(src.Netns, ip); err != nil {
						t.Errorf("%s -> %s icmp: %v", src.Name, dst.Name, err)
					}
					if got, err := httpGet(src.Netns, ip+":80", "/hostname"); err != nil || got != dst.Name {
						t.Errorf("%s -> %s http /hostname = %q, %v", src.Name, dst.Name, got, err)
					}
					got, err := httpGet(src.Netns, ip+":80", "/clientip")
					if h, _, _ := net.SplitHostPort(got); err != nil || h != src.IP.String() {
						t.Errorf("%s -> %s /clientip = %q (%v), want the pod's own address %s: no NAT inside the cluster", src.Name, dst.Name, got, err, src.IP)
					}
					if got, err := udpAsk(src.Netns, ip+":81", "hostname"); err != nil || got != dst.Name {
						t.Errorf("%s -> %s udp = %q, %v", src.Name, dst.Name, got, err)
					}
				}
				// Pods reach hosts, masqueraded to their node's address.
				hip := host.IP.String()
				if err := ping(src.Netns, hip); err != nil {
					t.Errorf("%s -> host icmp: %v", src.Name, err)
				}
				got, err := httpGet(src.Netns, hip+":8080", "/clientip")
				if h, _, _ := net.SplitHostPort(got); err != nil || h != nodeIP[src.Node] {
					t.Errorf("%s -> host /clientip = %q (%v), want its node's address %s", src.Name, got, err, nodeIP[src.Node])
				}
				if got, err := udpAsk(src.Netns, hip+":8081", "hostname"); err != nil || got != "client" {
					t.Errorf("%s -> host udp = %q, %v", src.Name, got, err)
				}
			}
			// exec runs inside the pod with its resolv.conf.
			out := e.must("exec", "--name", name, "a-1", "--", "cat", "/etc/resolv.conf")
			if !strings.Contains(out, "nameserver 10.96.0.10") || !strings.Contains(out, "search default.svc.cluster.local svc.cluster.local cluster.local") {
				t.Errorf("resolv.conf in pod:\n%s", out)
			}
			out = e.must("exec", "--name", name, "-n", "default", "b-1", "--", "ip", "-o", "-4", "addr", "show", "eth0")
			if !strings.Contains(out, podIP(t, st, "b-1")+"/24") {
				t.Errorf("ip addr in b-1: %s", out)
			}
			out = e.must("exec", "--name", name, "worker-1", "--", "ip", "route")
			if !strings.Contains(out, "10.244.2.0/24") {
				t.Errorf("routes on worker-1:\n%s", out)
			}
			if tc.overlay == "vxlan" && !strings.Contains(out, "flannel.1") {
				t.Errorf("vxlan routes on worker-1 do not use flannel.1:\n%s", out)
			}
		})
	}
}
