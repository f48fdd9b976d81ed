package workload

import (
	"io"
	"net"
	"net/http/httptest"
	"testing"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler("web-1"))
	t.Cleanup(srv.Close)
	for path, want := range map[string]string{"/": "web-1", "/hostname": "web-1", "/echo?msg=hi": "hi", "/healthz": "ok"} {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != want {
			t.Errorf("GET %s = %q, want %q", path, b, want)
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/clientip")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if host, _, err := net.SplitHostPort(string(b)); err != nil || host != "127.0.0.1" {
		t.Errorf("/clientip = %q, want 127.0.0.1:PORT", b)
	}
	resp, _ = srv.Client().Get(srv.URL + "/nope")
	if resp.StatusCode != 404 {
		t.Errorf("/nope status %d, want 404", resp.StatusCode)
	}
}

func TestReply(t *testing.T) {
	peer := &net.UDPAddr{IP: net.IPv4(10, 244, 1, 2), Port: 4000}
	for msg, want := range map[string]string{"hostname": "web-1", "hostname\n": "web-1", "clientip": "10.244.1.2:4000", "echo hi": "hi", "other": "other"} {
		if got := Reply("web-1", msg, peer); got != want {
			t.Errorf("Reply(%q) = %q, want %q", msg, got, want)
		}
	}
}
