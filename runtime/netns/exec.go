package netns

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Exec replaces the current process with argv running inside the namespace at nsPath,
// as `ip netns exec` does: a private mount namespace in which the files of etcDir
// (resolv.conf, hosts) are bind-mounted over /etc and /sys shows the namespace's
// interfaces; with hostname, a private UTS namespace with that hostname (a pod's
// name, as kubelet gives it). It returns only on failure.
func Exec(nsPath, etcDir, hostname string, argv []string) error {
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		return fmt.Errorf("%s: command not found", argv[0])
	}
	ns, err := os.Open(nsPath)
	if err != nil {
		return fmt.Errorf("open network namespace: %w", err)
	}
	runtime.LockOSThread() // never unlocked: the process image is replaced below
	flags := unix.CLONE_NEWNS
	if hostname != "" {
		flags |= unix.CLONE_NEWUTS
	}
	if err := unix.Unshare(flags); err != nil {
		return fmt.Errorf("unshare mount namespace: %w", err)
	}
	if hostname != "" {
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			return fmt.Errorf("set hostname %s: %w", hostname, err)
		}
	}
	if err := unix.Mount("", "/", "none", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("make / a slave mount: %w", err)
	}
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("enter network namespace: %w", err)
	}
	ns.Close()
	// /sys shows the namespace of whoever mounted it: remount it, best effort.
	if unix.Unmount("/sys", unix.MNT_DETACH) == nil {
		unix.Mount("podlab", "/sys", "sysfs", 0, "")
	}
	for _, f := range []string{"resolv.conf", "hosts"} {
		src := filepath.Join(etcDir, f)
		if _, err := os.Stat(src); err == nil {
			if err := unix.Mount(src, "/etc/"+f, "none", unix.MS_BIND, ""); err != nil {
				return fmt.Errorf("bind %s over /etc/%s: %w", src, f, err)
			}
		}
	}
	return unix.Exec(bin, argv, os.Environ())
}
