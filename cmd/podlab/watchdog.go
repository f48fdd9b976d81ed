package main

import (
	"context"
	"fmt"
	"os"

	"podlab.dev/podlab/events"
	"podlab.dev/podlab/state"
)

// ensureSupervisor restarts the lab's supervisor when it is not running (killed, or
// the machine's processes were cleaned up) and deploy has finished: the new one
// re-adopts the lab from its store and the kernel, with no object lost. A deploy or
// destroy in progress holds the lab's lock: then nothing is restarted.
func ensureSupervisor(ctx context.Context, dir state.Dir) error {
	if !dir.Exists() || dir.SupervisorAlive(dir.SupervisorPID()) {
		return nil
	}
	unlock, err := dir.Lock()
	if err != nil {
		return nil // deploy or destroy is at work on the lab
	}
	defer unlock()
	if !dir.Exists() || dir.SupervisorAlive(dir.SupervisorPID()) {
		return nil
	}
	evs, err := events.Read(dir.DeployEvents())
	if err != nil {
		return nil
	}
	finished := false
	for _, e := range evs {
		finished = finished || e.Type == events.DeployFinished
	}
	if !finished {
		return nil // a deploy that crashed: destroy or deploy again cleans it up
	}
	if err := startSupervisor(ctx, dir); err != nil {
		return fmt.Errorf("the supervisor of lab %q was not running and did not restart: %w", dir.Lab, err)
	}
	fmt.Fprintf(os.Stderr, "podlab: the supervisor of lab %s was not running; restarted it (pid %d), resuming the lab from its store\n", dir.Lab, dir.SupervisorPID())
	return nil
}
