package probe

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// step is one moment of a Worker's life: at seconds after the container started,
// Due is asked; if an attempt is given ("ok" or "fail") it is observed.
type step struct {
	at      int
	due     bool
	attempt string // "", "ok", "fail"
	changed bool
	healthy bool
	failed  bool
}

func TestWorker(t *testing.T) {
	for _, tc := range []struct {
		name  string
		kind  string
		probe corev1.Probe
		steps []step
	}{
		{"readiness starts not ready and probes every period", Readiness, corev1.Probe{}, []step{
			{at: 0, due: true, healthy: false, failed: true},
			{at: 0, due: true, attempt: "ok", changed: true, healthy: true},
			{at: 9, due: false, healthy: true},
			{at: 10, due: true, attempt: "fail", healthy: true},
			{at: 20, due: true, attempt: "fail", healthy: true},
			{at: 30, due: true, attempt: "fail", changed: true, healthy: false, failed: true},
			{at: 40, due: true, attempt: "fail", healthy: false, failed: true},
			{at: 50, due: true, attempt: "ok", changed: true, healthy: true},
		}},
		{"readiness success threshold and period", Readiness, corev1.Probe{SuccessThreshold: 2, PeriodSeconds: 2}, []step{
			{at: 0, due: true, attempt: "ok", healthy: false, failed: true},
			{at: 1, due: false, healthy: false, failed: true},
			{at: 2, due: true, attempt: "ok", changed: true, healthy: true},
		}},
		{"a success resets the failure count", Readiness, corev1.Probe{FailureThreshold: 2}, []step{
			{at: 0, due: true, attempt: "ok", changed: true, healthy: true},
			{at: 10, due: true, attempt: "fail", healthy: true},
			{at: 20, due: true, attempt: "ok", healthy: true},
			{at: 30, due: true, attempt: "fail", healthy: true},
			{at: 40, due: true, attempt: "fail", changed: true, healthy: false, failed: true},
		}},
		{"initial delay", Readiness, corev1.Probe{InitialDelaySeconds: 5}, []step{
			{at: 0, due: false, failed: true},
			{at: 4, due: false, failed: true},
			{at: 5, due: true, attempt: "ok", changed: true, healthy: true},
		}},
		{"liveness starts healthy, fails, then holds", Liveness, corev1.Probe{FailureThreshold: 2}, []step{
			{at: 0, due: true, healthy: true},
			{at: 0, due: true, attempt: "fail", healthy: true},
			{at: 10, due: true, attempt: "fail", changed: true, healthy: false, failed: true},
			{at: 20, due: false, attempt: "ok", healthy: false, failed: true},
		}},
		{"startup is unknown, then started and done", Startup, corev1.Probe{PeriodSeconds: 1, FailureThreshold: 30}, []step{
			{at: 0, due: true, healthy: false},
			{at: 0, due: true, attempt: "fail", healthy: false},
			{at: 1, due: true, attempt: "ok", changed: true, healthy: true},
			{at: 2, due: false, healthy: true},
		}},
		{"startup gives up", Startup, corev1.Probe{PeriodSeconds: 1, FailureThreshold: 2}, []step{
			{at: 0, due: true, attempt: "fail", healthy: false},
			{at: 1, due: true, attempt: "fail", changed: true, healthy: false, failed: true},
			{at: 2, due: false, healthy: false, failed: true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWorker(tc.kind, &tc.probe, t0)
			for i, s := range tc.steps {
				now := t0.Add(time.Duration(s.at) * time.Second)
				if got := w.Due(now); got != s.due {
					t.Errorf("step %d: Due(+%ds) = %v, want %v", i, s.at, got, s.due)
				}
				if s.attempt != "" {
					r := Result{Success: s.attempt == "ok", Message: s.attempt}
					if got := w.Observe(now, r); got != s.changed {
						t.Errorf("step %d: Observe(+%ds, %s) changed = %v, want %v", i, s.at, s.attempt, got, s.changed)
					}
				}
				if w.Healthy() != s.healthy || w.Failed() != s.failed {
					t.Errorf("step %d (+%ds): Healthy %v Failed %v (state %v), want %v %v", i, s.at, w.Healthy(), w.Failed(), w.State(), s.healthy, s.failed)
				}
			}
		})
	}
}

func TestWorkerNext(t *testing.T) {
	w := NewWorker(Liveness, &corev1.Probe{InitialDelaySeconds: 5, PeriodSeconds: 3, FailureThreshold: 1}, t0)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	for _, tc := range []struct {
		now  time.Time
		want time.Time
	}{
		{at(0), at(5)},
		{at(7), at(7)}, // overdue: now
	} {
		if got := w.Next(tc.now); !got.Equal(tc.want) {
			t.Errorf("Next(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
	w.Observe(at(7), Result{Success: true})
	if got := w.Next(at(7)); !got.Equal(at(10)) {
		t.Errorf("after an attempt at +7s Next = %v, want +10s", got)
	}
	w.Observe(at(10), Result{Message: "HTTP probe failed with statuscode: 503"})
	if got := w.Next(at(10)); !got.IsZero() || w.Last().Message != "HTTP probe failed with statuscode: 503" {
		t.Errorf("after liveness failed: Next = %v, Last = %+v, want the zero time and the failure", got, w.Last())
	}
}

func TestStarted(t *testing.T) {
	startup := NewWorker(Startup, &corev1.Probe{}, t0)
	if !Started(nil) || Started(startup) {
		t.Fatalf("Started(nil) = %v, Started(new startup) = %v; want true, false", Started(nil), Started(startup))
	}
	startup.Observe(t0, Result{Success: true})
	if !Started(startup) {
		t.Errorf("Started after a startup success = false")
	}
}
