package state

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// MountSource marks the tmpfs podlab mounts for its default state root.
const MountSource = "podlab"

// PrepareRoot makes the state root exist. Lab state is small and churns (a host-local
// address file, a CNI cache entry per pod): when the default root is not already in
// memory (on some machines /run is a disk), a tmpfs marked with MountSource is
// mounted on it, which costs nothing on disk and vanishes at boot together with the
// namespaces it describes. A root the user configured is used as it is.
func PrepareRoot(root string) error {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	if filepath.Clean(root) != DefaultRoot {
		return nil
	}
	// Serialise concurrent deploys on the parent directory, so only one mounts.
	parent, err := os.Open(filepath.Dir(root))
	if err != nil {
		return err
	}
	defer parent.Close()
	if err := unix.Flock(int(parent.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	defer unix.Flock(int(parent.Fd()), unix.LOCK_UN)
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		return err
	}
	if st.Type == unix.TMPFS_MAGIC || st.Type == unix.RAMFS_MAGIC {
		return nil
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return nil // an older podlab left labs on disk here: do not hide them
	}
	if err := unix.Mount(MountSource, root, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=256m"); err != nil {
		return fmt.Errorf("mount a tmpfs for lab state on %s: %w", root, err)
	}
	return nil
}
