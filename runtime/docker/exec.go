package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/versions"
	"golang.org/x/term"
)

// Exec runs argv in the container of the sandbox whose namespace is netnsName,
// through the engine's exec API as `docker exec` does, and returns the command's exit
// code. With a terminal on stdin it allocates a TTY, puts the terminal in raw mode
// (restored before returning) and forwards its size at start and on every change; otherwise stdout
// and stderr come back demultiplexed. etc, when not empty, holds files (by name) to
// write into the container's /etc first, e.g. a pod's resolv.conf and hosts; an image
// whose /etc cannot be written is left as it is.
func (r *Runtime) Exec(ctx context.Context, netnsName string, etc map[string]string, argv []string) (int, error) {
	if err := r.Ping(ctx); err != nil {
		return 0, err
	}
	id, err := r.containerOf(ctx, netnsName)
	if err != nil {
		return 0, err
	}
	if len(etc) > 0 {
		if err := r.writeEtc(ctx, id, etc); err != nil {
			return 0, err
		}
	}

	stdin := int(os.Stdin.Fd())
	tty := term.IsTerminal(stdin)
	opts := client.ExecCreateOptions{
		TTY:          tty,
		AttachStdin:  true,
		AttachStdout: true,
		AttachStderr: true,
		Cmd:          argv,
	}
	var size client.ConsoleSize
	var winch chan os.Signal
	if tty {
		// Listen for size changes before reading the size, so a change between the
		// two (kubectl's first size reaching the terminal podlab exec runs on) is not
		// lost.
		winch = make(chan os.Signal, 1)
		signal.Notify(winch, syscall.SIGWINCH)
		defer signal.Stop(winch)
		if w, h, err := term.GetSize(stdin); err == nil && w > 0 && h > 0 {
			size = client.ConsoleSize{Height: uint(h), Width: uint(w)}
		} else if w, h, err := term.GetSize(int(os.Stdout.Fd())); err == nil && w > 0 && h > 0 {
			size = client.ConsoleSize{Height: uint(h), Width: uint(w)}
		}
		opts.ConsoleSize = size
		if t := os.Getenv("TERM"); t != "" {
			opts.Env = []string{"TERM=" + t}
		}
		opts.Cmd = r.sizedCommand(ctx, id, size, argv)
	}
	created, err := r.cli.ExecCreate(ctx, id, opts)
	if err != nil {
		return 0, fmt.Errorf("exec in container %.12s: %w", id, err)
	}
	att, err := r.cli.ExecAttach(ctx, created.ID, client.ExecAttachOptions{TTY: tty, ConsoleSize: size})
	if err != nil {
		return 0, fmt.Errorf("exec in container %.12s: %w", id, err)
	}
	defer att.Close()

	if tty {
		old, err := term.MakeRaw(stdin)
		if err != nil {
			return 0, fmt.Errorf("terminal raw mode: %w", err)
		}
		defer term.Restore(stdin, old)
		if size.Height > 0 {
			// Older engines ignore the size given at create: set it once more.
			r.cli.ExecResize(ctx, created.ID, client.ExecResizeOptions{Height: size.Height, Width: size.Width})
		}
		stop := r.followResizes(ctx, created.ID, stdin, winch)
		defer stop()
	}

	go func() {
		io.Copy(att.Conn, os.Stdin)
		att.CloseWrite()
	}()
	if tty {
		_, err = io.Copy(os.Stdout, att.Reader)
	} else {
		_, err = stdcopy.StdCopy(os.Stdout, os.Stderr, att.Reader)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("exec in container %.12s: %w", id, err)
	}
	return r.execExitCode(ctx, created.ID)
}

// sizedCommand is argv, or, on an engine that ignores the size given at create
// (API before 1.42, Debian's docker.io 20.10 among them), argv behind a shell that
// sets the terminal's size first: the size sent right after the start reached the
// terminal only after a quick command such as `stty size` had read it. Only when the
// container has /bin/sh (podlab's images do; an image without it keeps the race).
func (r *Runtime) sizedCommand(ctx context.Context, id string, size client.ConsoleSize, argv []string) []string {
	if size.Height == 0 || !versions.LessThan(r.cli.ClientVersion(), "1.42") {
		return argv
	}
	if _, err := r.cli.ContainerStatPath(ctx, id, client.ContainerStatPathOptions{Path: "/bin/sh"}); err != nil {
		return argv
	}
	script := fmt.Sprintf(`stty rows %d cols %d 2>/dev/null; exec "$@"`, size.Height, size.Width)
	return append([]string{"/bin/sh", "-c", script, "sh"}, argv...)
}

