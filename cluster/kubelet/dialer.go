package kubelet

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"sync"

	vnetns "github.com/vishvananda/netns"
)

// dialersPerNode bounds how many connections to one node's pods are being opened at
// once; a pod that does not answer holds one of them up to its probe's timeout.
const dialersPerNode = 4

// nodeDialer opens connections from inside one node's namespace, as kubelet's probes
// come from the node. Its goroutines stay locked to OS threads switched into the
// node's namespace for their whole life, so a probe costs a connect, not a namespace
// switch and back (the switch's syscalls were most of a probe's cost).
type nodeDialer struct {
	reqs chan dialReq
}

type dialReq struct {
	ctx           context.Context
	network, addr string
	reply         chan dialRes
}

type dialRes struct {
	c   net.Conn
	err error
}

// startDialer starts the dialers of the node whose namespace is at path; they end
// with ctx, and their threads with them (a locked goroutine's thread exits with it,
// never returning to the pool in a foreign namespace).
func startDialer(ctx context.Context, path string) (*nodeDialer, error) {
	h, err := vnetns.GetFromPath(path)
	if err != nil {
		return nil, err
	}
	d := &nodeDialer{reqs: make(chan dialReq)}
	var wg sync.WaitGroup
	errs := make(chan error, dialersPerNode)
	for range dialersPerNode {
		wg.Add(1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			err := vnetns.Set(h)
			errs <- err
			wg.Done()
			if err != nil {
				return
			}
			for {
				select {
				case <-ctx.Done():
					return
				case r := <-d.reqs:
					var dd net.Dialer
					c, err := dd.DialContext(r.ctx, r.network, r.addr)
					r.reply <- dialRes{c, err}
				}
			}
		}()
	}
	wg.Wait()
	h.Close()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, fmt.Errorf("enter namespace %s: %w", path, err)
		}
	}
	return d, nil
}

// dial opens a connection from the node.
func (d *nodeDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	reply := make(chan dialRes, 1)
	select {
	case d.reqs <- dialReq{ctx, network, addr, reply}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-reply:
		return r.c, r.err
	case <-ctx.Done():
		go func() { // the dialer still answers: close what it opened late
			if r := <-reply; r.c != nil {
				r.c.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// nodeDialer returns node n's dialer, starting it on first use.
func (k *Kubelet) nodeDialer(n *Node) (*nodeDialer, error) {
	k.handleMu.Lock()
	defer k.handleMu.Unlock()
	if d, ok := k.dialers[n.Name]; ok {
		return d, nil
	}
	d, err := startDialer(k.runCtx, n.Netns)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", n.Name, err)
	}
	k.dialers[n.Name] = d
	return d, nil
}
