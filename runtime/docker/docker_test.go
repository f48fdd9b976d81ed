package docker

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"testing"

	podruntime "podlab.dev/podlab/runtime"
)

func TestContainerName(t *testing.T) {
	for _, tc := range []struct {
		s    podruntime.Sandbox
		want string
	}{
		{podruntime.Sandbox{Lab: "basics", Kind: "underlay", Name: "podlab_basics_underlay"}, "podlab-basics-underlay"},
		{podruntime.Sandbox{Lab: "basics", Kind: "node", Name: "podlab_basics_node_worker-1"}, "podlab-basics-node-worker-1"},
		{podruntime.Sandbox{Lab: "basics", Kind: "host", Name: "podlab_basics_host_client"}, "podlab-basics-host-client"},
		{podruntime.Sandbox{Lab: "basics", Kind: "pod", Name: "podlab_basics_pod_shop_api-1"}, "podlab-basics-pod-shop_api-1"},
	} {
		if got := ContainerName(tc.s); got != tc.want {
			t.Errorf("ContainerName(%s) = %q, want %q", tc.s.Name, got, tc.want)
		}
	}
}

func TestImageFor(t *testing.T) {
	r := &Runtime{version: "v1"}
	for _, tc := range []struct {
		kind, image, want string
		own               bool
	}{
		{"node", "", "podlab/node:v1", true},
		{"underlay", "", "podlab/node:v1", true},
		{"host", "", "podlab/node:v1", true},
		{"pod", "", "podlab/pod:v1", true},
		{"pod", "podlab/workload", "podlab/pod:v1", true},
		{"pod", "nginx:1.27", "nginx:1.27", false},
	} {
		got, own := r.ImageFor(podruntime.Sandbox{Kind: tc.kind, Image: tc.image})
		if got != tc.want || own != tc.own {
			t.Errorf("ImageFor(%s, %q) = %q, %v; want %q, %v", tc.kind, tc.image, got, own, tc.want, tc.own)
		}
	}
}

// The build context holds the Dockerfile, busybox and a link per applet that the
// lab's tools need.
func TestBuildContext(t *testing.T) {
	if _, err := os.Stat(Busybox); err != nil {
		t.Skip("needs Debian's busybox-static")
	}
	b, _, err := buildContext()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got[h.Name] = h.Linkname
	}
	for _, f := range []string{"Dockerfile", "rootfs/bin/busybox"} {
		if _, ok := got[f]; !ok {
			t.Errorf("build context has no %s", f)
		}
	}
	for _, applet := range []string{"sh", "sleep", "ip", "wget", "timeout"} {
		if got["rootfs/bin/"+applet] != "busybox" {
			t.Errorf("build context: rootfs/bin/%s is not a link to busybox", applet)
		}
	}
}
