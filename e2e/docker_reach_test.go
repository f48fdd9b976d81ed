package e2e

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"podlab.dev/podlab/runtime/docker"
)

// dockerEngine returns a client of the local Docker engine, or skips the test when
// none answers: the Docker runtime's tests need a running dockerd.
func dockerEngine(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Skipf("runtime docker: skipped, no Docker client: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		cli.Close()
		t.Skipf("runtime docker: skipped, no Docker engine answers (%v); start one with `dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none &`", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// labContainers lists the containers (running or not) labelled with lab.
func labContainers(t *testing.T, cli *client.Client, lab string) []string {
	t.Helper()
	res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", docker.LabelLab+"="+lab)})
	if err != nil {
		t.Fatalf("list containers of lab %s: %v", lab, err)
	}
	var out []string
	for _, c := range res.Items {
		out = append(out, strings.TrimPrefix(c.Names[0], "/")+" ("+string(c.State)+")")
	}
	return out
}

// TestDockerReachability deploys the reachability lab with runtime docker and checks
// what TestReachability checks for netns, plus that every sandbox is a container and
// none is left after destroy.
func TestDockerReachability(t *testing.T) {
	cli := dockerEngine(t)
	for _, overlay := range []string{"vxlan", "host-gw"} {
		t.Run(overlay, func(t *testing.T) {
			e := newEnv(t)
			name := uniq("dk-" + strings.ReplaceAll(overlay, "-", ""))
			// Registered before deploy's own cleanup, so it runs after the destroy.
			t.Cleanup(func() {
				if left := labContainers(t, cli, name); len(left) > 0 {
					t.Errorf("containers of lab %s left after destroy: %v", name, left)
				}
			})
			st := e.deploy(name, "runtime: docker\n"+fmt.Sprintf(reachLab, name, overlay, "podlab"))
			if st.Runtime != "docker" {
				t.Errorf("lab runtime = %q, want docker", st.Runtime)
			}
			if len(st.Pods) != 6 || st.ReadyCount() != 6 {
				t.Fatalf("want 6 ready pods, got %d of %d", st.ReadyCount(), len(st.Pods))
			}
			// underlay + 3 nodes + 1 host + 6 pods, each a running container.
			if cs := labContainers(t, cli, name); len(cs) != 11 || strings.Count(strings.Join(cs, ","), "(running)") != 11 {
				t.Errorf("want 11 running containers, got %v", cs)
			}
			nodeIP := map[string]string{}
			for _, n := range st.Nodes {
				nodeIP[n.Name] = n.IP.String()
			}
			host := st.Hosts[0]
			hip := host.IP.String()
			for _, src := range st.Pods {
				for _, dst := range st.Pods {
					if src.Name == dst.Name {
						continue
					}
					ip := dst.IP.String()
					if err := ping(src.Netns, ip); err != nil {
						t.Errorf("%s -> %s icmp: %v", src.Name, dst.Name, err)
					}
					got, err := httpGet(src.Netns, ip+":80", "/clientip")
					if h, _, _ := net.SplitHostPort(got); err != nil || h != src.IP.String() {
						t.Errorf("%s -> %s /clientip = %q (%v), want %s", src.Name, dst.Name, got, err, src.IP)
					}
					if got, err := udpAsk(src.Netns, ip+":81", "hostname"); err != nil || got != dst.Name {
						t.Errorf("%s -> %s udp = %q, %v", src.Name, dst.Name, got, err)
					}
				}
				got, err := httpGet(src.Netns, hip+":8080", "/clientip")
				if h, _, _ := net.SplitHostPort(got); err != nil || h != nodeIP[src.Node] {
					t.Errorf("%s -> host /clientip = %q (%v), want its node's address %s", src.Name, got, err, nodeIP[src.Node])
				}
			}
			out := e.must("exec", "--name", name, "b-1", "--", "ip", "-o", "-4", "addr", "show", "eth0")
			if !strings.Contains(out, st.Pods[3].IP.String()+"/24") {
				t.Errorf("ip addr in b-1: %s", out)
			}
		})
	}
}

// TestDockerBadInput: a pod naming an image the engine lacks is refused before
// anything is created (exit 2, naming the image and how to load it); an engine that
// does not answer is exit 1 with how to start it.
func TestDockerBadInput(t *testing.T) {
	cli := dockerEngine(t)
	e := newEnv(t)
	name := uniq("dk-bad")
	lab := writeLab(t, fmt.Sprintf("name: %s\nruntime: docker\nnodes: [{name: n1}]\npods:\n  - {name: p, node: n1, image: podlab-e2e/no-such-image:1}\n", name))
	_, errs, code := e.run("deploy", "-t", lab)
	if code != 2 || !strings.Contains(errs, "podlab-e2e/no-such-image:1") || !strings.Contains(errs, "docker load") {
		t.Errorf("missing image: exit %d, stderr:\n%s", code, errs)
	}
	if left := labContainers(t, cli, name); len(left) > 0 {
		t.Errorf("containers left by a refused deploy: %v", left)
	}
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	_, errs, code = e.run("deploy", "-t", lab)
	if code != 1 || !strings.Contains(errs, "Docker engine is not running") || !strings.Contains(errs, "dockerd --iptables=false") {
		t.Errorf("engine down: exit %d, stderr:\n%s", code, errs)
	}
	e.must("destroy", "--name", name)
}
