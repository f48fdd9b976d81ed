// Package state owns a lab's state directory: the plan it was deployed from, the
// supervisor's PID, socket and log, the event log, CNI files and the per-namespace
// /etc files. Everything of a lab lives under one directory marked with the lab's
// name, so destroy removes exactly that. It never touches kernel objects.
package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"podlab.dev/podlab/plan"
)

// DefaultRoot is where labs keep their state unless configured otherwise: /run is
// emptied at boot, exactly when the namespaces a lab made are gone too.
const DefaultRoot = "/run/podlab"

// markFile holds the lab's name; a directory without it is not podlab's.
const markFile = "podlab.lab"

// Dir is one lab's state directory.
type Dir struct {
	Root string
	Lab  string
}

// For returns the state directory of lab under root.
func For(root, lab string) Dir { return Dir{Root: root, Lab: lab} }

func (d Dir) Path() string            { return filepath.Join(d.Root, d.Lab) }
func (d Dir) file(name string) string { return filepath.Join(d.Path(), name) }
func (d Dir) PlanFile() string        { return d.file("plan.json") }
func (d Dir) Socket() string          { return d.file("supervisor.sock") }
func (d Dir) PIDFile() string         { return d.file("supervisor.pid") }
func (d Dir) Log() string             { return d.file("supervisor.log") }
func (d Dir) Events() string          { return d.file("events.ndjson") } // written by the supervisor
func (d Dir) DeployEvents() string    { return d.file("deploy.ndjson") } // written by deploy
func (d Dir) CNI(node string) string  { return filepath.Join(d.Path(), "cni", node) }
func (d Dir) Etc(netns string) string { return filepath.Join(d.Path(), "etc", netns) }
func (d Dir) lockFile() string        { return filepath.Join(d.Root, ".lock."+d.Lab) }

// Create makes the directory and its mark. It fails if the lab already has one.
func (d Dir) Create() error {
	if err := os.MkdirAll(d.Root, 0o755); err != nil {
		return err
	}
	if err := os.Mkdir(d.Path(), 0o755); err != nil {
		if os.IsExist(err) {
			return fmt.Errorf("state directory %s already exists", d.Path())
		}
		return err
	}
	return os.WriteFile(d.file(markFile), []byte(d.Lab+"\n"), 0o644)
}

// Exists says whether the lab has a state directory carrying its mark.
func (d Dir) Exists() bool {
	b, err := os.ReadFile(d.file(markFile))
	return err == nil && strings.TrimSpace(string(b)) == d.Lab
}

// Remove deletes the directory if it carries the lab's mark.
func (d Dir) Remove() error {
	if _, err := os.Stat(d.Path()); os.IsNotExist(err) {
		return nil
	}
	if !d.Exists() {
		return fmt.Errorf("%s does not carry podlab's mark for lab %q; not removing it", d.Path(), d.Lab)
	}
	return os.RemoveAll(d.Path())
}

// WritePlan stores the plan the lab is deployed from.
func (d Dir) WritePlan(p *plan.Plan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := d.PlanFile() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, d.PlanFile())
}

// ReadPlan loads the stored plan.
func (d Dir) ReadPlan() (*plan.Plan, error) {
	b, err := os.ReadFile(d.PlanFile())
	if err != nil {
		return nil, err
	}
	var p plan.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", d.PlanFile(), err)
	}
	return &p, nil
}

// SupervisorPID returns the PID recorded for the supervisor, 0 if none.
func (d Dir) SupervisorPID() int {
	b, err := os.ReadFile(d.PIDFile())
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return pid
}

// SupervisorAlive says whether pid is a running podlab supervisor of this lab (and
// not an unrelated process that reused the PID).
func (d Dir) SupervisorAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	hasSup, hasLab := false, false
	for i, a := range args {
		if a == "supervise" {
			hasSup = true
		}
		if (a == "--name" && i+1 < len(args) && args[i+1] == d.Lab) || a == "--name="+d.Lab {
			hasLab = true
		}
	}
	if !hasSup || !hasLab {
		return false
	}
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie has exited: it only waits to be reaped.
	if i := strings.LastIndexByte(string(st), ')'); i > 0 && i+2 < len(st) && st[i+2] == 'Z' {
		return false
	}
	return true
}

// Lock takes the lab's lock, refusing a second deploy or destroy at the same time.
// The lock file lives outside the lab's directory so destroy can remove that.
func (d Dir) Lock() (unlock func(), err error) {
	unlock, err = LockFile(d.lockFile(), false)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, fmt.Errorf("another podlab command is deploying or destroying lab %q right now; wait for it to finish", d.Lab)
	}
	return unlock, err
}

// LockFile takes an exclusive flock on path, creating it; with wait it blocks until
// the lock is free, else it fails with EWOULDBLOCK. The file is removed on unlock, so
// after locking it checks that the locked file is still the one at path (a holder may
// have removed it in between) and retries if not.
func LockFile(path string, wait bool) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, err
		}
		if err := syscall.Flock(int(f.Fd()), how); err != nil {
			f.Close()
			return nil, err
		}
		var held, now syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(path, &now) == nil && held.Ino == now.Ino && held.Dev == now.Dev {
			return func() {
				os.Remove(path)
				f.Close()
			}, nil
		}
		f.Close() // locked a file that was removed meanwhile: take the new one
	}
}

// Labs lists the labs with a state directory under root.
func Labs(root string) ([]string, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && For(root, e.Name()).Exists() {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// WriteEtc writes the files exec bind-mounts over /etc for namespace netns, and
// returns their directory.
func (d Dir) WriteEtc(netns string, files map[string]string) (string, error) {
	dir := d.Etc(netns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}
