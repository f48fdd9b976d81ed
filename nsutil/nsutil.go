// Package nsutil runs code inside a network namespace on a locked OS thread. It owns
// nothing: it only switches the calling thread and switches it back.
package nsutil

import (
	"fmt"
	"runtime"

	"github.com/vishvananda/netns"
)

// Do runs fn with the calling goroutine locked to a thread whose network namespace is
// the one at path, then returns the thread to its namespace. If the thread cannot be
// switched back it stays locked, so the Go runtime retires it instead of reusing a
// thread in the wrong namespace. fn must not start goroutines that expect the namespace.
func Do(path string, fn func() error) error {
	target, err := netns.GetFromPath(path)
	if err != nil {
		return fmt.Errorf("open network namespace %s: %w", path, err)
	}
	defer target.Close()
	return DoHandle(target, fn)
}

// DoHandle is Do for an already open namespace handle.
func DoHandle(target netns.NsHandle, fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("read current network namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter network namespace: %w", err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime will terminate it with the goroutine.
		return fmt.Errorf("return from network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	return ferr
}
