package proxy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"podlab.dev/podlab/cluster/ingress/table"
)

// maxMirrorBody is the largest request body copied to a mirror; a request with a
// larger or unknown-length body is not mirrored, so a mirror never holds an upload.
const maxMirrorBody = 1 << 20

// mirrorTimeout bounds a mirror request, whose answer nobody waits for.
const mirrorTimeout = 10 * time.Second

// mirror sends a copy of r, as it is at this filter, to one endpoint of f.Mirror and
// forgets it: the copy waits for no one, and is dropped when MaxMirrors are already
// in flight or the proxy is closing.
func (h *handler) mirror(r *http.Request, f *table.Filter) {
	m := f.Mirror
	if m == nil || len(m.Endpoints) == 0 || m.Status != 0 || f.Percent <= 0 {
		return
	}
	if f.Percent < 100 && rand.Float64()*100 >= f.Percent {
		return
	}
	var body []byte
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		if r.ContentLength < 0 || r.ContentLength > maxMirrorBody {
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, r.ContentLength))
		if err != nil {
			return
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b)) // the real request still sends it
	}
	p := h.p
	select {
	case p.mirrors <- struct{}{}:
	default:
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.mirrors
		return
	}
	p.wg.Add(1)
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(p.ctx, mirrorTimeout)
	out := r.Clone(ctx)
	out.RequestURI = ""
	out.Body = http.NoBody
	if body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	ep := m.Endpoints[rand.IntN(len(m.Endpoints))]
	out.URL.Scheme = "http"
	if m.Protocol == "HTTPS" {
		out.URL.Scheme = "https"
	}
	out.URL.Host = ep.String()
	out.Close = false
	go func() {
		defer func() {
			if v := recover(); v != nil {
				p.errorf(fmt.Errorf("ingress proxy: panic mirroring to %s: %v", out.URL.Host, v))
			}
			cancel()
			<-p.mirrors
			p.wg.Done()
		}()
		resp, err := h.fwd.transport.RoundTrip(out)
		if err != nil {
			return
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxMirrorBody))
		resp.Body.Close()
	}()
}
