package proxy

import (
	"net/http"
	"strconv"
	"sync"
)

// pages are the answers a frontend gives itself: the ingress controller's look like
// nginx's error pages, a Gateway's like Envoy's short plain bodies.
type pages struct {
	contentType string
	body        func(status int) []byte
	cache       sync.Map // status -> []byte
}

var nginxPages = pages{contentType: "text/html", body: func(status int) []byte {
	title := strconv.Itoa(status) + " " + statusText(status)
	return []byte("<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title +
		"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
}}

var envoyPages = pages{contentType: "text/plain", body: func(status int) []byte {
	switch status {
	case http.StatusServiceUnavailable:
		return []byte("no healthy upstream")
	case http.StatusBadGateway:
		return []byte("upstream connect error or disconnect/reset before headers. reset reason: connection failure")
	case http.StatusGatewayTimeout:
		return []byte("upstream request timeout")
	}
	return nil // 404, 500, redirects: Envoy sends no body
}}

func (p *pages) get(status int) []byte {
	if b, ok := p.cache.Load(status); ok {
		return b.([]byte)
	}
	b := p.body(status)
	p.cache.Store(status, b)
	return b
}

// statusText is nginx's reason phrase where it differs from net/http's.
func statusText(status int) string {
	switch status {
	case 499:
		return "Client Closed Request"
	case http.StatusServiceUnavailable:
		return "Service Temporarily Unavailable"
	case http.StatusGatewayTimeout:
		return "Gateway Time-out"
	case http.StatusFound:
		return "Moved Temporarily"
	}
	return http.StatusText(status)
}

// answer is the frontend's own answer with status (499: the client is gone,
// nothing is written, only logged).
func (h *handler) answer(rec *recorder, status int) {
	if status == 499 {
		rec.status = 499
		return
	}
	body := h.pages.get(status)
	hd := rec.Header()
	if len(body) > 0 {
		hd["Content-Type"] = []string{h.pages.contentType}
		hd["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	rec.WriteHeader(status)
	if len(body) > 0 {
		rec.Write(body)
	}
}
