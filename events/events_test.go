package events

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestEmitCloseRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.ndjson")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	fixed := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	before := time.Now()
	in := []Event{
		{Type: NetnsCreated, Kind: "Node", Name: "podlab_x_node_a"},
		{Type: PodReady, Kind: "Pod", Namespace: "default", Name: "web-1", Node: "a", Message: "10.244.1.2"},
		{Type: Warning, Time: fixed, Message: "kept time"},
	}
	for _, e := range in {
		l.Emit(e)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) {
		t.Fatalf("Read returned %d events, want %d: %+v", len(got), len(in), got)
	}
	for i := range in {
		want := in[i]
		if want.Time.IsZero() {
			if got[i].Time.Before(before) || got[i].Time.After(after) {
				t.Errorf("event %d stamped %v, not between %v and %v", i, got[i].Time, before, after)
			}
			want.Time = got[i].Time
		}
		if !got[i].Time.Equal(want.Time) {
			t.Errorf("event %d time %v, want %v", i, got[i].Time, want.Time)
		}
		got[i].Time, want.Time = time.Time{}, time.Time{}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("event %d = %+v, want %+v", i, got[i], want)
		}
	}
}

func TestLogAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.ndjson")
	for _, name := range []string{"first", "second"} {
		l, err := OpenLog(path)
		if err != nil {
			t.Fatal(err)
		}
		l.Emit(Event{Type: Warning, Name: name})
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "first" || got[1].Name != "second" {
		t.Errorf("after two opens: %+v, want first then second", got)
	}
}

func TestFlushMakesEventsVisible(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.ndjson")
	l, err := OpenLog(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	l.Emit(Event{Type: Warning, Name: "buffered"})
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || len(got) != 1 || got[0].Name != "buffered" {
		t.Errorf("Read after Flush = %+v, %v", got, err)
	}
}

func TestNilLog(t *testing.T) {
	var l *Log
	l.Emit(Event{Type: Warning}) // a deploy without a log must not crash
	if err := l.Close(); err != nil {
		t.Errorf("Close of a nil log: %v", err)
	}
}

func TestReadMissing(t *testing.T) {
	got, err := Read(filepath.Join(t.TempDir(), "missing.ndjson"))
	if got != nil || err != nil {
		t.Errorf("Read of a missing file = %v, %v; want nil, nil", got, err)
	}
}

func TestReadSkipsBrokenLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.ndjson")
	data := `{"type":"LinkUp","name":"a"}` + "\n" + `{broken` + "\n" + `{"type":"LinkUp","name":"b"}` + "\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("Read = %+v, want a and b", got)
	}
}

func line(t *testing.T, e Event) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func TestFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deploy.ndjson")
	// Written before Follow starts: delivered too.
	if err := os.WriteFile(path, line(t, Event{Type: NetnsCreated, Name: "early"}), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)

	got := make(chan Event, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Follow(ctx, path, 5*time.Millisecond, func(e Event) bool {
			got <- e
			return e.Type != DeployFinished
		})
	}()
	t.Cleanup(func() { cancel(); <-done })

	next := func() Event {
		t.Helper()
		select {
		case e := <-got:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event from Follow")
			return Event{}
		}
	}
	if e := next(); e.Name != "early" {
		t.Fatalf("first event %+v, want early", e)
	}

	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.Write(line(t, Event{Type: LinkUp, Name: "appended"})); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Name != "appended" {
		t.Fatalf("event %+v, want appended", e)
	}

	// A line written in two chunks is delivered once, when complete.
	b := line(t, Event{Type: PodReady, Name: "split"})
	if _, err := f.Write(b[:10]); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		t.Fatalf("Follow delivered %+v from half a line", e)
	case <-time.After(50 * time.Millisecond): // several polls
	}
	if _, err := f.Write(b[10:]); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Name != "split" || e.Type != PodReady {
		t.Fatalf("event %+v, want the split PodReady", e)
	}

	// fn returning false stops Follow: nothing after DeployFinished is delivered.
	if _, err := f.Write(append(line(t, Event{Type: DeployFinished, Name: "end"}), line(t, Event{Type: Warning, Name: "after"})...)); err != nil {
		t.Fatal(err)
	}
	if e := next(); e.Type != DeployFinished {
		t.Fatalf("event %+v, want DeployFinished", e)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return after fn returned false")
	}
	select {
	case e := <-got:
		t.Errorf("Follow delivered %+v after fn returned false", e)
	default:
	}
}

func TestFollowWaitsForTheFileAndStopsWithContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "later.ndjson")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	got := make(chan Event, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Follow(ctx, path, 5*time.Millisecond, func(e Event) bool { got <- e; return true })
	}()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(20 * time.Millisecond) // Follow polls a file that is not there yet
	if err := os.WriteFile(path, line(t, Event{Type: LinkUp, Name: "late"}), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if e.Name != "late" {
			t.Errorf("event %+v, want late", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow never saw the file created after it started")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not return when its context ended")
	}
}

func TestReadAllMergesByTime(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	write := func(name string, evs ...Event) string {
		path := filepath.Join(dir, name)
		l, err := OpenLog(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			l.Emit(e)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
	deploy := write("deploy.ndjson",
		Event{Time: at(0), Type: NetnsCreated, Name: "d0"},
		Event{Time: at(2), Type: LinkUp, Name: "d2"},
		Event{Time: at(4), Type: DeployFinished, Name: "d4"},
	)
	sup := write("events.ndjson",
		Event{Time: at(1), Type: SupervisorStarted, Name: "s1"},
		Event{Time: at(3), Type: PodReady, Name: "s3"},
		Event{Time: at(5), Type: PodReady, Name: "s5"},
	)
	got, err := ReadAll(deploy, sup, filepath.Join(dir, "missing.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range got {
		names = append(names, e.Name)
	}
	if want := []string{"d0", "s1", "d2", "s3", "d4", "s5"}; !reflect.DeepEqual(names, want) {
		t.Errorf("ReadAll order %q, want %q", names, want)
	}
}
