package probe

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// The kinds of probe, as NewWorker takes them.
const (
	Readiness = "readiness"
	Liveness  = "liveness"
	Startup   = "startup"
)

// State is a probe's verdict so far.
type State int

const (
	Unknown State = iota // a startup probe that has not decided yet
	Success
	Failure
)

func (s State) String() string {
	return [...]string{"Unknown", "Success", "Failure"}[s]
}

// Worker is the state of one probe of one container instance, as the kubelet's prober
// worker keeps it: thresholds, initial delay, period, and the hold after a liveness or
// startup failure. It reads no clock: every call is given the time.
//
// The kubelet makes a new Worker whenever the container (re)starts, with start the
// time it started; the state then begins again, as it does for a new container ID.
// It asks Due, calls Run when it is, and reports the attempt with Observe:
//
//   - readiness starts failed and turns healthy after successThreshold successes;
//   - liveness starts healthy; failureThreshold failures in a row make it Failed: the
//     kubelet restarts the container, and the Worker probes no more;
//   - startup starts Unknown; a success makes it Healthy (the container has started)
//     and it probes no more; failureThreshold failures make it Failed, as liveness.
//
// The startup gate is the kubelet's to keep: while Started(startup) is false it must
// not run the liveness and readiness probes (their initialDelaySeconds still count
// from the container's start, as in the kubelet).
type Worker struct {
	kind   string
	probe  *corev1.Probe
	next   time.Time
	state  State
	last   Result
	run    int // how many attempts in a row gave lastOK
	lastOK bool
	held   bool // failed liveness or startup: nothing more to probe in this container
}

// NewWorker is the Worker for probe p of kind Readiness, Liveness or Startup (any
// other kind is treated as Readiness, which fails safe: not ready until it succeeds)
// of a container started at start.
func NewWorker(kind string, p *corev1.Probe, start time.Time) *Worker {
	if p == nil {
		p = &corev1.Probe{}
	}
	w := &Worker{kind: kind, probe: p, next: start.Add(seconds(p.InitialDelaySeconds, 0))}
	switch kind {
	case Liveness:
		w.state = Success
	case Startup:
		w.state = Unknown
	default:
		w.kind, w.state = Readiness, Failure
	}
	return w
}

// Started says whether a container whose startup probe is startup (nil: none) has
// started, so that its liveness and readiness probes may run.
func Started(startup *Worker) bool {
	return startup == nil || startup.state == Success
}

// Probe is the probe this Worker runs.
func (w *Worker) Probe() *corev1.Probe { return w.probe }

// Kind is Readiness, Liveness or Startup.
func (w *Worker) Kind() string { return w.kind }

// State is the verdict so far.
func (w *Worker) State() State { return w.state }

// Healthy is the verdict as the kubelet uses it: readiness, ready; liveness, not
// failed; startup, started.
func (w *Worker) Healthy() bool {
	if w.kind == Liveness {
		return w.state != Failure
	}
	return w.state == Success
}

// Failed says the probe has failed failureThreshold times in a row: for liveness and
// startup, the container must be restarted.
func (w *Worker) Failed() bool { return w.state == Failure }

// Last is the latest attempt Observe was given.
func (w *Worker) Last() Result { return w.last }

// Due says whether an attempt should start at now.
func (w *Worker) Due(now time.Time) bool {
	return !w.done() && !now.Before(w.next)
}

// Next is when the next attempt is due, no earlier than now; the zero time when this
// Worker will probe no more.
func (w *Worker) Next(now time.Time) time.Time {
	switch {
	case w.done():
		return time.Time{}
	case w.next.Before(now):
		return now
	}
	return w.next
}

// done: a startup probe that has succeeded, or a liveness or startup probe that has
// failed, has nothing more to say about this container.
func (w *Worker) done() bool {
	return w.held || w.kind == Startup && w.state == Success
}

// Observe records an attempt that started at now, schedules the next one a period
// later, and says whether the verdict changed.
func (w *Worker) Observe(now time.Time, r Result) (changed bool) {
	if w.done() {
		return false
	}
	w.last = r
	w.next = now.Add(seconds(w.probe.PeriodSeconds, 10))
	if w.run > 0 && r.Success == w.lastOK {
		w.run++
	} else {
		w.run, w.lastOK = 1, r.Success
	}
	verdict, threshold, def := Failure, w.probe.FailureThreshold, int32(3)
	if r.Success {
		verdict, threshold, def = Success, w.probe.SuccessThreshold, 1
	}
	if threshold <= 0 {
		threshold = def
	}
	if w.run < int(threshold) {
		return false
	}
	changed = w.state != verdict
	w.state = verdict
	if verdict == Failure && w.kind != Readiness {
		w.held = true
	}
	return changed
}
