package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"time"

	"github.com/spf13/cobra"

	"podlab.dev/podlab/state"
)

// dialSupervisor opens and closes a lab's supervisor socket; tests replace it to
// play a user the socket refuses (root may open any socket).
var dialSupervisor = func(path string) error {
	c, err := net.DialTimeout("unix", path, 2*time.Second)
	if err == nil {
		c.Close()
	}
	return err
}

// supervisorAccess refuses when this user may not open the lab's supervisor socket,
// which is root's. Without it the API client takes the refusal for a supervisor that
// is gone, and a user would be told to destroy a healthy lab.
func supervisorAccess(cmd *cobra.Command, dir state.Dir) error {
	if err := dialSupervisor(dir.Socket()); !errors.Is(err, fs.ErrPermission) {
		return nil
	}
	lab := "the lab is not affected"
	if !dir.SupervisorAlive(dir.SupervisorPID()) {
		lab = "as root, podlab also restarts the supervisor, which is not running"
	}
	return fmt.Errorf("%s needs root: the supervisor socket of lab %s (%s) is open to root only; %s\n  hint: run it with sudo: sudo %s ...",
		cmd.CommandPath(), dir.Lab, dir.Socket(), lab, cmd.CommandPath())
}
