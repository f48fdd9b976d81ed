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
const neighDir = "/proc/sys/net/ipv4/neigh/default/"

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
// changed. The original values are kept to be restored when the last such lab goes.
func raiseNeighbourLimits(root, lab string, need int) ([]SysctlChange, error) {
	lf, err := readLimits(root)
	if err != nil {
		return nil, err
	}
	total := need
	for l, n := range lf.Needs {
		if l != lab {
			total += n
		}
	}
	want := map[string]int{"gc_thresh1": total, "gc_thresh2": 2 * total, "gc_thresh3": 4 * total}
	var changes []SysctlChange
	for _, name := range threshNames {
		cur, err := readThresh(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if want[name] <= cur {
			continue
		}
		if _, ok := lf.Original[name]; !ok {
			lf.Original[name] = cur
		}
		if err := os.WriteFile(neighDir+name, []byte(strconv.Itoa(want[name])), 0o644); err != nil {
			return nil, fmt.Errorf("raise %s: %w", name, err)
		}
		changes = append(changes, SysctlChange{Name: name, From: cur, To: want[name]})
	}
	if len(changes) == 0 && len(lf.Original) == 0 {
		return nil, nil
	}
	lf.Needs[lab] = need
	return changes, writeLimits(root, lf)
}

func writeLimits(root string, lf *limitsFile) error {
	b, _ := json.Marshal(lf)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	return os.WriteFile(limitsPath(root), b, 0o644)
}

// restoreNeighbourLimits puts the original values back once no lab that needed the
// raise is left.
func restoreNeighbourLimits(root, lab string) ([]SysctlChange, error) {
	lf, err := readLimits(root)
	if err != nil || len(lf.Original) == 0 {
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
	// Lower thresh1 first so the values stay ordered at every step.
	for _, name := range threshNames {
		orig, ok := lf.Original[name]
		if !ok {
			continue
		}
		cur, _ := readThresh(name)
		if err := os.WriteFile(neighDir+name, []byte(strconv.Itoa(orig)), 0o644); err != nil {
			return changes, err
		}
		changes = append(changes, SysctlChange{Name: name, From: cur, To: orig})
	}
	return changes, os.Remove(limitsPath(root))
}

func sortStrings(s []string) { sort.Strings(s) }
