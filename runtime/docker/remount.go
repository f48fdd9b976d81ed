package docker

import (
	"context"
	"fmt"
	"os"

	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	podruntime "podlab.dev/podlab/runtime"
	"podlab.dev/podlab/runtime/netns"
)

// Remount mounts the network namespace the sandbox's container runs in now at the
// sandbox's path, in place of the one mounted there, and sets s.Sysctls in it. A
// container restarted behind podlab's back (`docker restart`, or `docker start` after
// a stop) has a fresh, empty namespace while the old one, still mounted, keeps the
// links podlab made: the caller wires the new one again. It says whether anything
// changed: false when the mounted namespace is already the container's, so podlab's
// own starts and repeated events are no-ops.
func (r *Runtime) Remount(ctx context.Context, s podruntime.Sandbox) (string, bool, error) {
	if err := r.Ping(ctx); err != nil {
		return "", false, err
	}
	id, err := r.containerOf(ctx, s.Name)
	if err != nil {
		return "", false, err
	}
	ins, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", false, fmt.Errorf("inspect container of %s: %w", s.Name, err)
	}
	st := ins.Container.State
	if st == nil || !st.Running || st.Pid == 0 {
		return "", false, fmt.Errorf("container of %s is not running", s.Name)
	}
	src := fmt.Sprintf("/proc/%d/ns/net", st.Pid)
	path := netns.Path(s.Name)
	if same, err := sameFile(src, path); err != nil {
		return "", false, fmt.Errorf("container of %s: %w", s.Name, err)
	} else if same {
		return path, false, nil
	}
	if err := ensureDir(); err != nil {
		return "", false, err
	}
	if err := unmountNetns(path); err != nil {
		return "", false, fmt.Errorf("network namespace %q: %w", s.Name, err)
	}
	if err := mountNetns(src, path); err != nil {
		return "", false, fmt.Errorf("container of %s: %w", s.Name, err)
	}
	if err := setSysctls(path, s.Sysctls); err != nil {
		return "", false, fmt.Errorf("container of %s: %w", s.Name, err)
	}
	r.mu.Lock()
	r.byNetns[s.Name] = id
	r.mu.Unlock()
	return path, true, nil
}

// sameFile says whether a and b are the same namespace (device and inode); a missing
// b is not.
func sameFile(a, b string) (bool, error) {
	var sa, sb unix.Stat_t
	if err := unix.Stat(a, &sa); err != nil {
		return false, fmt.Errorf("stat %s: %w", a, err)
	}
	if err := unix.Stat(b, &sb); err != nil {
		if os.IsNotExist(err) {
			return false, nil
		}
		return false, fmt.Errorf("stat %s: %w", b, err)
	}
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino, nil
}
