package docker

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"podlab.dev/podlab/runtime/netns"
)

var (
	dirOnce sync.Once
	dirErr  error
)

// ensureDir makes /run/netns a shared mount point as iproute2 and runtime/netns do,
// so the namespaces mounted there are visible to `ip netns` in every mount namespace.
func ensureDir() error {
	dirOnce.Do(func() {
		if err := os.MkdirAll(netns.Dir, 0o755); err != nil {
			dirErr = err
			return
		}
		err := unix.Mount("", netns.Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
		if errors.Is(err, unix.EINVAL) {
			if err = unix.Mount(netns.Dir, netns.Dir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
				err = unix.Mount("", netns.Dir, "none", unix.MS_SHARED|unix.MS_REC, "")
			}
		}
		if err != nil {
			dirErr = fmt.Errorf("make %s a shared mount: %w", netns.Dir, err)
		}
	})
	return dirErr
}

// mountNetns bind-mounts the namespace file src (a container's /proc/PID/ns/net) at
// path, which keeps the namespace alive as long as the mount exists.
func mountNetns(src, path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	f.Close()
	if err := unix.Mount(src, path, "none", unix.MS_BIND, ""); err != nil {
		os.Remove(path)
		return fmt.Errorf("bind mount %s at %s: %w", src, path, err)
	}
	return nil
}

// unmountNetns removes the mount and its file; a missing one is not an error.
func unmountNetns(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
