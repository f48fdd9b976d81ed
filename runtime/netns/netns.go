// Package netns is podlab's embedded runtime: every node, host, pod and the underlay
// is a named network namespace under /run/netns, exactly what `ip netns add` makes, so
// `ip netns` and CNI see them. It creates and removes namespaces whose names carry a
// lab's mark and nothing else; it never touches a namespace it did not name.
package netns

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	podruntime "podlab.dev/podlab/runtime"
)

// Dir is where named namespaces are mounted, as iproute2 does.
const Dir = "/run/netns"

var _ podruntime.Runtime = (*Runtime)(nil)

// Runtime creates and removes named network namespaces.
type Runtime struct {
	once   sync.Once
	dirErr error
}

// New returns the netns runtime.
func New() *Runtime { return &Runtime{} }

// Path is the mount point of namespace name.
func Path(name string) string { return filepath.Join(Dir, name) }

// ensureDir makes /run/netns a shared mount point like iproute2 does, so namespaces
// mounted there are visible to `ip netns` in every mount namespace.
func (r *Runtime) ensureDir() error {
	r.once.Do(func() {
		if err := os.MkdirAll(Dir, 0o755); err != nil {
			r.dirErr = err
			return
		}
		err := unix.Mount("", Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if errors.Is(err, unix.EINVAL) {
			if err = unix.Mount(Dir, Dir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
				err = unix.Mount("", Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
			}
		}
		if err != nil {
			r.dirErr = fmt.Errorf("make %s a shared mount: %w", Dir, err)
		}
	})
	return r.dirErr
}

// Create makes the named namespace and returns its path. It fails if it exists.
func (r *Runtime) Create(_ context.Context, s podruntime.Sandbox) (string, error) {
	name := s.Name
	if err := r.ensureDir(); err != nil {
		return "", err
	}
	path := Path(name)
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		if os.IsExist(err) {
			return "", fmt.Errorf("network namespace %q already exists", name)
		}
		return "", fmt.Errorf("create network namespace %q: %w", name, err)
	}
	f.Close()
	if err := mountNew(path, s.Sysctls); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("create network namespace %q: %w", name, err)
	}
	return path, nil
}

// mountNew creates a network namespace on a locked thread, sets its sysctls (a thread
// sees /proc/sys/net of its own namespace), bind-mounts it at path and returns the
// thread to where it was.
func mountNew(path string, sysctls map[string]string) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("unshare: %w", err)
	}
	var serr error
	for k, v := range sysctls {
		if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil && serr == nil {
			serr = fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	merr := unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), path, "none", unix.MS_BIND, "")
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("return to original namespace: %w", err) // thread stays locked and dies
	}
	runtime.UnlockOSThread()
	if merr != nil {
		return fmt.Errorf("bind mount: %w", merr)
	}
	if serr != nil {
		unix.Unmount(path, unix.MNT_DETACH)
		return serr
	}
	return nil
}

// Delete removes the named namespace; a missing one is not an error. The namespace
// and its links vanish once no process or socket holds it any more.
func (r *Runtime) Delete(_ context.Context, name string) error {
	path := Path(name)
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount network namespace %q: %w", name, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("remove network namespace %q: %w", name, err)
	}
	return nil
}

// List returns the names of namespaces starting with prefix, sorted.
func (r *Runtime) List(_ context.Context, prefix string) ([]string, error) {
	entries, err := os.ReadDir(Dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}
