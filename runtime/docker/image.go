package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	podruntime "podlab.dev/podlab/runtime"
)

// Busybox is the static busybox podlab's images are made of (Debian's busybox-static).
const Busybox = "/bin/busybox"

// NodeImage and PodImage are podlab's own images for a version.
func NodeImage(version string) string { return "podlab/node:" + version }
func PodImage(version string) string  { return "podlab/pod:" + version }

// MissingImageError says a pod names an image the engine does not have.
type MissingImageError struct{ Image string }

func (e *MissingImageError) Error() string {
	return fmt.Sprintf("image %q is not present in the local Docker engine (no registry is used): load it with `docker load -i FILE.tar` or build it with `docker build -t %s .`; podlab's own images come from `podlab image build`", e.Image, e.Image)
}

// ImageFor is the image sandbox s runs and whether it is one of podlab's own (whose
// command podlab chooses). A pod runs the image it names unless that is empty or one
// of podlab's (`podlab/...`, e.g. podlab/workload): those get podlab's pod image, where
// the built-in servers run.
func (r *Runtime) ImageFor(s podruntime.Sandbox) (string, bool) {
	if s.Kind != podruntime.KindPod {
		return NodeImage(r.version), true
	}
	if s.Image == "" || strings.HasPrefix(s.Image, "podlab/") {
		return PodImage(r.version), true
	}
	return s.Image, false
}

// CheckImages returns a *MissingImageError for the first image the engine lacks.
func (r *Runtime) CheckImages(ctx context.Context, images []string) error {
	if err := r.Ping(ctx); err != nil {
		return err
	}
	for _, img := range images {
		if _, err := r.cli.ImageInspect(ctx, img); err != nil {
			if cerrdefs.IsNotFound(err) {
				return &MissingImageError{Image: img}
			}
			return fmt.Errorf("inspect image %s: %w", img, err)
		}
	}
	return nil
}

// EnsureImages builds podlab's node and pod images when either is missing and says
// whether it built them.
func (r *Runtime) EnsureImages(ctx context.Context, log io.Writer) (bool, error) {
	err := r.CheckImages(ctx, []string{NodeImage(r.version), PodImage(r.version)})
	var missing *MissingImageError
	if !errors.As(err, &missing) {
		return false, err
	}
	return true, r.BuildImages(ctx, log)
}

// BuildImages builds podlab/node and podlab/pod from scratch through the engine's
// build API: busybox with its applet links and, when it is static, the podlab binary
// itself. Both images have the same content today; they are tagged apart so that a
// node and a pod can diverge without renaming anything.
func (r *Runtime) BuildImages(ctx context.Context, log io.Writer) error {
	if log == nil {
		log = io.Discard
	}
	if err := r.Ping(ctx); err != nil {
		return err
	}
	buildCtx, note, err := buildContext()
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(log, note)
	}
	res, err := r.cli.ImageBuild(ctx, bytes.NewReader(buildCtx), client.ImageBuildOptions{
		Tags:        []string{NodeImage(r.version), PodImage(r.version)},
		Remove:      true,
		ForceRemove: true,
		NetworkMode: "none",
		Labels:      map[string]string{"podlab.version": r.version},
	})
	if err != nil {
		return fmt.Errorf("build podlab images: %w", err)
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var m struct {
			Stream      string `json:"stream"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("build podlab images: read the engine's answer: %w", err)
		}
		if m.Error != "" {
			return fmt.Errorf("build podlab images: %s", m.Error)
		}
		if s := strings.TrimSpace(m.Stream); s != "" {
			fmt.Fprintln(log, s)
		}
	}
}

const dockerfile = `FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/bin
LABEL podlab.image=true
`

// buildContext is the tar the engine builds from: a Dockerfile and rootfs/ with
// /bin/busybox, a link per applet, and /usr/local/bin/podlab when this binary is
// static. The note says what was left out and why.
func buildContext() ([]byte, string, error) {
	bb, err := os.ReadFile(Busybox)
	if err != nil {
		return nil, "", fmt.Errorf("podlab's images are made of a static busybox: %w; install it with `apt-get install -y busybox-static`", err)
	}
	if !isStatic(Busybox) {
		return nil, "", fmt.Errorf("%s is not statically linked; install Debian's busybox-static: `apt-get install -y busybox-static`", Busybox)
	}
	out, err := exec.Command(Busybox, "--list").Output()
	if err != nil {
		return nil, "", fmt.Errorf("%s --list: %w", Busybox, err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	dir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Typeflag: tar.TypeDir})
	}
	link := func(name, target string) error {
		return tw.WriteHeader(&tar.Header{Name: name, Linkname: target, Mode: 0o777, Typeflag: tar.TypeSymlink})
	}
	must := []error{
		file("Dockerfile", 0o644, []byte(dockerfile)),
		dir("rootfs/"), dir("rootfs/bin/"), dir("rootfs/tmp/"), dir("rootfs/etc/"), dir("rootfs/usr/"), dir("rootfs/usr/local/"), dir("rootfs/usr/local/bin/"),
		file("rootfs/bin/busybox", 0o755, bb),
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet != "busybox" && !strings.Contains(applet, "/") {
			must = append(must, link("rootfs/bin/"+applet, "busybox"))
		}
	}
	note := ""
	self, err := os.Executable()
	if err == nil && isStatic(self) {
		b, rerr := os.ReadFile(self)
		if rerr != nil {
			return nil, "", rerr
		}
		must = append(must, file("rootfs/usr/local/bin/podlab", 0o755, b))
	} else {
		note = "note: this podlab binary is not statically linked, so the images get busybox only; build podlab with CGO_ENABLED=0 to include it"
	}
	if err := errors.Join(append(must, tw.Close())...); err != nil {
		return nil, "", fmt.Errorf("build context: %w", err)
	}
	return buf.Bytes(), note, nil
}

// isStatic says whether the ELF file at path asks for no program interpreter.
func isStatic(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}
