package e2e

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/moby/client"
)

// TestDockerOwnImage: a pod naming a local image runs that image's own entrypoint (here
// busybox httpd on port 8000, built on podlab's pod image) and is still wired by
// podlab: another pod reaches it across nodes.
func TestDockerOwnImage(t *testing.T) {
	cli := dockerEngine(t)
	e := newEnv(t)
	_, errs, code := e.run("image", "build")
	m := regexp.MustCompile(`built \S+ and (podlab/pod:\S+)`).FindStringSubmatch(errs)
	if code != 0 || m == nil {
		t.Fatalf("podlab image build: exit %d\n%s", code, errs)
	}
	image := uniq("podlab-e2e/httpd:v")
	dockerfile := "FROM " + m[1] + "\n" +
		`RUN ["/bin/sh", "-c", "mkdir /www && echo own-image > /www/index.html"]` + "\n" +
		`ENTRYPOINT ["/bin/httpd", "-f", "-p", "8000", "-h", "/www"]` + "\n"
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))})
	tw.Write([]byte(dockerfile))
	tw.Close()
	ctx := context.Background()
	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{image}, NetworkMode: "none", Remove: true, ForceRemove: true})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		t.Fatalf("build %s: %v\n%s", image, err, out)
	}
	t.Cleanup(func() { cli.ImageRemove(ctx, image, client.ImageRemoveOptions{Force: true}) })

	name := uniq("dk-own")
	t.Cleanup(func() {
		if left := labContainers(t, cli, name); len(left) > 0 {
			t.Errorf("containers of lab %s left after destroy: %v", name, left)
		}
	})
	st := e.deploy(name, fmt.Sprintf("name: %s\nruntime: docker\nnodes: [{name: n1}, {name: n2}]\npods:\n  - {name: web, node: n1, image: %q}\n  - {name: client, node: n2, ports: [80]}\n", name, image))
	var web, client string
	for _, p := range st.Pods {
		switch p.Name {
		case "web":
			web = p.IP.String()
		case "client":
			client = p.Netns
		}
	}
	if got, err := httpGet(client, web+":8000", "/"); err != nil || strings.TrimSpace(got) != "own-image" {
		t.Errorf("client -> web:8000 (the image's own httpd) = %q, %v; want own-image", got, err)
	}
}
