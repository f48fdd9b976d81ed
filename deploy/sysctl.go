package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"podlab.dev/podlab/state"
)

// The kernel's neighbour (ARP) table is shared by every namespace, and its limits
// live in the root namespace only. A large lab overflows the defaults (128/512/1024).
// A variable so tests can point it at a directory of their own.
var neighDir = "/proc/sys/net/ipv4/neigh/default/"

var threshNames = []string{"gc_thresh1", "gc_thresh2", "gc_thresh3"}

// SysctlChange is one host setting podlab changed.
type SysctlChange struct {
	Name string `json:"name"`
	From int    `json:"from"`
	To   int    `json:"to"`
}

func (c SysctlChange) String() string {
	return fmt.Sprintf("net.ipv4.neigh.default.%s: %d -> %d", c.Name, c.From, c.To)
}

// limitsFile records, under the state root, the original values and what each lab needs.
type limitsFile struct {
	Original map[string]int `json:"original"`
	Needs    map[string]int `json:"needs"`
}

func limitsPath(root string) string { return filepath.Join(root, ".neigh-limits.json") }

func readLimits(root string) (*limitsFile, error) {
	lf := &limitsFile{Original: map[string]int{}, Needs: map[string]int{}}
	b, err := os.ReadFile(limitsPath(root))
	if os.IsNotExist(err) {
		return lf, nil
	}
	if err != nil {
		return nil, err
	}
	return lf, json.Unmarshal(b, lf)
}

func readThresh(name string) (int, error) {
	b, err := os.ReadFile(neighDir + name)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// raiseNeighbourLimits raises gc_thresh1/2/3 only when the labs running together need
// more entries than the table holds without garbage collection, and returns what
// changed. Every lab's need and the original values are recorded (under a lock shared
// by all labs) before anything is written, so the originals can be put back when the
// last lab goes, even after a failure half-way.
func raiseNeighbourLimits(root, lab string, need int) ([]SysctlChange, error) {
	unlock, err := state.LockFile(limitsPath(root)+".lock", true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	lf, err := readLimits(root)
	if err != nil {
		return nil, err
	}
	lf.Needs[lab] = need
	total := 0
	for _, n := range lf.Needs {
		total += n
	}
	want := map[string]int{"gc_thresh1": total, "gc_thresh2": 2 * total, "gc_thresh3": 4 * total}
	cur := map[string]int{}
	var raise []string
	for _, name := range threshNames {
		v, err := readThresh(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		cur[name] = v
		if want[name] > v {
			raise = append(raise, name)
			if _, ok := lf.Original[name]; !ok {
				lf.Original[name] = v
			}
		}
	}
	if err := writeLimits(root, lf); err != nil {
		return nil, err
	}
	// Highest first, so thresh1 <= thresh2 <= thresh3 holds at every step.
	var changes []SysctlChange
	for i := len(raise) - 1; i >= 0; i-- {
		name := raise[i]
		if err := os.WriteFile(neighDir+name, []byte(strconv.Itoa(want[name])), 0o644); err != nil {
			return changes, fmt.Errorf("raise %s: %w", name, err)
		}
		changes = append([]SysctlChange{{Name: name, From: cur[name], To: want[name]}}, changes...)
	}
	return changes, nil
}

func writeLimits(root string, lf *limitsFile) error {
	b, _ := json.Marshal(lf)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	tmp := limitsPath(root) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, limitsPath(root))
}

// restoreNeighbourLimits forgets the lab's need and puts the original values back once
// no lab is left that needs them.
func restoreNeighbourLimits(root, lab string) ([]SysctlChange, error) {
	if _, err := os.Stat(limitsPath(root)); os.IsNotExist(err) {
		return nil, nil
	}
	unlock, err := state.LockFile(limitsPath(root)+".lock", true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	lf, err := readLimits(root)
	if err != nil {
		return nil, err
	}
	delete(lf.Needs, lab)
	for l := range lf.Needs {
		if !state.For(root, l).Exists() {
			delete(lf.Needs, l)
		}
	}
	if len(lf.Needs) > 0 {
		return nil, writeLimits(root, lf)
	}
	var changes []SysctlChange
	// Lowest first, so the values stay ordered at every step.
	for _, name := range threshNames {
		orig, ok := lf.Original[name]
		if !ok {
			continue
		}
		cur, _ := readThresh(name)
		if cur == orig {
			continue
		}
		if err := os.WriteFile(neighDir+name, []byte(strconv.Itoa(orig)), 0o644); err != nil {
			return changes, err
		}
		changes = append(changes, SysctlChange{Name: name, From: cur, To: orig})
	}
	return changes, os.Remove(limitsPath(root))
}

func sortStrings(s []string) { sort.Strings(s) }
