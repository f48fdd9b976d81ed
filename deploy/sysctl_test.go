package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"podlab.dev/podlab/state"
)

// fakeNeighDir points neighDir at a temporary directory holding the kernel's default
// limits, and puts the real one back when the test ends. Tests using it must not run
// in parallel.
func fakeNeighDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, v := range map[string]string{"gc_thresh1": "128\n", "gc_thresh2": "512\n", "gc_thresh3": "1024\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old := neighDir
	neighDir = dir + "/"
	t.Cleanup(func() { neighDir = old })
	return dir
}

func thresholds(t *testing.T, dir string) [3]int {
	t.Helper()
	var out [3]int
	for i, name := range threshNames {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return out
}

func record(t *testing.T, root string) *limitsFile {
	t.Helper()
	b, err := os.ReadFile(limitsPath(root))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var lf limitsFile
	if err := json.Unmarshal(b, &lf); err != nil {
		t.Fatal(err)
	}
	return &lf
}

var defaults = [3]int{128, 512, 1024}

func TestRaiseNeighbourLimitsSmallNeed(t *testing.T) {
	dir := fakeNeighDir(t)
	root := t.TempDir()
	for _, need := range []int{0, 10, 128} { // 128/256/512 still fit 128/512/1024
		changes, err := raiseNeighbourLimits(root, "small", need)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) != 0 {
			t.Errorf("need %d: changes %v, want none", need, changes)
		}
	}
	if got := thresholds(t, dir); got != defaults {
		t.Errorf("thresholds %v, want the defaults %v", got, defaults)
	}
	// The need is recorded (a later large lab adds to it) but no original value.
	if lf := record(t, root); lf == nil || lf.Needs["small"] != 128 || len(lf.Original) != 0 {
		t.Errorf("record %+v, want the need of lab small and no originals", lf)
	}
	// Nothing was raised, so destroying changes nothing either, and drops the record.
	changes, err := restoreNeighbourLimits(root, "small")
	if err != nil || len(changes) != 0 {
		t.Errorf("restore = %v, %v; want nothing", changes, err)
	}
	if lf := record(t, root); lf != nil {
		t.Errorf("record left after the last lab: %+v", lf)
	}
}

