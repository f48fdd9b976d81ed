package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// h1 sends plain-HTTP/1.1 requests to endpoints on the calling goroutine: one write,
// one read, over pooled keep-alive connections. http.Transport spends two goroutines
// and their hand-offs per connection (its readLoop and writeLoop), which is most of
// what a small proxied request costs; this keeps ReverseProxy and drops those.
// HTTPS endpoints and upgrades still go through http.Transport (next).
type h1 struct {
	dial        func(ctx context.Context, network, addr string) (net.Conn, error)
	next        http.RoundTripper
	maxIdle     int
	idleTimeout time.Duration
	respTimeout time.Duration

	mu     sync.Mutex
	idle   map[string][]*h1Conn // by endpoint, most recently used last
	sweep  *time.Timer          // closes expired idle connections while there are some
	closed bool
}

type h1Conn struct {
	t      *h1
	key    string
	c      net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

var errH1Closed = errors.New("connection pool closed")

func (t *h1) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" || req.Header.Get("Upgrade") != "" {
		return t.next.RoundTrip(req)
	}
	for attempt := 0; ; attempt++ {
		pc, reused, err := t.conn(req.Context(), req.URL.Host)
		if err != nil {
			return nil, err
		}
		resp, err := pc.roundTrip(req)
		if err == nil {
			return resp, nil
		}
		pc.c.Close()
		// A kept-alive connection the endpoint closed meanwhile fails before any
		// answer: send again on a new one, as http.Transport does, when the request
		// can be sent again.
		if !reused || attempt > 0 || (req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) || req.Context().Err() != nil {
			return nil, err
		}
		if req.GetBody != nil {
			if req.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

// conn is an idle connection to addr, or a new one.
func (t *h1) conn(ctx context.Context, addr string) (*h1Conn, bool, error) {
	now := time.Now()
	t.mu.Lock()
	for l := t.idle[addr]; len(l) > 0; l = t.idle[addr] {
		pc := l[len(l)-1]
		t.idle[addr] = l[:len(l)-1]
		if now.Sub(pc.idleAt) < t.idleTimeout {
			t.mu.Unlock()
			return pc, true, nil
		}
		pc.c.Close()
	}
	t.mu.Unlock()
	c, err := t.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return &h1Conn{t: t, key: addr, c: c, br: bufio.NewReaderSize(c, 4096), bw: bufio.NewWriterSize(c, 4096)}, false, nil
}

// put keeps pc for the next request to its endpoint, or closes it.
func (t *h1) put(pc *h1Conn) {
	pc.idleAt = time.Now()
	t.mu.Lock()
	if !t.closed && len(t.idle[pc.key]) < t.maxIdle {
		t.idle[pc.key] = append(t.idle[pc.key], pc)
		pc = nil
		if t.sweep == nil {
			t.sweep = time.AfterFunc(t.idleTimeout, t.expire)
		}
	}
	t.mu.Unlock()
	if pc != nil {
		pc.c.Close()
	}
}

// expire closes the connections idle for longer than idleTimeout (those to
// endpoints gone from the table among them), and comes back while any are left.
func (t *h1) expire() {
	now := time.Now()
	var old []*h1Conn
	t.mu.Lock()
	for key, l := range t.idle {
		keep := l[:0]
		for _, pc := range l {
			if now.Sub(pc.idleAt) >= t.idleTimeout {
				old = append(old, pc)
			} else {
				keep = append(keep, pc)
			}
		}
		if len(keep) == 0 {
			delete(t.idle, key)
		} else {
			t.idle[key] = keep
		}
	}
	t.sweep = nil
	if len(t.idle) > 0 && !t.closed {
		t.sweep = time.AfterFunc(t.idleTimeout/2, t.expire)
	}
	t.mu.Unlock()
	for _, pc := range old {
		pc.c.Close()
	}
}

// close closes every pooled connection and pools none from now on.
func (t *h1) close() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*h1Conn{}
	t.closed = true
	if t.sweep != nil {
		t.sweep.Stop()
		t.sweep = nil
	}
	t.mu.Unlock()
	for _, l := range idle {
		for _, pc := range l {
			pc.c.Close()
		}
	}
}

func (pc *h1Conn) roundTrip(req *http.Request) (*http.Response, error) {
	// The request's end (client gone, backend timeout) interrupts a blocked read or
	// write through a past deadline; no goroutine waits for it.
	stop := context.AfterFunc(req.Context(), func() { pc.c.SetDeadline(time.Unix(1, 0)) })
	if err := req.Write(pc.bw); err != nil {
		stop()
		return nil, ctxErr(req, err)
	}
	if err := pc.bw.Flush(); err != nil {
		stop()
		return nil, ctxErr(req, err)
	}
	if pc.t.respTimeout > 0 {
		pc.readDeadline(req, time.Now().Add(pc.t.respTimeout))
	}
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			stop()
			return nil, ctxErr(req, err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// 1xx before the answer: skipped, as http.Transport does by default.
	}
	if pc.t.respTimeout > 0 {
		pc.readDeadline(req, time.Time{})
	}
	b := &h1Body{pc: pc, body: resp.Body, stop: stop, reuse: !resp.Close && !req.Close}
	if resp.Body == http.NoBody { // 204, 304, HEAD, Content-Length: 0: done already
		b.finish(true)
		return resp, nil
	}
	resp.Body = b
	return resp, nil
}

// readDeadline sets the read deadline without undoing the past one the request's
// end may have set meanwhile (the AfterFunc in roundTrip): a lost interrupt would
// leave the read blocked until the endpoint answers.
func (pc *h1Conn) readDeadline(req *http.Request, t time.Time) {
	pc.c.SetReadDeadline(t)
	if req.Context().Err() != nil {
		pc.c.SetDeadline(time.Unix(1, 0))
	}
}

// ctxErr prefers the request's own end (the client left, the backend timed out)
// to the deadline error it caused.
func ctxErr(req *http.Request, err error) error {
	if cerr := req.Context().Err(); cerr != nil {
		return cerr
	}
	return err
}

// h1Body gives the connection back when the answer's body has been read to its end,
// and closes it when the body is abandoned half-way.
type h1Body struct {
	pc    *h1Conn
	body  io.ReadCloser
	stop  func() bool
	reuse bool
	done  bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	n, err := b.body.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *h1Body) Close() error {
	if !b.done {
		b.finish(false)
	}
	return nil
}

func (b *h1Body) finish(eof bool) {
	b.done = true
	stopped := b.stop() // false: the deadline was set, the connection is spoiled
	if eof && stopped && b.reuse {
		b.pc.t.put(b.pc)
		return
	}
	b.pc.c.Close()
}
