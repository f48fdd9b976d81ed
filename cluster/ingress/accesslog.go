package ingress

import (
	"sync"

	"podlab.dev/podlab/cluster/ingress/proxy"
)

// AccessLog keeps the last requests each proxy pod served, for `podlab logs` on a
// controller pod and the TUI. Add is on the proxy's hot path: one lock and a copy
// into a fixed ring, no formatting (Entry.String formats when the log is read).
type AccessLog struct {
	size  int
	mu    sync.RWMutex
	rings map[string]*accessRing
}

type accessRing struct {
	mu   sync.Mutex
	buf  []proxy.Entry
	next int
	seq  uint64 // entries ever added
}

// NewAccessLog keeps size entries per pod.
func NewAccessLog(size int) *AccessLog {
	return &AccessLog{size: size, rings: map[string]*accessRing{}}
}

func (l *AccessLog) ring(pod string) *accessRing {
	l.mu.RLock()
	r := l.rings[pod]
	l.mu.RUnlock()
	if r != nil {
		return r
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if r = l.rings[pod]; r == nil {
		r = &accessRing{}
		l.rings[pod] = r
	}
	return r
}

// Add records one request: proxy.Options.Log.
func (l *AccessLog) Add(e proxy.Entry) {
	r := l.ring(e.Pod)
	r.mu.Lock()
	if len(r.buf) < l.size {
		r.buf = append(r.buf, e)
	} else {
		r.buf[r.next] = e
		r.next = (r.next + 1) % l.size
	}
	r.seq++
	r.mu.Unlock()
}

// Entries are pod's requests (namespace/name), oldest first, and how many were ever
// added (a follower asks again for those after its last count).
func (l *AccessLog) Entries(pod string) ([]proxy.Entry, uint64) {
	l.mu.RLock()
	r := l.rings[pod]
	l.mu.RUnlock()
	if r == nil {
		return nil, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]proxy.Entry, 0, len(r.buf))
	out = append(out, r.buf[r.next:]...)
	out = append(out, r.buf[:r.next]...)
	return out, r.seq
}

// All is every pod's last requests, oldest first, at most limit (the TUI's view).
func (l *AccessLog) All(limit int) []proxy.Entry {
	l.mu.RLock()
	pods := make([]string, 0, len(l.rings))
	for p := range l.rings {
		pods = append(pods, p)
	}
	l.mu.RUnlock()
	var out []proxy.Entry
	for _, p := range pods {
		es, _ := l.Entries(p)
		out = append(out, es...)
	}
	sortByTime(out)
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
}
