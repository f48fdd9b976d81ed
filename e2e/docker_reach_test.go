package e2e

import (
	"context"
	"fmt"
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