func TestRaiseAndRestoreNeighbourLimits(t *testing.T) {
	dir := fakeNeighDir(t)
	root := t.TempDir()
	for _, lab := range []string{"big", "second"} {
		if err := state.For(root, lab).Create(); err != nil {
			t.Fatal(err)
		}
	}

	// The first large lab raises all three.
	changes, err := raiseNeighbourLimits(root, "big", 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := []SysctlChange{{"gc_thresh1", 128, 1000}, {"gc_thresh2", 512, 2000}, {"gc_thresh3", 1024, 4000}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	if got := changes[0].String(); got != "net.ipv4.neigh.default.gc_thresh1: 128 -> 1000" {
		t.Errorf("String() = %q", got)
	}
	if got := thresholds(t, dir); got != [3]int{1000, 2000, 4000} {
		t.Errorf("thresholds after the raise %v", got)
	}
	lf := record(t, root)
	if lf == nil {
		t.Fatal("no record of the original values")
	}
	wantOrig := map[string]int{"gc_thresh1": 128, "gc_thresh2": 512, "gc_thresh3": 1024}
	if !reflect.DeepEqual(lf.Original, wantOrig) || !reflect.DeepEqual(lf.Needs, map[string]int{"big": 1000}) {
		t.Errorf("record %+v, want originals %v and needs big=1000", lf, wantOrig)
	}

	// A second lab's need adds up; the originals stay those from before any raise.
	changes, err = raiseNeighbourLimits(root, "second", 500)
	if err != nil {
		t.Fatal(err)
	}
	want = []SysctlChange{{"gc_thresh1", 1000, 1500}, {"gc_thresh2", 2000, 3000}, {"gc_thresh3", 4000, 6000}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("second lab: changes %v, want %v", changes, want)
	}
	if got := thresholds(t, dir); got != [3]int{1500, 3000, 6000} {
		t.Errorf("thresholds after the second raise %v", got)
	}
	lf = record(t, root)
	if !reflect.DeepEqual(lf.Original, wantOrig) || !reflect.DeepEqual(lf.Needs, map[string]int{"big": 1000, "second": 500}) {
		t.Errorf("record %+v after the second lab", lf)
	}

	// Destroying one lab keeps the raise while another still needs it.
	if err := state.For(root, "big").Remove(); err != nil {
		t.Fatal(err)
	}
	changes, err = restoreNeighbourLimits(root, "big")
	if err != nil || len(changes) != 0 {
		t.Errorf("restore with a lab left = %v, %v; want nothing", changes, err)
	}
	if got := thresholds(t, dir); got != [3]int{1500, 3000, 6000} {
		t.Errorf("thresholds changed while a lab still needs them: %v", got)
	}
	if lf = record(t, root); lf == nil || !reflect.DeepEqual(lf.Needs, map[string]int{"second": 500}) {
		t.Errorf("record %+v, want needs second=500 only", lf)
	}

	// The last one restores the originals and removes the record.
	changes, err = restoreNeighbourLimits(root, "second")
	if err != nil {
		t.Fatal(err)
	}
	want = []SysctlChange{{"gc_thresh1", 1500, 128}, {"gc_thresh2", 3000, 512}, {"gc_thresh3", 6000, 1024}}
	if !reflect.DeepEqual(changes, want) {
		t.Errorf("restore changes %v, want %v", changes, want)
	}
	if got := thresholds(t, dir); got != defaults {
		t.Errorf("thresholds after the last lab %v, want %v", got, defaults)
	}
	if _, err := os.Stat(limitsPath(root)); !os.IsNotExist(err) {
		t.Errorf("record still there after the last lab: %v", err)
	}
}

func TestRaiseOnlyWhatIsShort(t *testing.T) {
	dir := fakeNeighDir(t)
	root := t.TempDir()
	// 200/400/800: only gc_thresh1 is below what is needed.
	changes, err := raiseNeighbourLimits(root, "mid", 200)
	if err != nil {
		t.Fatal(err)
	}
	if want := []SysctlChange{{"gc_thresh1", 128, 200}}; !reflect.DeepEqual(changes, want) {
		t.Errorf("changes %v, want %v", changes, want)
	}
	if got := thresholds(t, dir); got != [3]int{200, 512, 1024} {
		t.Errorf("thresholds %v", got)
	}
	lf := record(t, root)
	if lf == nil || !reflect.DeepEqual(lf.Original, map[string]int{"gc_thresh1": 128}) {
		t.Errorf("record %+v, want only gc_thresh1's original", lf)
	}
	changes, err = restoreNeighbourLimits(root, "mid")
	if err != nil {
		t.Fatal(err)
	}
	if want := []SysctlChange{{"gc_thresh1", 200, 128}}; !reflect.DeepEqual(changes, want) {
		t.Errorf("restore %v, want %v", changes, want)
	}
	if got := thresholds(t, dir); got != defaults {
		t.Errorf("thresholds %v after restore", got)
	}
}

// A lab that needed the raise but whose state directory is gone (a crash, a reboot of
// /run) does not keep the raise alive.
func TestRestoreForgetsLabsWithoutState(t *testing.T) {
	dir := fakeNeighDir(t)
	root := t.TempDir()
	if err := state.For(root, "live").Create(); err != nil {
		t.Fatal(err)
	}
	if _, err := raiseNeighbourLimits(root, "gone", 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := raiseNeighbourLimits(root, "live", 1000); err != nil {
		t.Fatal(err)
	}
	changes, err := restoreNeighbourLimits(root, "live")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 3 {
		t.Errorf("restore changes %v, want all three put back", changes)
	}
	if got := thresholds(t, dir); got != defaults {
		t.Errorf("thresholds %v, want %v", got, defaults)
	}
}

func TestRaiseNeighbourLimitsUnreadable(t *testing.T) {
	old := neighDir
	neighDir = filepath.Join(t.TempDir(), "missing") + "/"
	t.Cleanup(func() { neighDir = old })
	if _, err := raiseNeighbourLimits(t.TempDir(), "lab", 1000); err == nil || !strings.Contains(err.Error(), "gc_thresh1") {
		t.Errorf("raise with unreadable limits: %v, want an error naming gc_thresh1", err)
	}
}
