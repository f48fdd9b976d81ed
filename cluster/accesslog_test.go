package cluster

import (
	"context"
	"testing"
	"time"

	"podlab.dev/podlab/cluster/api"
	"podlab.dev/podlab/cluster/ingress"
	"podlab.dev/podlab/cluster/ingress/proxy"
	"podlab.dev/podlab/cluster/ingress/table"
)

// The TUI's :ingress view reads every proxy pod's access log through the API, newest
// first, with the rule and backend as text and the client as the lab names it.
func TestAPIAccessLog(t *testing.T) {
	s := newSupervisor(t)
	serve(t, s)
	c := api.NewClient(s.dir)
	if es, err := c.AccessLog(context.Background(), 10); err != nil || len(es) != 0 {
		t.Fatalf("no ingress controller: %+v %v, want none", es, err)
	}
	s.ingress = ingress.New(s.store, nil, nil)
	log := s.ingress.Log()
	log.Add(proxy.Entry{Time: t0, Frontend: table.FrontendIngress, Pod: "podlab-ingress/controller-a", Listener: "http",
		Client: "172.30.0.100:51234", Method: "GET", Host: "web.example", Path: "/api?x=1", Proto: "HTTP/1.1",
		Status: 200, BytesSent: 612, Duration: 2500 * time.Microsecond,
		Matched:   table.Source{Kind: "Ingress", Namespace: "default", Name: "web", Rule: 0, Match: 1},
		Namespace: "default", Service: "web", ServicePort: 80, Upstream: "10.244.1.2:80", UpstreamStatus: 200})
	log.Add(proxy.Entry{Time: t0.Add(time.Second), Frontend: table.FrontendGateway("infra", "gw"), Pod: "podlab-gateway-system/gw-b",
		Listener: "web", Client: "10.9.9.9:4000", Method: "POST", Host: "nosuch.example", Path: "/", Proto: "HTTP/2.0", Status: 404})
	log.Add(proxy.Entry{Time: t0.Add(2 * time.Second), Frontend: table.FrontendGateway("infra", "gw"), Pod: "podlab-gateway-system/gw-b",
		Listener: "web", Client: "172.30.0.11:1", Method: "GET", Host: "api.example", Path: "/v2", Proto: "HTTP/1.1", Status: 502,
		Matched:   table.Source{Kind: "HTTPRoute", Namespace: "ns", Name: "r", Rule: 2, Match: 0},
		Namespace: "ns", Service: "api", ServicePort: 8080, Upstream: "10.244.2.7:8080"})

	es, err := c.AccessLog(context.Background(), 10)
	if err != nil || len(es) != 3 {
		t.Fatalf("AccessLog: %d entries, %v; want 3", len(es), err)
	}
	want := []api.AccessEntry{{
		Time: t0.Add(2 * time.Second), Pod: "podlab-gateway-system/gw-b", Frontend: "gateway/infra/gw", Listener: "web",
		Client: "172.30.0.11:1", Method: "GET", Host: "api.example", Path: "/v2", Proto: "HTTP/1.1", Status: 502,
		Matched: "HTTPRoute/ns/r rules[2].matches[0]", Backend: "ns/api:8080", Upstream: "10.244.2.7:8080",
		From: api.ObjectRef{Kind: "Node", Name: "w1"},
	}, {
		Time: t0.Add(time.Second), Pod: "podlab-gateway-system/gw-b", Frontend: "gateway/infra/gw", Listener: "web",
		Client: "10.9.9.9:4000", Method: "POST", Host: "nosuch.example", Path: "/", Proto: "HTTP/2.0", Status: 404,
	}, {
		Time: t0, Pod: "podlab-ingress/controller-a", Frontend: "ingress", Listener: "http",
		Client: "172.30.0.100:51234", Method: "GET", Host: "web.example", Path: "/api?x=1", Proto: "HTTP/1.1",
		Status: 200, Bytes: 612, DurationMs: 2.5, Matched: "Ingress/default/web rules[0].paths[1]", Backend: "default/web:80",
		Upstream: "10.244.1.2:80", UpstreamStatus: 200, From: api.ObjectRef{Kind: "Host", Name: "client"},
	}}
	for i := range want {
		if es[i] != want[i] {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, es[i], want[i])
		}
	}
	if es, err := c.AccessLog(context.Background(), 1); err != nil || len(es) != 1 || es[0].Status != 502 {
		t.Errorf("limit 1: %+v %v, want the newest", es, err)
	}
	for ms, want := range map[float64]string{0.212: "0.21ms", 2.5: "2.5ms", 120: "120ms", 25000: "25.0s"} {
		if got := (api.AccessEntry{DurationMs: ms}).Duration(); got != want {
			t.Errorf("Duration(%vms) = %q, want %q", ms, got, want)
		}
	}
}
