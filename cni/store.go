package cni

import (
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/containernetworking/plugins/plugins/ipam/host-local/backend/disk"
)

// store is host-local's disk store with a cheaper Reserve. The original rewrites
// last_reserved_ip.<range> with O_TRUNC, and ext4's auto_da_alloc turns every
// truncate-to-zero-then-write into a forced writeback on close (~0.5 ms per ADD). This
// Reserve writes the same files, in the same format, without truncating to zero.
type store struct {
	*disk.Store
	dir string
}

func (s store) Reserve(id, ifname string, ip net.IP, rangeID string) (bool, error) {
	name := disk.GetEscapedPath(s.dir, ip.String())
	f, err := os.OpenFile(name, os.O_RDWR|os.O_EXCL|os.O_CREATE, 0o600)
	if os.IsExist(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.WriteString(strings.TrimSpace(id) + disk.LineBreak + ifname); err != nil {
		f.Close()
		os.Remove(name)
		return false, err
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return false, err
	}
	if err := overwrite(filepath.Join(s.dir, "last_reserved_ip."+rangeID), ip.String()); err != nil {
		return false, err
	}
	return true, nil
}

// overwrite replaces a small file's content by writing over it and then cutting it to
// the new length (never to zero).
func overwrite(path, content string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.WriteAt([]byte(content), 0)
	if werr == nil {
		werr = f.Truncate(int64(len(content)))
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}
