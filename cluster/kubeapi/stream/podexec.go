package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/tools/remotecommand"
)

// ExitCode is an Executor's error for a command that exited non-zero (128+N for a
// command killed by signal N, as a container runtime reports it).
type ExitCode int

func (c ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// ExitCode makes the code readable through the interface the handler looks for.
func (c ExitCode) ExitCode() int { return int(c) }

// LabExec is podlab's Executor: it runs the podlab binary's own `exec` subcommand
// as a child process with the streams attached (through a pseudo-terminal with
// tty), so kubectl exec and podlab exec find the pod, its network namespace, its
// /etc files and a Docker lab's container the same way.
type LabExec struct {
	Binary   string // the podlab binary; empty means /proc/self/exe
	Lab      string
	StateDir string
	// InContainer is set for a lab of runtime docker: a command is looked up in
	// the pod's container, by its own shell, before it runs.
	InContainer bool
}

// Exec runs cmd in the pod. podlab's pods have one network namespace for all their
// containers, so container is not used.
func (l LabExec) Exec(ctx context.Context, namespace, pod, container string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	if len(cmd) == 0 {
		return errors.New("podlab's pods run no container process to attach to; use `kubectl exec POD -- COMMAND` instead")
	}
	// A missing command is reported as containerd does, not as the exit code 126
	// and message Docker's engine gives or podlab exec's own error.
	if !l.InContainer {
		// A pod in a netns lab sees the machine's files: look here.
		if _, err := exec.LookPath(cmd[0]); err != nil {
			return NotFoundError(cmd[0])
		}
	} else if l.missingInContainer(ctx, namespace, pod, cmd[0]) {
		return NotFoundError(cmd[0])
	}
	c := l.command(ctx, namespace, pod, cmd...)
	if tty {
		c.Env = append(c.Env, "TERM=xterm") // what containerd gives a tty exec
		return runTTY(c, in, out, resize)
	}
	return runPipes(c, in, out, errOut)
}

// missingCode is what the probe's shell exits with for a command it cannot find:
// neither podlab (1, 2), sh (126, 127) nor the engine (125-127) uses it.
const missingCode = 3

// missingInContainer asks the container's own shell whether it can find name;
// false when it has no shell to ask, and the command then just runs.
func (l LabExec) missingInContainer(ctx context.Context, namespace, pod, name string) bool {
	probe := l.command(ctx, namespace, pod, "sh", "-c", `command -v -- "$1" >/dev/null || exit `+strconv.Itoa(missingCode), "sh", name)
	return exitError(probe.Run()) == ExitCode(missingCode)
}

// command is `podlab exec` of cmd in the pod, as a child process.
func (l LabExec) command(ctx context.Context, namespace, pod string, cmd ...string) *exec.Cmd {
	bin := l.Binary
	if bin == "" {
		bin = "/proc/self/exe"
	}
	args := append([]string{"exec", "--name", l.Lab, "--state-dir", l.StateDir, "-n", namespace, pod, "--"}, cmd...)
	c := exec.CommandContext(ctx, bin, args...)
	c.Env = os.Environ()
	return c
}

// runPipes runs c with plain pipes: stdin's EOF closes the command's stdin, and the
// command's exit ends the exec even when the client keeps stdin open.
func runPipes(c *exec.Cmd, in io.Reader, out, errOut io.Writer) error {
	c.Stdout, c.Stderr = out, errOut
	// A background process keeping stdout open must not hold the exec forever.
	c.WaitDelay = 2 * time.Second
	var stdin io.WriteCloser
	if in != nil {
		var err error
		if stdin, err = c.StdinPipe(); err != nil {
			return err
		}
	}
	if err := c.Start(); err != nil {
		return err
	}
	if stdin != nil {
		go func() {
			io.Copy(stdin, in)
			stdin.Close()
		}()
	}
	return exitError(c.Wait())
}

// runTTY runs c on a new pseudo-terminal, its session's controlling terminal,
// applying the client's terminal sizes; the first size is awaited briefly so a
// full-screen program starts with the right one.
func runTTY(c *exec.Cmd, in io.Reader, out io.Writer, resize <-chan remotecommand.TerminalSize) error {
	pty, tty, err := openPTY()
	if err != nil {
		return fmt.Errorf("open a pseudo-terminal: %w", err)
	}
	defer pty.Close()
	if resize != nil {
		select {
		case s, ok := <-resize:
			if ok {
				setSize(pty, s)
			}
		case <-time.After(3 * time.Second): // kubectl sends it at once; a loaded machine delays it
		}
	}
	c.Stdin, c.Stdout, c.Stderr = tty, tty, tty
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = c.Start()
	tty.Close() // the child has its copy; EOF on pty needs the last one closed
	if err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s, ok := <-resize:
				if !ok {
					return
				}
				setSize(pty, s)
			case <-done:
				return
			}
		}
	}()
	if in != nil {
		go func() {
			io.Copy(pty, in)
			// A terminal has no half-close: end of input is ^D, as a typed one.
			pty.Write([]byte{4})
		}()
	}
	copied := make(chan struct{})
	go func() {
		io.Copy(out, pty) // ends with EIO once no process has the terminal open
		close(copied)
	}()
	err = exitError(c.Wait())
	select {
	case <-copied:
	case <-time.After(2 * time.Second): // a background process still has the terminal
		pty.SetReadDeadline(time.Now())
		<-copied
	}
	return err
}

// exitError turns a command's exit status into an ExitCode.
func exitError(err error) error {
	if errors.Is(err, exec.ErrWaitDelay) {
		return nil // the command succeeded; a background process kept its output open
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ExitCode(128 + int(ws.Signal()))
	}
	return ExitCode(ee.ExitCode())
}
