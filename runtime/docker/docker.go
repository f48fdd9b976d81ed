// Package docker is podlab's Docker runtime: every node, host, pod and the underlay is
// a container with no Docker network (`--network none`), whose network namespace is
// bind-mounted under /run/netns with the lab's mark, exactly where the netns runtime
// puts its own. Everything above the runtime (links, CNI, the supervisor, exec) works
// on that path and never knows a container is behind it. It creates and removes only
// containers carrying podlab's labels and namespaces carrying the lab's prefix; it
// never creates Docker networks and never touches the host's firewall.
package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"podlab.dev/podlab/nsutil"
	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
)

// Labels on every container podlab makes.
const (
	LabelLab   = "podlab.lab"
	LabelRole  = "podlab.role"
	LabelNode  = "podlab.node"
	LabelNetns = "podlab.netns"
)

var _ podruntime.Runtime = (*Runtime)(nil)

// Runtime runs a lab's sandboxes as containers.
type Runtime struct {
	cli     *client.Client
	version string // tag of podlab's own images

	pingOnce sync.Once
	pingErr  error

	mu      sync.Mutex
	byNetns map[string]string // netns name -> container ID, filled by List
}

// New returns the Docker runtime for podlab images tagged version. It connects
// lazily: nothing is asked of the engine until a method needs it.
func New(version string) (*Runtime, error) {
	cli, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return &Runtime{cli: cli, version: version, byNetns: map[string]string{}}, nil
}

// Close releases the client's connections.
func (r *Runtime) Close() error { return r.cli.Close() }

// ErrEngineDown says no Docker engine answered.
var ErrEngineDown = errors.New("the Docker engine is not running")

// Ping checks once that the engine answers and negotiates the API version.
func (r *Runtime) Ping(ctx context.Context) error {
	r.pingOnce.Do(func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if _, err := r.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
			r.pingErr = fmt.Errorf("%w (no answer on %s: %v); install it with `apt-get install -y docker.io` and start it without letting it touch the host firewall: `dockerd --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none &`, or use `--runtime netns`",
				ErrEngineDown, r.cli.DaemonHost(), err)
		}
	})
	return r.pingErr
}

// ContainerName is the container of sandbox s: podlab-<lab>-<kind>-<rest of its
// namespace name>, unique because namespace names are.
func ContainerName(s podruntime.Sandbox) string {
	rest := strings.TrimPrefix(s.Name, "podlab_"+s.Lab+"_")
	rest = strings.TrimPrefix(rest, s.Kind+"_")
	if rest == "" || rest == s.Kind {
		return "podlab-" + s.Lab + "-" + s.Kind
	}
	return "podlab-" + s.Lab + "-" + s.Kind + "-" + rest
}

