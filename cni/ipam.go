package cni

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/plugins/plugins/ipam/host-local/backend/allocator"
	"github.com/containernetworking/plugins/plugins/ipam/host-local/backend/disk"
)

// The IPAM here is host-local run in-process: the same allocator and on-disk store
// (one file per IP under dataDir/<network>), so state written by the exec'd host-local
// binary and by podlab-bridge is interchangeable.

func openStore(args *skel.CmdArgs) (*allocator.IPAMConfig, store, error) {
	conf, _, err := allocator.LoadIPAMConfig(args.StdinData, args.Args)
	if err != nil {
		return nil, store{}, types.NewError(types.ErrInvalidNetworkConfig, fmt.Sprintf("host-local ipam: %v", err), "")
	}
	ds, err := disk.New(conf.Name, conf.DataDir)
	if err != nil {
		return nil, store{}, types.NewError(types.ErrIOFailure, fmt.Sprintf("host-local ipam: open store in %q: %v", conf.DataDir, err), "")
	}
	return conf, store{Store: ds, dir: filepath.Join(dataDirOf(conf), conf.Name)}, nil
}

// ipamAdd allocates one address per range set (honouring IP= from CNI_ARGS) and returns
// the abbreviated IPAM result (ips without interface index, routes from the config).
func ipamAdd(args *skel.CmdArgs) (*current.Result, error) {
	conf, store, err := openStore(args)
	if err != nil {
		return nil, err
	}
	defer store.Close()

	requested := map[string]net.IP{}
	for _, ip := range conf.IPArgs {
		requested[ip.String()] = ip
	}
	result := &current.Result{CNIVersion: current.ImplementedSpecVersion}
	var used []*allocator.IPAllocator
	release := func() {
		for _, a := range used {
			_ = a.Release(args.ContainerID, args.IfName)
		}
	}
	for idx := range conf.Ranges {
		rs := &conf.Ranges[idx]
		alloc := allocator.NewIPAllocator(rs, store, idx)
		var want net.IP
		for k, ip := range requested {
			if rs.Contains(ip) {
				want = ip
				delete(requested, k)
				break
			}
		}
		var ipc *current.IPConfig
		if want != nil {
			ipc, err = alloc.Get(args.ContainerID, args.IfName, want)
		} else {
			ipc, err = nextFree(alloc, store, idx, args.ContainerID, args.IfName)
		}
		if err != nil {
			release()
			return nil, fmt.Errorf("host-local ipam: allocate from range set %d (%s): %w", idx, rs.String(), err)
		}
		used = append(used, alloc)
		result.IPs = append(result.IPs, ipc)
	}
	if len(requested) > 0 {
		release()
		var ips []string
		for k := range requested {
			ips = append(ips, k)
		}
		return nil, fmt.Errorf("host-local ipam: requested IP %s is in none of the configured ranges", strings.Join(ips, ", "))
	}
	result.Routes = conf.Routes
	return result, nil
}

// nextFree is allocator.Get without its duplicate-allocation scan, which reads every
// file of the store and made ADD O(pods on the node). Add rules out a duplicate
// attachment before calling IPAM (its host veth would exist). Same round-robin order,
// same store, same lock.
func nextFree(alloc *allocator.IPAllocator, store store, idx int, id, ifname string) (*current.IPConfig, error) {
	if err := store.Lock(); err != nil {
		return nil, fmt.Errorf("lock store: %w", err)
	}
	defer store.Unlock()
	iter, err := alloc.GetIter()
	if err != nil {
		return nil, err
	}
	rangeID := strconv.Itoa(idx)
	for {
		ipn, gw := iter.Next()
		if ipn == nil {
			return nil, errors.New("no IP addresses available")
		}
		ok, err := store.Reserve(id, ifname, ipn.IP, rangeID)
		if err != nil {
			return nil, err
		}
		if ok {
			return &current.IPConfig{Address: *ipn, Gateway: gw}, nil
		}
	}
}

// ipamDel releases every address held by (containerID, ifname); releasing nothing is fine.
func ipamDel(args *skel.CmdArgs) error {
	_, store, err := openStore(args)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Lock(); err != nil {
		return fmt.Errorf("host-local ipam: lock store: %w", err)
	}
	defer store.Unlock()
	return store.ReleaseByID(args.ContainerID, args.IfName)
}

// ipamCheck reports whether (containerID, ifname) still holds an address.
func ipamCheck(args *skel.CmdArgs) error {
	_, store, err := openStore(args)
	if err != nil {
		return err
	}
	defer store.Close()
	if !store.FindByID(args.ContainerID, args.IfName) {
		return fmt.Errorf("host-local ipam: no address is allocated to container %q interface %q", args.ContainerID, args.IfName)
	}
	return nil
}

// ipamGC releases every allocation whose (containerID, ifname) is not in valid.
func ipamGC(args *skel.CmdArgs, valid []types.GCAttachment) error {
	conf, store, err := openStore(args)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Lock(); err != nil {
		return fmt.Errorf("host-local ipam: lock store: %w", err)
	}
	defer store.Unlock()

	keep := make(map[types.GCAttachment]bool, len(valid))
	for _, a := range valid {
		keep[a] = true
	}
	dir := filepath.Join(dataDirOf(conf), conf.Name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("host-local ipam: read %q: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() || net.ParseIP(e.Name()) == nil {
			continue // lock, last_reserved_ip.N
		}
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		id, ifname, _ := strings.Cut(strings.TrimSpace(string(data)), disk.LineBreak)
		if keep[types.GCAttachment{ContainerID: id, IfName: ifname}] {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("host-local ipam: release %s: %w", e.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// ipamStatus says whether an ADD could get an address now: the store is usable and
// every range set still has a free address.
func ipamStatus(args *skel.CmdArgs) error {
	conf, store, err := openStore(args)
	if err != nil {
		return err
	}
	defer store.Close()
	dir := filepath.Join(dataDirOf(conf), conf.Name)
	used := map[string]bool{}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			used[e.Name()] = true
		}
	}
	for idx := range conf.Ranges {
		if !rangeSetHasFree(&conf.Ranges[idx], used) {
			return types.NewError(errPluginNotAvailable,
				fmt.Sprintf("host-local ipam: range set %d (%s) is exhausted", idx, conf.Ranges[idx].String()), "")
		}
	}
	return nil
}

func rangeSetHasFree(rs *allocator.RangeSet, used map[string]bool) bool {
	for _, r := range *rs {
		for ip := cloneIP(r.RangeStart); ; ip = nextIP(ip) {
			if !ip.Equal(r.Gateway) && !used[ip.String()] {
				return true
			}
			if ip.Equal(r.RangeEnd) {
				break
			}
		}
	}
	return false
}

func dataDirOf(conf *allocator.IPAMConfig) string {
	if conf.DataDir == "" {
		return "/var/lib/cni/networks"
	}
	return conf.DataDir
}

func cloneIP(ip net.IP) net.IP { return append(net.IP(nil), ip...) }

func nextIP(ip net.IP) net.IP {
	n := cloneIP(ip)
	for i := len(n) - 1; i >= 0; i-- {
		n[i]++
		if n[i] != 0 {
			break
		}
	}
	return n
}
