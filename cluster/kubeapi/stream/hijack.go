package stream

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
)

// hijackWatcher is the ResponseWriter the upgrades are given: it tells when the
// hijacked connection fails to read, that is when the client is gone, which
// wsstream does not say and a hijacked request's context does not either.
type hijackWatcher struct {
	http.ResponseWriter
	gone chan bool
	once sync.Once
}

func watchHijack(w http.ResponseWriter) *hijackWatcher {
	return &hijackWatcher{ResponseWriter: w, gone: make(chan bool)}
}

func (h *hijackWatcher) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	wc := &watchedConn{Conn: c, h: h}
	// The buffered reader may hold bytes already read: those first, then the
	// watched connection.
	buffered, _ := rw.Reader.Peek(rw.Reader.Buffered())
	rw.Reader = bufio.NewReader(io.MultiReader(bytes.NewReader(bytes.Clone(buffered)), wc))
	return wc, rw, nil
}

type watchedConn struct {
	net.Conn
	h *hijackWatcher
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.h.once.Do(func() { close(c.h.gone) })
	}
	return n, err
}