// followResizes passes the terminal's new sizes (SIGWINCH on winch) on to the exec, as
// `docker exec -it` does: a resized window, or kubectl's resize events, which the
// API server's exec applies to the pseudo-terminal podlab exec runs on.
func (r *Runtime) followResizes(ctx context.Context, execID string, fd int, winch chan os.Signal) (stop func()) {
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-winch:
				if w, h, err := term.GetSize(fd); err == nil && w > 0 && h > 0 {
					r.cli.ExecResize(ctx, execID, client.ExecResizeOptions{Height: uint(h), Width: uint(w)})
				}
			case <-done:
				return
			}
		}
	}()
	return func() { close(done) }
}

// execExitCode waits briefly for the exec to be reported finished and returns its
// exit code.
func (r *Runtime) execExitCode(ctx context.Context, execID string) (int, error) {
	for i := 0; ; i++ {
		res, err := r.cli.ExecInspect(ctx, execID, client.ExecInspectOptions{})
		if err != nil {
			return 0, fmt.Errorf("exec exit code: %w", err)
		}
		if !res.Running || i >= 100 {
			return res.ExitCode, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// containerOf returns the running container labelled with the namespace name.
func (r *Runtime) containerOf(ctx context.Context, netnsName string) (string, error) {
	cs, err := r.containers(ctx, LabelNetns+"="+netnsName)
	if err != nil {
		return "", err
	}
	var stopped string
	for _, c := range cs {
		if c.Labels[LabelNetns] != netnsName {
			continue
		}
		if c.State == "running" {
			return c.ID, nil
		}
		stopped = strings.TrimPrefix(firstName(c.Names), "/")
	}
	if stopped != "" {
		return "", fmt.Errorf("container %s of namespace %s is not running; redeploy the lab", stopped, netnsName)
	}
	return "", fmt.Errorf("no container holds namespace %s; redeploy the lab", netnsName)
}

func firstName(names []string) string {
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// writeEtc writes files into the container's /etc. The engine bind-mounts its own
// hosts, resolv.conf and hostname over the image's, and an archive cannot replace a
// mount point: those are written in place at their source, the engine's per-container
// file (as the engine itself updates them), when it is on this machine. The others go
// in as one tar archive through the engine's copy API. A read-only root, an /etc that
// is missing or refused is skipped without error: the command then sees the image's
// own files.
func (r *Runtime) writeEtc(ctx context.Context, id string, files map[string]string) error {
	ins, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect container %.12s: %w", id, err)
	}
	c := ins.Container
	if c.HostConfig != nil && c.HostConfig.ReadonlyRootfs {
		return nil
	}
	managed := map[string]string{"hosts": c.HostsPath, "resolv.conf": c.ResolvConfPath, "hostname": c.HostnamePath}
	names := make([]string, 0, len(files))
	for n := range files {
		if src := managed[n]; src != "" && writeInPlace(src, files[n]) {
			continue
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return nil
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Now()
	for _, n := range names {
		body := []byte(files[n])
		if err := tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(body)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	_, err = r.cli.CopyToContainer(ctx, id, client.CopyToContainerOptions{DestinationPath: "/etc", Content: &buf})
	if err == nil || etcNotWritable(err) {
		return nil
	}
	return fmt.Errorf("write /etc of container %.12s: %w", id, err)
}

// writeInPlace overwrites the existing regular file path with text, keeping its inode
// so that a bind mount of it shows the new text; false when there is no such file here.
func writeInPlace(path, text string) bool {
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return false
	}
	_, err = f.WriteString(text)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err == nil
}

// etcNotWritable says the engine refused the copy because of the container's
// filesystem (no /etc, read-only root or volume, permissions), not because it failed.
func etcNotWritable(err error) bool {
	if cerrdefs.IsNotFound(err) || cerrdefs.IsPermissionDenied(err) || cerrdefs.IsInvalidArgument(err) || cerrdefs.IsConflict(err) {
		return true
	}
	msg := strings.ToLower(err.Error())
	for _, s := range []string{"read-only", "read only", "permission denied", "not a directory", "no such file", "resource busy"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