// Create starts the sandbox's container and mounts its network namespace at
// /run/netns/<s.Name>. A node, host or underlay container gets the capabilities
// podlab uses in it; a pod's gets what its s.Security asks for on top of the engine's
// defaults, as in Kubernetes, and a privileged one is refused before anything is made.
func (r *Runtime) Create(ctx context.Context, s podruntime.Sandbox) (string, error) {
	if err := r.Ping(ctx); err != nil {
		return "", err
	}
	if err := ensureDir(); err != nil {
		return "", err
	}
	path := netns.Path(s.Name)
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("network namespace %q already exists", s.Name)
	}
	image, own := r.ImageFor(s)
	imageUser := ""
	if needsImageUser(s) {
		res, err := r.cli.ImageInspect(ctx, image)
		if err != nil {
			if cerrdefs.IsNotFound(err) {
				return "", &MissingImageError{Image: image}
			}
			return "", fmt.Errorf("inspect image %s: %w", image, err)
		}
		if res.Config != nil {
			imageUser = res.Config.User
		}
	}
	sec, err := securityFor(s, imageUser)
	if err != nil {
		return "", err
	}
	cfg := &container.Config{
		Image:    image,
		Hostname: hostname(s),
		User:     sec.User,
		Labels: map[string]string{
			LabelLab: s.Lab, LabelRole: s.Kind, LabelNode: s.Node, LabelNetns: s.Name,
		},
	}
	if own {
		// Keeps the container, hence its namespace, alive; podlab's supervisor serves
		// the pod's ports from sockets it opens inside that namespace.
		cfg.Entrypoint = []string{"/bin/sleep"}
		cfg.Cmd = []string{"infinity"}
	}
	name := ContainerName(s)
	created, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:   name,
		Config: cfg,
		HostConfig: &container.HostConfig{
			NetworkMode:    "none",
			CapAdd:         sec.CapAdd,
			CapDrop:        sec.CapDrop,
			ReadonlyRootfs: sec.ReadonlyRootfs,
		},
	})
	if err != nil {
		if cerrdefs.IsNotFound(err) {
			return "", &MissingImageError{Image: image}
		}
		return "", fmt.Errorf("create container %s: %w", name, err)
	}
	fail := func(err error) (string, error) {
		r.remove(context.WithoutCancel(ctx), created.ID)
		return "", err
	}
	if _, err := r.cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return fail(fmt.Errorf("start container %s: %w", name, err))
	}
	ins, err := r.cli.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{})
	if err != nil {
		return fail(fmt.Errorf("inspect container %s: %w", name, err))
	}
	st := ins.Container.State
	if st == nil || !st.Running || st.Pid == 0 {
		return fail(fmt.Errorf("container %s (image %s) exited right after it started; its entrypoint must keep running", name, image))
	}
	if err := mountNetns(fmt.Sprintf("/proc/%d/ns/net", st.Pid), path); err != nil {
		return fail(fmt.Errorf("container %s: %w", name, err))
	}
	if err := setSysctls(path, s.Sysctls); err != nil {
		unmountNetns(path)
		return fail(fmt.Errorf("container %s: %w", name, err))
	}
	r.mu.Lock()
	r.byNetns[s.Name] = created.ID
	r.mu.Unlock()
	return path, nil
}

// hostname is the sandbox's short name, as a pod's or node's hostname would be.
func hostname(s podruntime.Sandbox) string {
	n := s.Name
	if i := strings.LastIndexByte(n, '_'); i >= 0 {
		n = n[i+1:]
	}
	if len(n) > 63 {
		n = n[:63]
	}
	return n
}

// setSysctls writes sysctls inside the namespace at path: a thread sees /proc/sys/net
// of the namespace it is in.
func setSysctls(path string, sysctls map[string]string) error {
	if len(sysctls) == 0 {
		return nil
	}
	return nsutil.Do(path, func() error {
		for k, v := range sysctls {
			if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil {
				return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
			}
		}
		return nil
	})
}

// Delete unmounts the namespace and removes the container labelled with it; missing
// ones are not an error. Without an engine it still removes the mount, so a netns
// lab or the namespaces of a lab whose engine died are cleaned up.
func (r *Runtime) Delete(ctx context.Context, name string) error {
	if err := unmountNetns(netns.Path(name)); err != nil {
		return fmt.Errorf("network namespace %q: %w", name, err)
	}
	if r.Ping(ctx) != nil {
		return nil
	}
	r.mu.Lock()
	id, known := r.byNetns[name]
	r.mu.Unlock()
	if !known {
		ids, err := r.containers(ctx, LabelNetns+"="+name)
		if err != nil {
			return err
		}
		for _, c := range ids {
			if c.Labels[LabelNetns] == name {
				id = c.ID
			}
		}
	}
	if id == "" {
		return nil
	}
	return r.remove(ctx, id)
}

func (r *Runtime) remove(ctx context.Context, id string) error {
	_, err := r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("remove container %.12s: %w", id, err)
	}
	return nil
}

// List returns the namespaces under /run/netns starting with prefix and the
// namespaces named by podlab containers (also stopped ones, left by a crash), sorted.
func (r *Runtime) List(ctx context.Context, prefix string) ([]string, error) {
	names, err := netns.New().List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	if r.Ping(ctx) == nil {
		cs, err := r.containers(ctx, LabelNetns)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		for _, c := range cs {
			if n := c.Labels[LabelNetns]; strings.HasPrefix(n, prefix) {
				set[n] = true
				r.byNetns[n] = c.ID
			}
		}
		r.mu.Unlock()
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func (r *Runtime) containers(ctx context.Context, label string) ([]container.Summary, error) {
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		return nil, fmt.Errorf("list podlab containers: %w", err)
	}
	return res.Items, nil
}
