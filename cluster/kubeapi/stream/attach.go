package stream

import (
	"context"
	"io"

	"k8s.io/client-go/tools/remotecommand"
)

// AttachByExec serves pods/attach by starting the container's own command as an
// exec: podlab's pods have no process of their own whose terminal could be
// attached, and `kubectl run -it --rm debug --image=busybox -- sh` wants one. Each
// attach starts the command anew.
type AttachByExec struct {
	Executor
	// Command is what the container runs (its command and args); empty means a
	// shell, as most images run by default in a tutorial's kubectl run.
	Command func(ctx context.Context, namespace, pod, container string) ([]string, error)
}

func (a AttachByExec) Exec(ctx context.Context, namespace, pod, container string, cmd []string, in io.Reader, out, errOut io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	if cmd == nil {
		var err error
		if cmd, err = a.Command(ctx, namespace, pod, container); err != nil {
			return err
		}
		if len(cmd) == 0 {
			cmd = []string{"sh"}
		}
	}
	return a.Executor.Exec(ctx, namespace, pod, container, cmd, in, out, errOut, tty, resize)
}
